"""check: everything that can be wrong with loaded sources, returned as problems (never printed).

Structural problems (YAML, types, keys, ids) are found by load; this stage checks what needs the
whole deck or other inputs: figure names, raw HTML that the sanitiser would drop, and every
formula through MathJax 3 as Anki runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from .macros import Macro, MacroError
from .markdown_math import (
    collect_formulas,
    list_depths,
    unsafe_html_written,
)
from .model import KINDS, Card, Deck
from .phone_budget import PhoneBudget
from .problems import Location, Problem, did_you_mean
from .records import Record

# The checks' own code: a change to a rule (the phone budget, say) checks every card again (the
# build's cache of checked cards, builder/memo.py); the kinds say which keys are Markdown, and
# markdown_math.MARKDOWN_SOURCES covers the conversion itself.
CHECKS_SOURCES = (
    "check.py",
    "html_audit.py",
    "check_math.py",
    "phone_budget.py",
    "model.py",
    "kinds.py",
    "card_kind.py",
)
# Only fields that can hold HTML, links, display math, math delimiters outside $...$ (`\\(`) or
# entities (`&#92;(`) need Markdown's output for the HTML audit.
AUDIT_MARKERS = ("<", "](", "]:", "$$", "\\\\", "&")
# arithmatex takes $...$, $$...$$ and also \(...\), \[...\] and \begin{env}...\end{env} as math:
# a field with a backslash may hold a formula without any dollar sign.
MATH_MARKERS = ("$", "\\")
# The markers above as patterns: one search a field, not one `in` a marker (60,000 fields).
_AUDIT = re.compile("|".join(map(re.escape, AUDIT_MARKERS)))
_MATH = re.compile("|".join(map(re.escape, MATH_MARKERS)))
_EITHER = re.compile("|".join(map(re.escape, MATH_MARKERS + AUDIT_MARKERS)))
# The delimiters Anki's MathJax looks for in a card's text (anki-facts.md: only these).
MATHJAX_DELIMITERS = ("\\(", "\\[")


def check_deck(
    deck: Deck, figure_names: set[str], facts: list[tuple[FieldFacts, ...] | None] | None = None
) -> list[Problem]:
    problems: list[Problem] = []
    problems += check_figures(deck, figure_names)
    problems += check_markdown_output(deck, facts)
    problems += check_code_width(deck)
    problems += check_description(deck)
    return sorted(problems)


def check_description(deck: Deck) -> list[Problem]:
    """The deck's description (shown on its overview screen) passes the same sanitiser as the
    notes: say what it would remove."""
    config = deck.config
    if not any(marker in config.description for marker in AUDIT_MARKERS):
        return []
    facts = field_facts("description", config.description, config.macros)
    where = config.description_location or config.location
    return [
        Problem(where, f"'description' has raw HTML that is not allowed: {what} would be removed")
        for what in facts.removed or ()
    ]


def check_code_width(deck: Deck) -> list[Problem]:
    """Code lines a phone's code box cannot show whole (phone_budget.PhoneBudget)."""
    budget = PhoneBudget(deck.config.phone_width)
    columns = budget.code_columns
    # The longest line's length bounds its stripped length: most code cards fit, told without
    # their location or a look at each line (0.06 s of a 20,000-card edit otherwise).
    return [
        problem
        for card in deck.cards
        if "code" in card.text
        and max(map(len, card.text["code"].splitlines()), default=0) > columns
        for problem in budget.code_problems(_code_location(card), card.id, card.text["code"])
    ]


def _code_location(card: Card) -> Location:
    """Where the code's line 1 is: the code_file itself, or the line after `code: |`."""
    if card.code_file:
        return Location(card.location.file.parent / card.code_file, 1)
    where = card.text_locations["code"]
    return Location(where.file, where.line + 1)


# ---------------------------------------------------------------- Markdown's output, once per field


class FieldFacts(Record):
    """What Markdown makes of one field, as far as the checks need it."""

    __slots__ = field_names = (
        "key",
        "removed",
        "misplaced_display_math",
        "formulas",
        "macro_error",
        "list_depths",
        "stray_delimiters",
    )
    key: Final[str]
    # what the sanitiser would drop; None if the field needs no audit
    removed: Final[tuple[str, ...] | None]
    misplaced_display_math: Final[bool]  # `$$` that arithmatex did not take as display math
    # (TeX, display?) as the note carries them; None without `$`
    formulas: Final[tuple[tuple[str, bool], ...] | None]
    macro_error: Final[str | None]  # a deck macro used wrongly: no formulas then
    # per formula, how many list items it sits in: each indents it, leaving less of the phone's
    # width
    list_depths: Final[tuple[int, ...]]
    # `\(` or `\[` in prose (from `\\(` or `&#92;(`): Anki's MathJax would typeset what
    # follows, unchecked
    stray_delimiters: Final[tuple[str, ...]]

    def __init__(
        self,
        key: str,
        removed: tuple[str, ...] | None,
        misplaced_display_math: bool,
        formulas: tuple[tuple[str, bool], ...] | None,
        macro_error: str | None = None,
        list_depths: tuple[int, ...] = (),
        stray_delimiters: tuple[str, ...] = (),
    ) -> None:
        self.key = key
        self.removed = removed
        self.misplaced_display_math = misplaced_display_math
        self.formulas = formulas
        self.macro_error = macro_error
        self.list_depths = list_depths
        self.stray_delimiters = stray_delimiters


