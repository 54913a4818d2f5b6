"""What a phone can show whole: the widest formula and the longest code line that fit its card.

MathJax 3 never breaks a line inside a formula, so a formula wider than the card runs past its
edge (or, in its scroll box, hides its end); a code line longer than the box scrolls. `check`
reports both against the deck's `phone_width` (default 360 CSS px, the narrowest common phone).

The card's width on a phone is the phone's width less AnkiDroid's `#content { margin: 0.5em }`
on both sides and the card's own padding there (card.css: 1 px a side under 480 px): 20 px in
all. A formula's width in px is MathJax's width in ems times the font size of the field around
it (card.css: 18 px; prompts 1.15 em, explanations 0.95 em) times MathJax's font scale: Anki's
MathJax scales its fonts so their x-height matches the text's (matchFontHeight), 1.19-1.2 for the
sans-serif fonts phones use (measured in Chromium with Anki's own MathJax; the browser tests hold
the real widths to the same budget, so a drift between this and card.css fails there).
"""

from __future__ import annotations

from typing import Final

from .problems import Location, Problem, one_line
from .records import Record
from .source_position import line_of

CARD_FONT_PX = 18  # .card { font-size } in card.css
FIELD_FONT_SCALE = {
    "concept": 1.15,
    "question": 1.15,
    "followup_question": 1.15,
    "task": 1.15,
    "explanation": 0.95,
}
MATHJAX_FONT_SCALE = 1.2
DEFAULT_PHONE_WIDTH = 360  # deck.yaml's phone_width when it sets none
PHONE_CARD_MARGIN_PX = 20
LIST_INDENT_EM = 1.3  # ul, ol { padding-left: 1.3em } in card.css
# Code on phones: .highlight pre { font-size: 0.65em; padding: 0.5em } (card.css); a monospace
# character is 0.6 em wide.
CODE_FONT_PX = CARD_FONT_PX * 0.65
CODE_CHAR_PX = CODE_FONT_PX * 0.6


def _font_px(key: str) -> float:
    """The font size of the field `key` (card.css)."""
    return CARD_FONT_PX * FIELD_FONT_SCALE.get(key, 1.0)


# A formula at most this wide (in ems) fits a card on the default phone in a field of the card's
# own font (answers, formulas), outside a list: node need not lay it out, its width bound is
# enough (builder/mathjax/widthbound.mjs). A bound that does not fit its own card (a narrower
# phone, a list, a prompt's larger font) is measured exactly after all (check_math.py).
FITS_DEFAULT_PHONE_EM = (
    int((DEFAULT_PHONE_WIDTH - PHONE_CARD_MARGIN_PX) / (_font_px("") * MATHJAX_FONT_SCALE) * 1000)
    / 1000
)


class PhoneBudget(Record):
    __slots__ = field_names = ("phone_width",)
    phone_width: Final[int]

    def __init__(self, phone_width: int) -> None:
        self.phone_width = phone_width

    @property
    def card_width(self) -> int:
        return self.phone_width - PHONE_CARD_MARGIN_PX

    @property
    def code_columns(self) -> int:
        return int((self.card_width - CODE_FONT_PX) // CODE_CHAR_PX)

    def formula_problems(
        self,
        where: Location,
        card: str,
        key: str,
        tex: str,
        display: bool,
        width_em: float,
        list_depth: int = 0,
    ) -> list[Problem]:
        """Display math over the budget is an error (it is the card's content); inline math a
        warning (it scrolls with its paragraph), each naming the fix. Each list item around the
        formula indents it by the list's padding."""
        if self.fits(key, width_em, list_depth):
            return []
        width, shown = self._width_px(key, width_em), self._shown_px(key, list_depth)
        kind = "display formula" if display else "inline formula"
        items = "a list item" if list_depth == 1 else f"{list_depth} nested list items"
        where_shown = f"{shown} px in {items}" if list_depth else f"{shown} px"
        fix = (
            "break it over lines (aligned, split, multline, gathered) or shorten it"
            if display
            else "move it to display math on a line of its own ($$...$$) or shorten it"
        )
        message = (
            f"card '{card}', field '{key}': {kind} {width} px wide, "
            f"a {self.phone_width} px phone shows {where_shown}: {fix}: ${one_line(tex, 60)}$"
        )
        return [
            Problem(
                line_of(where, tex), message, severity="error" if display else "warning", card=card
            )
        ]

    def fits(self, key: str, width_em: float, list_depth: int = 0) -> bool:
        """Whether a formula `width_em` wide in the field `key` fits the card (in px, rounded)."""
        return self._width_px(key, width_em) <= self._shown_px(key, list_depth)

    def _width_px(self, key: str, width_em: float) -> int:
        return round(width_em * _font_px(key) * MATHJAX_FONT_SCALE)

    def _shown_px(self, key: str, list_depth: int) -> int:
        return self.card_width - round(list_depth * LIST_INDENT_EM * _font_px(key))

    def code_problems(self, first_line: Location, card: str, code: str) -> list[Problem]:
        """Code lines longer than the phone's code box, each a warning (the box scrolls, with a cue)
        at its own line (`first_line` is where the code's line 1 is)."""
        return [
            Problem(
                Location(first_line.file, first_line.line + offset),
                f"card '{card}': code line of {len(line.rstrip())} columns, "
                f"a {self.phone_width} px phone shows {self.code_columns}: "
                "it scrolls sideways; wrap it",
                severity="warning",
                card=card,
            )
            for offset, line in enumerate(code.splitlines())
            if len(line.rstrip()) > self.code_columns
        ]
