"""Every formula through MathJax 3 as Anki runs it, strictly: a parse error or an undefined macro
is a problem with the card, the field, the TeX and MathJax's own words.

Formulas are taken from Markdown's output (the arithmatex spans), so exactly the TeX that reaches
the note is checked, after Markdown had its say. MathJax's verdicts are cached by formula (and
by the checker's version): a rebuild sends only new formulas to node, all in one batch, and
node works while the build renders.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .cache import BuildCache, content_key, fingerprint
from .mathjax import TexStream, Verdict, mathjax_fingerprint, tex_names
from .model import Deck
from .phone_budget import PhoneBudget
from .problems import Location, Problem, did_you_mean, one_line
from .source_position import position_of

# Codes of the problems found in TeX (README, "Problem codes").
MATHJAX_ERROR = "MD140"  # MathJax cannot typeset it: an undefined macro, a missing brace, ...
UNSAFE_TEX = "MD141"  # a link, style, class, id or URL that must not reach a card
DECK_MACRO_MISUSED = "MD142"  # a deck macro used with too few arguments, or without end


class FormulaChecker:
    """Answers formulas from the verdict cache and sends the others to one node process as they
    come (the first at once, so node starts early; then BATCH at a time), so MathJax works while
    the rest of the deck is read and rendered."""

    BATCH = 500

    def __init__(self, cache: BuildCache | None = None, tex_links: str = "none"):
        self.cache = cache
        self.tex_links = tex_links  # deck.yaml's: part of every verdict (safety.mjs)
        self.verdicts: dict[tuple[str, bool], Verdict] = {}
        self._unknown: list[tuple[str, bool]] = []  # sent or to send, in that order
        self._sent = 0
        self._stream: TexStream | None = None

    def add(self, formulas: Iterable[tuple[str, bool]]) -> None:
        for item in formulas:
            if item in self.verdicts:
                continue
            verdict = self.cache.get(_verdict_key(*item, self.tex_links), _UNKNOWN) if self.cache is not None else _UNKNOWN
            self.verdicts[item] = verdict
            if verdict is _UNKNOWN:
                self._unknown.append(item)
        if len(self._unknown) > self._sent and (self._stream is None or len(self._unknown) - self._sent >= self.BATCH):
            self._send()

    def add_facts(self, card_facts) -> None:
        """The formulas of one card's check.FieldFacts."""
        self.add(formula for fact in card_facts if fact.formulas for formula in fact.formulas)

    def send_pending(self) -> None:
        """Send what waits for a full batch: no more formulas are coming soon."""
        if self._sent < len(self._unknown):
            self._send()

    def _send(self) -> None:
        if self._stream is None:
            self._stream = TexStream(self.tex_links)
        self._stream.send(self._unknown[self._sent:])
        self._sent = len(self._unknown)

    def finish(self) -> dict[tuple[str, bool], Verdict]:
        """Every formula added -> MathJax's Verdict (waits for node)."""
        self.send_pending()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            for item, verdict in zip(self._unknown, stream.verdicts(), strict=True):
                self.verdicts[item] = verdict
                if self.cache is not None:
                    self.cache.put(_verdict_key(*item, self.tex_links), verdict)
        return self.verdicts


@dataclass
class MathCheck:
    """The MathJax check of a deck, under way: problems() waits for node and returns them."""

    deck: Deck
    facts: list
    checker: FormulaChecker
    _problems: list[Problem] | None = field(default=None, repr=False)

    def problems(self) -> list[Problem]:
        if self._problems is None:
            self._problems = _problems(self.deck, self.facts, self.checker.finish(), functools.cache(
                lambda: known_tex_names(self.checker.cache)))  # node is asked only about an unknown name
        return self._problems


