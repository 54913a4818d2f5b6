"""Every formula through MathJax 3 as Anki runs it, strictly: a parse error or an undefined macro
is a problem with the card, the field, the TeX and MathJax's own words.

Formulas are taken from Markdown's output (the arithmatex spans), so exactly the TeX that reaches
the note is checked, after Markdown had its say.
"""

from __future__ import annotations

import html
import html.parser

from .macros import Macro, MacroError
from .mathjax import check_tex
from .model import Deck
from .problems import Location, Problem
from .check import MARKDOWN_KEYS
from .render import markdown_to_unsafe_html


class _MathCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.formulas: list[tuple[str, bool]] = []
        self._depth = 0
        self._display = False
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self._depth:
            self._depth += 1
        elif "arithmatex" in (dict(attrs).get("class") or "").split():
            self._depth, self._display, self._buffer = 1, tag == "div", []

    def handle_endtag(self, tag):
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0:
            self.formulas.append((_strip_delimiters("".join(self._buffer)), self._display))

    def handle_data(self, data):
        if self._depth:
            self._buffer.append(data)


def _strip_delimiters(text: str) -> str:
    text = text.strip()
    if text[:2] in ("\\(", "\\[") and text[-2:] in ("\\)", "\\]"):
        return text[2:-2]
    return text


def formulas_in(markdown_text: str, macros: tuple[Macro, ...] = ()) -> list[tuple[str, bool]]:
    """(TeX, display?) for every formula in a Markdown field, as the note will carry it."""
    collector = _MathCollector()
    collector.feed(markdown_to_unsafe_html(markdown_text, macros))
    collector.close()
    return collector.formulas


def check_math(deck: Deck) -> list[Problem]:
    problems: list[Problem] = []
    items: list[tuple[str, bool]] = []
    owners: list[tuple[str, str, Location]] = []
    for card in deck.cards:
        for key in MARKDOWN_KEYS:
            text = card.text.get(key)
            if not text or "$" not in text:
                continue
            try:
                formulas = formulas_in(text, deck.config.macros)
            except MacroError as error:
                problems.append(Problem(card.text_locations[key], f"card '{card.id}', field '{key}': {error}"))
                continue
            for tex, display in formulas:
                items.append((tex, display))
                owners.append((card.id, key, card.text_locations[key]))
    if not items:
        return problems
    for (card_id, key, where), (tex, _), error in zip(owners, items, check_tex(items)):
        if error:
            problems.append(Problem(where, f"card '{card_id}', field '{key}': MathJax: {error} in ${_shorten(tex)}$"))
    return problems


def _shorten(tex: str, limit: int = 120) -> str:
    flat = " ".join(tex.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
