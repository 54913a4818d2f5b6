"""check: everything that can be wrong with loaded sources, returned as problems (never printed).

Structural problems (YAML, types, keys, ids) are found by load; this stage checks what needs the
whole deck or other inputs: figure names, raw HTML that the sanitiser would drop, and every
formula through MathJax 3 as Anki runs it.
"""

from __future__ import annotations

import difflib
import html.parser
import re

from .model import Deck
from .problems import Problem
from .render import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, ALLOWED_URL_SCHEMES, markdown_to_unsafe_html

MARKDOWN_KEYS = ("concept", "formula", "explanation", "question", "answer", "followup_question", "followup_answer", "task", "text", "extra")


def check_deck(deck: Deck, figure_names: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    problems += check_figures(deck, figure_names)
    problems += check_markdown_output(deck)
    return sorted(problems)


def check_figures(deck: Deck, figure_names: set[str]) -> list[Problem]:
    problems = []
    for card in deck.cards:
        if card.figure and card.figure not in figure_names:
            close = difflib.get_close_matches(card.figure, sorted(figure_names), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; figures are: {', '.join(sorted(figure_names)) or 'none'}"
            problems.append(Problem(card.figure_location or card.location, f"card '{card.id}': unknown figure '{card.figure}'{hint}"))
    return problems


# ---------------------------------------------------------------- raw HTML


class _HtmlAudit(html.parser.HTMLParser):
    """Lists what the sanitiser (nh3, in render) will drop, so the author is told, not surprised."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.removed: list[str] = []
        self.prose: list[str] = []      # text outside code and math
        self.raw_prose: list[str] = []  # the same with math spans marked, to spot `$` glued to math
        self._skip = 0

    def handle_data(self, data):
        if not self._skip:
            self.prose.append(data)
            self.raw_prose.append(data)

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= 1

    def handle_starttag(self, tag, attrs):
        if self._skip:
            self._skip += 1
        elif tag in ("code", "pre") or "arithmatex" in (dict(attrs).get("class") or "").split():
            self._skip = 1
            self.raw_prose.append("<span")
        if tag not in ALLOWED_TAGS:
            self.removed.append(f"<{tag}> element")
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ALLOWED_ATTRIBUTES["*"]
        for name, value in attrs:
            if name not in allowed:
                self.removed.append(f"'{name}' attribute on <{tag}>")
            elif name in ("href", "src") and value and _scheme(value) not in ALLOWED_URL_SCHEMES | {""}:
                self.removed.append(f"'{_scheme(value)}:' link in <{tag} {name}>")


def _scheme(url: str) -> str:
    match = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


def check_markdown_output(deck: Deck) -> list[Problem]:
    """Problems visible only in Markdown's output: raw HTML the sanitiser would drop, and `$$`
    that arithmatex did not take as display math (it must stand in a paragraph of its own)."""
    problems = []
    for card in deck.cards:
        for key in MARKDOWN_KEYS:
            text = card.text.get(key)
            # Only fields that can hold HTML, links or display math need Markdown's output here.
            if not text or not any(marker in text for marker in ("<", "](", "]:", "$$")):
                continue
            audit = _HtmlAudit()
            # Audit Markdown's output: `<` inside math and code is already escaped there.
            audit.feed(markdown_to_unsafe_html(text, deck.config.macros))
            audit.close()
            where, label = card.text_locations[key], f"card '{card.id}': '{key}'"
            for what in dict.fromkeys(audit.removed):
                problems.append(Problem(where, f"{label} has raw HTML that is not allowed in a note: {what} would be removed"))
            if "$$" in "".join(audit.prose) or "$<span" in "".join(audit.raw_prose):
                problems.append(Problem(where, f"{label}: display math $$...$$ must start on a line of its own (inline math is $...$)"))
    return problems