def start_math_check(deck: Deck, facts: list, cache: BuildCache | None = None, checker: FormulaChecker | None = None) -> MathCheck:
    """The MathJax check of every formula in `facts` (check.deck_facts, which calls this module:
    None for a card checked before), with the formulas given to `checker` (if any) already under way."""
    if checker is None:
        checker = FormulaChecker(cache, deck.config.tex_links)
        for card_facts in facts:
            checker.add_facts(card_facts or ())
    if cache is not None and None not in facts:
        cache.drop_unused()  # every formula of the deck was looked up: the others are stale
    checker.send_pending()
    return MathCheck(deck, facts, checker)


def _problems(deck: Deck, facts: list, verdicts: dict[tuple[str, bool], Verdict],
              names: Callable[[], dict[str, tuple[str, ...]]]) -> list[Problem]:
    problems: list[Problem] = []
    budget = PhoneBudget(deck.config.phone_width)
    suggestions = functools.cache(lambda: _suggestions(names(), tuple(macro.name for macro in deck.config.macros)))
    for card, card_facts in zip(deck.cards, facts, strict=True):
        for fact in card_facts or ():  # None: checked before, unchanged
            where = card.text_locations.get(fact.key, card.location)
            label = f"card '{card.id}', field '{fact.key}'"
            if fact.macro_error is not None:
                problems.append(Problem(where, f"{label}: {fact.macro_error}", card=card.id, code=DECK_MACRO_MISUSED))
            depths = fact.list_depths or (0,) * len(fact.formulas or ())
            for (tex, display), depth in zip(fact.formulas or (), depths, strict=True):
                error, width = verdicts[(tex, display)]
                if error:
                    problems.append(_tex_problem(where, label, card.id, tex, error, suggestions))
                elif width is not None:
                    problems += budget.formula_problems(where, card.id, fact.key, tex, display, width, depth)
    return problems


UNSAFE = "unsafe TeX: "  # how builder/mathjax/safety.mjs's errors start
# Among 1,100 MathJax names, a loose match misleads (\softmax is no typo of \max): only close ones.
TEX_CUTOFF = 0.75
_UNDEFINED = re.compile(r"Undefined control sequence \\([A-Za-z]+)")
_UNKNOWN_ENVIRONMENT = re.compile(r"Unknown environment '([^']+)'")
_CONTROL_WORD = re.compile(r"\\[A-Za-z]+")


def _tex_problem(field_at: Location, label: str, card: str, tex: str, error: str,
                 suggestions: Callable[[], dict[str, tuple[str, ...]]]) -> Problem:
    """MathJax's verdict at the offending spot in the file, with a did-you-mean for an unknown name.
    MathJax's own words are quoted as such; the safety wall's errors speak for themselves."""
    undefined, environment = _UNDEFINED.search(error), _UNKNOWN_ENVIRONMENT.search(error)
    hint, token = "", None
    if undefined:
        token = "\\" + undefined.group(1)
        close = did_you_mean(undefined.group(1), suggestions()["macros"], TEX_CUTOFF)
        hint = f" (did you mean \\{close}?)" if close else " (define it under 'macros' in deck.yaml, or use \\operatorname{...})"
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


def _suggestions(known: dict[str, tuple[str, ...]], deck_macros: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {"macros": deck_macros + tuple(name for name in known["macros"] if name.isalpha()), "environments": known["environments"]}


_NAMES_KEY = content_key("tex-names")


def known_tex_names(cache: BuildCache | None) -> dict[str, tuple[str, ...]]:
    """MathJax's macro and environment names, from node once and then from the verdict cache
    (whose key holds MathJax's version and the checker's code)."""
    names = cache.get(_NAMES_KEY) if cache is not None else None
    if names is None:
        names = tex_names()
        if cache is not None:
            cache.put(_NAMES_KEY, names)
    return names


_UNKNOWN = object()  # verdicts are (error, width) tuples


def _verdict_key(tex: str, display: bool, tex_links: str = "none") -> str:
    return content_key("D" if display else "I", tex, tex_links)


def verdicts_fingerprint() -> str:
    """The MathJax cache holds node's answers: it depends on the checker script and MathJax's version."""
    return fingerprint(("mathjax/check.mjs", "mathjax/safety.mjs", "mathjax/speedups.mjs", "mathjax.py")) + mathjax_fingerprint()


