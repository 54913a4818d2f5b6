"""Every formula through MathJax 3 as Anki runs it, strictly: a parse error or an undefined macro
is a problem with the card, the field, the TeX and MathJax's own words.

Formulas are taken from Markdown's output (the arithmatex spans), so exactly the TeX that reaches
the note is checked, after Markdown had its say. The build keeps MathJax's verdicts by formula
(builder/memo.py): a rebuild sends only new formulas to node, all in one batch, and node works
while the build renders.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .mathjax import TexStream, Verdict, measure_tex, tex_names
from .model import Deck
from .phone_budget import FITS_DEFAULT_PHONE_EM, PhoneBudget
from .problems import Location, Problem, did_you_mean, one_line
from .source_position import position_of

# Codes of the problems found in TeX (README, "Problem codes").
MATHJAX_ERROR = "MD140"  # MathJax cannot typeset it: an undefined macro, a missing brace, ...
UNSAFE_TEX = "MD141"  # a link, style, class, id or URL that must not reach a card
DECK_MACRO_MISUSED = "MD142"  # a deck macro used with too few arguments, or without end


TYPESETTING = "Typesetting formulas with MathJax"  # the stage, as progress names it


class FormulaChecker:
    """Sends formulas to one node process as they come (the first at once, so node starts early;
    then BATCH at a time), so MathJax works while the rest of the deck is read and rendered.
    (The build answers formulas judged before from its cache: builder/memo.py.)"""

    BATCH = 500

    def __init__(self, tex_links: str = "none"):
        self.tex_links = tex_links  # deck.yaml's: part of every verdict (safety.mjs)
        self.verdicts: dict[tuple[str, bool], Verdict] = {}
        self._unknown: list[tuple[str, bool]] = []  # sent or to send, in that order
        self._added: set[tuple[str, bool]] = set()
        self._sent = 0
        self._stream: TexStream | None = None

    def add(self, formulas: Iterable[tuple[str, bool]]) -> None:
        for item in formulas:
            if item not in self._added:
                self._added.add(item)
                self._unknown.append(item)
        if len(self._unknown) > self._sent and (
            self._stream is None or len(self._unknown) - self._sent >= self.BATCH
        ):
            self._send()

    def knows(self, item: tuple[str, bool]) -> bool:
        """Whether the formula was added before (it is sent, or waits for its batch)."""
        return item in self._added

    def add_facts(self, card_facts) -> None:
        """The formulas of one card's check.FieldFacts."""
        self.add(formula for fact in card_facts if fact.formulas for formula in fact.formulas)

    def send_pending(self) -> None:
        """Send what waits for a full batch: no more formulas are coming soon."""
        if self._sent < len(self._unknown):
            self._send()

    def _send(self) -> None:
        if self._stream is None:
            # node lays out only what may not fit: a narrower card asks again (exact_verdicts)
            self._stream = TexStream(self.tex_links, bound_limit_em=FITS_DEFAULT_PHONE_EM)
        self._stream.send(self._unknown[self._sent :])
        self._sent = len(self._unknown)

    def tex_names(self) -> dict[str, tuple[str, ...]]:
        """MathJax's macro and environment names (for a did-you-mean), from node."""
        return tex_names()

    def finish(
        self, progress: Callable[..., None] | None = None
    ) -> dict[tuple[str, bool], Verdict]:
        """Every formula added -> MathJax's Verdict (waits for node). `progress(stage, done, total)`
        counts the formulas node answered."""
        self.send_pending()

        def answered(count: int) -> None:
            if progress is not None:
                progress(TYPESETTING, count, len(self._unknown))

        if self._stream is not None:
            stream, self._stream = self._stream, None
            for item, verdict in zip(self._unknown, stream.verdicts(answered), strict=True):
                self.verdicts[item] = verdict
        answered(len(self._unknown))
        return self.verdicts

    def exact_verdicts(self, items: list[tuple[str, bool]]) -> dict[tuple[str, bool], Verdict]:
        """MathJax's verdicts on `items` with their exact widths (one more node run)."""
        return dict(zip(items, measure_tex(items, self.tex_links), strict=True))


@dataclass
class MathCheck:
    """The MathJax check of a deck, under way: problems() waits for node and returns them."""

    deck: Deck
    facts: list
    checker: FormulaChecker
    _problems: list[Problem] | None = field(default=None, repr=False)

    def problems(self, progress: Callable[..., None] | None = None) -> list[Problem]:
        if self._problems is None:
            # node is asked for MathJax's names only when a formula has an unknown one
            names = functools.cache(self.checker.tex_names)
            verdicts = self.checker.finish(progress)
            verdicts = _exact_where_bounds_do_not_fit(self.deck, self.facts, verdicts, self.checker)
            self._problems = _problems(self.deck, self.facts, verdicts, names)
        return self._problems


def start_math_check(deck: Deck, facts: list, checker: FormulaChecker | None = None) -> MathCheck:
    """The MathJax check of every formula in `facts` (check.deck_facts: None for a card checked
    before), with the formulas given to `checker` (if any) already under way."""
    if checker is None:
        checker = FormulaChecker(deck.config.tex_links)
        for card_facts in facts:
            checker.add_facts(card_facts or ())
    checker.send_pending()
    return MathCheck(deck, facts, checker)


def _placed_formulas(fact) -> Iterable[tuple[tuple[str, bool], int]]:
    """((tex, display), list depth) of each formula in one check.FieldFacts."""
    depths = fact.list_depths or (0,) * len(fact.formulas or ())
    return zip(fact.formulas or (), depths, strict=True)