def deck_facts(
    deck: Deck,
    checked_before: list[bool] | None = None,
    on_facts: Callable[[tuple[FieldFacts, ...]], None] | None = None,
) -> list[tuple[FieldFacts, ...] | None]:
    """card_facts for every card, in deck order; None for a card `checked_before` marks (it passed
    every check before, unchanged: nothing to report). `on_facts` sees each card's facts as they
    are made (the MathJax check starts on their formulas meanwhile)."""
    macros = deck.config.macros
    result: list[tuple[FieldFacts, ...] | None] = []
    for index, card in enumerate(deck.cards):
        if checked_before is not None and checked_before[index]:
            result.append(None)
            continue
        facts = card_facts(card, macros)
        if on_facts is not None:
            on_facts(facts)
        result.append(facts)
    return result


def card_facts(card: Card, macros: tuple[Macro, ...]) -> tuple[FieldFacts, ...]:
    facts = []
    for key, text in markdown_sources(card).items():
        if text and _EITHER.search(text):
            facts.append(field_facts(key, text, macros))
    return tuple(facts)


def markdown_sources(card: Card) -> dict[str, str]:
    """Every source text of the card that reaches a note as Markdown, `zh` included: every text
    key of its kind but those the kind lists as not Markdown (kinds.py)."""
    sources = {key: card.text[key] for key in KINDS[card.kind].markdown if key in card.text}
    if card.zh:
        sources["zh"] = card.zh
    return sources


def field_facts(key: str, text: str, macros: tuple[Macro, ...]) -> FieldFacts:
    """One Markdown conversion serves both the HTML audit and the MathJax check."""
    try:
        html, plain = unsafe_html_written(text, macros, False)
    except MacroError as error:
        return FieldFacts(key, None, False, None, str(error))
    removed: tuple[str, ...] | None = None  # None: the field needs no audit
    stray_delimiters: tuple[str, ...] = ()
    misplaced = False
    if _AUDIT.search(text):
        if plain is not None:  # nothing for the audit to find (markdown_math.unsafe_html_written)
            removed = ()
        else:
            removed, misplaced, stray_delimiters = audit_html(text, html)
    formulas: tuple[tuple[str, bool], ...] | None = None
    depths: tuple[int, ...] = ()
    if _MATH.search(text):
        if plain is not None:  # its writer says what the HTML holds
            formulas, depths = plain
        else:
            formulas = tuple(collect_formulas(html, markdown_tags_only="<" not in text))
            depths = tuple(list_depths(html)) if formulas else ()
    return FieldFacts(
        key,
        removed,
        misplaced,
        formulas,
        list_depths=depths if len(depths) == len(formulas or ()) else (),
        stray_delimiters=stray_delimiters,
    )


def audit_html(text: str, html: str) -> tuple[tuple[str, ...], bool, tuple[str, ...]]:
    """What the sanitiser would drop from Markdown's output `html` of `text`, whether a `$$` was
    not taken as display math, and the math delimiters left in prose (FieldFacts)."""
    # here: html.parser (~3 ms to import) is for fields that are not plain (check_field), which
    # an edit of plain fields never has
    from .html_audit import HtmlAudit, emptied_by_comments

    audit = HtmlAudit()
    # Audit Markdown's output: `<` inside math and code is already escaped there.
    audit.feed(html)
    audit.close()
    removed = tuple(dict.fromkeys(emptied_by_comments(text, audit.removed)))
    prose = "".join(audit.prose)
    misplaced = "$$" in prose or "$<span" in "".join(audit.raw_prose)
    return removed, misplaced, tuple(d for d in MATHJAX_DELIMITERS if d in prose)


def check_figures(deck: Deck, figure_names: set[str]) -> list[Problem]:
    problems = []
    for card in deck.cards:
        if card.figure and card.figure not in figure_names:
            close = did_you_mean(card.figure, sorted(figure_names))
            hint = (
                f" (did you mean '{close}'?)"
                if close
                else f"; figures are: {', '.join(sorted(figure_names)) or 'none'}"
            )
            problems.append(
                Problem(
                    card.figure_location or card.location,
                    f"card '{card.id}': unknown figure '{card.figure}'{hint}",
                )
            )
    return problems


def check_markdown_output(
    deck: Deck, facts: list[tuple[FieldFacts, ...] | None] | None = None
) -> list[Problem]:
    """Problems visible only in Markdown's output: raw HTML the sanitiser would drop, `$$`
    that arithmatex did not take as display math (it must stand in a paragraph of its own), and
    math delimiters outside math, which Anki's MathJax would typeset without any check."""
    problems = []
    for card, card_facts_ in zip(
        deck.cards, facts if facts is not None else deck_facts(deck), strict=True
    ):
        for field in card_facts_ or ():
            if field.removed is None:
                continue
            where, label = (
                card.text_locations.get(field.key, card.location),
                f"card '{card.id}': '{field.key}'",
            )
            for what in field.removed:
                problems.append(
                    Problem(
                        where,
                        f"{label} has raw HTML that is not allowed in a note: {what} would be "
                        "removed",
                    )
                )
            if field.misplaced_display_math:
                problems.append(
                    Problem(
                        where,
                        f"{label}: display math $$...$$ must start on a line of its own (inline "
                        "math is $...$)",
                    )
                )
            for delimiter in field.stray_delimiters:
                problems.append(
                    Problem(
                        where,
                        f"{label}: {delimiter} outside $...$ would start math that Anki's MathJax "
                        "typesets unchecked (write math as $...$, or put the text in `code`)",
                    )
                )
    return problems