def _exact_where_bounds_do_not_fit(
    deck: Deck, facts: list, verdicts: dict[tuple[str, bool], Verdict], checker: FormulaChecker
) -> dict[tuple[str, bool], Verdict]:
    """The verdicts, with MathJax's exact width for each formula whose width bound does not fit
    its card (a narrower phone_width, a list, a field's larger font): the budget judges widths."""
    fits = _fits(deck)
    unsure: dict[tuple[str, bool], None] = {}  # a dict keeps their order
    for card_facts in facts:
        for fact in card_facts or ():  # None: checked before, unchanged
            for formula, depth in _placed_formulas(fact):
                _, width, exact = verdicts[formula]
                if not exact and width is not None and not fits(fact.key, width, depth):
                    unsure[formula] = None
    return {**verdicts, **checker.exact_verdicts(list(unsure))} if unsure else verdicts


def _fits(deck: Deck) -> Callable[[str, float, int], bool]:
    """PhoneBudget.fits for the deck's phone, remembered: a formula's width is judged at each of
    its uses, in the same few fields (240,000 calls at 20,000 cards, after node answered)."""
    return functools.cache(PhoneBudget(deck.config.phone_width).fits)


def _problems(
    deck: Deck,
    facts: list,
    verdicts: dict[tuple[str, bool], Verdict],
    names: Callable[[], dict[str, tuple[str, ...]]],
) -> list[Problem]:
    problems: list[Problem] = []
    budget = PhoneBudget(deck.config.phone_width)
    fits = _fits(deck)
    suggestions = functools.cache(
        lambda: _suggestions(names(), tuple(macro.name for macro in deck.config.macros))
    )
    for card, card_facts in zip(deck.cards, facts, strict=True):
        for fact in card_facts or ():  # None: checked before, unchanged
            where = card.text_locations.get(fact.key, card.location)
            label = f"card '{card.id}', field '{fact.key}'"
            if fact.macro_error is not None:
                problems.append(
                    Problem(
                        where, f"{label}: {fact.macro_error}", card=card.id, code=DECK_MACRO_MISUSED
                    )
                )
            for (tex, display), depth in _placed_formulas(fact):
                error, width, _ = verdicts[(tex, display)]
                if error:
                    problems.append(_tex_problem(where, label, card.id, tex, error, suggestions))
                elif width is not None and not fits(fact.key, width, depth):
                    problems += budget.formula_problems(
                        where, card.id, fact.key, tex, display, width, depth
                    )
    return problems


UNSAFE = "unsafe TeX: "  # how builder/mathjax/safety.mjs's errors start
# Among 1,100 MathJax names, a loose match misleads (\softmax is no typo of \max): only close ones.
TEX_CUTOFF = 0.75
_UNDEFINED = re.compile(r"Undefined control sequence \\([A-Za-z]+)")
_UNKNOWN_ENVIRONMENT = re.compile(r"Unknown environment '([^']+)'")
_CONTROL_WORD = re.compile(r"\\[A-Za-z]+")


def _tex_problem(
    field_at: Location,
    label: str,
    card: str,
    tex: str,
    error: str,
    suggestions: Callable[[], dict[str, tuple[str, ...]]],
) -> Problem:
    """MathJax's verdict at the offending spot in the file, with a did-you-mean for an unknown name.
    MathJax's own words are quoted as such; the safety wall's errors speak for themselves."""
    undefined, environment = _UNDEFINED.search(error), _UNKNOWN_ENVIRONMENT.search(error)
    hint, token = "", None
    if undefined:
        token = "\\" + undefined.group(1)
        close = did_you_mean(undefined.group(1), suggestions()["macros"], TEX_CUTOFF)
        hint = (
            f" (did you mean \\{close}?)"
            if close
            else " (define it under 'macros' in deck.yaml, or use \\operatorname{...})"
        )
    elif environment:
        token = "\\begin{" + environment.group(1)
        close = did_you_mean(environment.group(1), suggestions()["environments"], TEX_CUTOFF)
        hint = f" (did you mean {close}?)" if close else ""
    else:
        named = _CONTROL_WORD.search(error)
        token = named.group() if named and named.group() in tex else None
    where = position_of(field_at, tex, token)
    unsafe = error.startswith(UNSAFE)
    message = f"{label}: {'' if unsafe else 'MathJax: '}{error}{hint} in ${one_line(tex, 120)}$"
    return Problem(where, message, card=card, code=UNSAFE_TEX if unsafe else MATHJAX_ERROR)


def _suggestions(
    known: dict[str, tuple[str, ...]], deck_macros: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    return {
        "macros": deck_macros + tuple(name for name in known["macros"] if name.isalpha()),
        "environments": known["environments"],
    }


# The code behind MathJax's verdicts (with mathjax_install.mathjax_fingerprint(), MathJax's own
# version): a change to it empties the build's verdict cache (builder/memo.py).
VERDICT_SOURCES = (
    "mathjax/check.mjs",
    "mathjax/checker.mjs",
    "mathjax/pool.mjs",
    "mathjax/widthbound.mjs",
    "mathjax/fontwidths.mjs",
    "mathjax/modules.mjs",
    "mathjax/filters.mjs",
    "mathjax/safety.mjs",
    "mathjax/speedups.mjs",
    "mathjax/loops.mjs",
    "mathjax/snapshot.cjs",
    "mathjax.py",
    "mathjax_install.py",
)
