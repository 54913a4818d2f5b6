"""stages_check: load + check, called once behind the build's caches (builder/memo.py).

The MathJax part of the check goes on in node while the build renders (Checks.finish waits for
it). `mathdeck check` and every output share load_and_check; build.py also reads the lock and
the release through read_lock_and_release_problems, so both report the same.
Nothing here writes the sources or the output folder: only the caches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .check import FieldFacts, check_deck, deck_facts
from .check_math import MathCheck, start_math_check
from .forked import CHILD_FROM_CARDS, ForkedCall
from .identity import Lock, build_time, read_lock
from .memo import BuildCaches
from .memo_check import RememberingFormulaChecker, checked_before, remember_checked
from .model import Deck, DeckConfig
from .options import BuildOptions, Progress, quiet
from .parsed_cards import load_sources_memoised
from .problems import Problem, SourceError, errors_in

# The linter, the figures' plans, the lock's and the release's checks are imported where they are
# used: after the new formulas went to node, which answers while they are imported.
if TYPE_CHECKING:
    from .figures import FigurePlan
    from .load import CardFile


class Checks:
    """load + check under way: the MathJax check may still be running in node."""

    __slots__ = (
        "caches",
        "checked",
        "deck",
        "digests",
        "facts",
        "lint",
        "math",
        "plans",
        "problems",
        "strict",
    )

    def __init__(
        self,
        deck: Deck,
        digests: list[str],
        plans: dict[str, FigurePlan],
        problems: list[Problem],
        facts: list[tuple[FieldFacts, ...] | None],
        caches: BuildCaches,
        lint: ForkedCall[list[Problem]],
        math: MathCheck | None = None,
        checked: list[bool] | None = None,
        strict: bool = False,
    ) -> None:
        self.deck = deck
        self.digests = digests  # model.card_digest() of each card
        self.plans = plans
        self.problems = problems  # found so far: all but the linter's and MathJax's
        self.facts = facts  # check.deck_facts: None for a card checked before
        self.caches = caches
        self.lint = lint  # the linter's warnings (start_lint)
        self.math = math  # None when MathJax does not check (`check_math` off)
        self.checked = checked  # the cards that passed every check before, unchanged
        self.strict = strict  # --strict or deck.yaml's `lint: {strict: true}`: warnings are errors

    def finish(
        self, progress: Progress | None = None, more: Sequence[Problem] = ()
    ) -> list[Problem]:
        """Raise SourceError with every problem, MathJax's (waiting for node, counting the
        formulas answered) and `more` (the lock's and the release's) included, if one is an error;
        otherwise return the warnings."""
        from .lint import as_errors

        math = self.math.problems(progress) if self.math is not None else []
        found = self.problems + self.lint.result() + math + list(more)
        problems = as_errors(found) if self.strict else found
        if errors_in(problems):
            raise SourceError(sorted(problems))
        if self.checked is not None:
            # A card whose formulas drew a warning is checked again next time (the math check skips
            # checked cards), so its warning is not forgotten.
            warned = {problem.card for problem in math}
            passed = [
                before or (facts is not None and card.id not in warned)
                for card, facts, before in zip(
                    self.deck.cards, self.facts, self.checked, strict=True
                )
            ]
            remember_checked(passed, self.caches.checked, self.deck, self.digests)
        return sorted(problems)


def start_checks(options: BuildOptions, caches: BuildCaches, progress: Progress = quiet) -> Checks:
    """load + check; formulas MathJax has not judged yet go to node in the background, from the
    first card file read on."""
    progress("Loading sources")
    reading = FactsAsRead(caches) if options.check_math else None
    loaded = load_sources_memoised(
        options.cards_dir, caches.cards, reading, reading.ahead if reading else None
    )
    if loaded.deck is None:  # deck.yaml cannot be used: nothing to check the cards against
        raise SourceError(loaded.problems)
    # The cards with a problem are left out of the checks; their problems come first.
    deck = loaded.deck
    progress("Checking")
    # (the child closes every descriptor it was born with but its pipe: node's too)
    lint = start_lint(deck, caches, loaded.digests)
    strict = options.strict or deck.config.lint.strict
    if reading is None:
        before, checker = None, None
        facts = deck_facts(deck)
    else:
        checker = reading.checker or RememberingFormulaChecker(
            caches.verdicts, deck.config.tex_links
        )
        before, facts = reading.before, reading.facts
    from .figures import plan_figures  # node is at work: see the imports above

    plans = plan_figures(options.figures_dir)
    problems = loaded.problems + check_deck(deck, set(plans), facts)
    if checker is None:
        return Checks(deck, loaded.digests, plans, problems, facts, caches, lint, strict=strict)
    if None not in facts and not loaded.problems:
        # every formula of the deck was looked up (no card left out): the others are stale
        caches.verdicts.drop_unused()
    return Checks(
        deck,
        loaded.digests,
        plans,
        problems,
        facts,
        caches,
        lint,
        start_math_check(deck, facts, checker),
        before,
        strict,
    )


def start_lint(deck: Deck, caches: BuildCaches, digests: list[str]) -> ForkedCall[list[Problem]]:
    """The linter's warnings, behind its cache; from forked.CHILD_FROM_CARDS cards in a child
    process, on the other core, while this one checks, renders and packages (0.15 s of a
    20,000-card edit, ~1 s of its cold build)."""

    from .lint_memo import lint_deck_memoised

    def lint() -> list[Problem]:
        problems = lint_deck_memoised(deck, caches.lint, digests)
        if in_child:
            caches.lint.save()  # the child's cache: the build never sees what it added
        return problems

    in_child = len(deck.cards) >= CHILD_FROM_CARDS
    linting = ForkedCall(lint, in_child)
    if not in_child:
        linting.result()  # now, while node answers, rather than after waiting for it
    return linting


class FactsAsRead:
    """check.deck_facts of each card file as load reads it (load.load_sources' `on_card_file`):
    node checks the first formulas while the rest of the deck is read, rather than sitting idle
    until every file is (3 s of a 20,000-card cold build). Cards that passed every check before,
    unchanged, are skipped (memo_check.checked_before)."""

    def __init__(self, caches: BuildCaches):
        self.caches = caches
        self.checker: RememberingFormulaChecker | None = None  # node starts on the first formula
        self.before: list[bool] = []  # in deck order, as load appends each file's cards
        self.facts: list[tuple[FieldFacts, ...] | None] = []
        self._ahead: dict[int, tuple[list[bool], list]] = {}  # by id() of a file seen ahead

    def __call__(self, config: DeckConfig, card_file: CardFile) -> None:
        ahead = self._ahead.pop(id(card_file), None)
        before, facts = ahead if ahead is not None else self._facts(config, card_file)
        self.before += before
        self.facts += facts

    def ahead(self, config: DeckConfig, card_file: CardFile) -> None:
        """A changed card file, parsed before its turn (parsed_cards.load_sources_memoised's
        `on_changed_file`): its new formulas go to node now, before the unchanged files' cards
        are made from the cache (~40 ms of a 2,000-card edit); __call__ takes its facts in turn."""
        self._ahead[id(card_file)] = self._facts(config, card_file)

    def _facts(self, config: DeckConfig, card_file: CardFile) -> tuple[list[bool], list]:
        if self.checker is None:
            self.checker = RememberingFormulaChecker(self.caches.verdicts, config.tex_links)
        cards = Deck(config, card_file.cards)
        before = checked_before(self.caches.checked, cards, card_file.digests)
        return before, deck_facts(cards, before, self.checker.add_facts)


class CheckedDeck:
    __slots__ = ("deck", "plans", "warnings")

    def __init__(self, deck: Deck, plans: dict[str, FigurePlan], warnings: list[Problem]) -> None:
        self.deck = deck
        self.plans = plans
        self.warnings = warnings  # reported; errors raise SourceError


def load_and_check(options: BuildOptions, progress: Progress = quiet) -> CheckedDeck:
    """load + check, shared by `mathdeck check` and every output."""
    build_time()  # a bad SOURCE_DATE_EPOCH stops `build`: `check` says so too
    caches = BuildCaches.open(options.build_caches)
    try:
        checks = start_checks(options, caches, progress)
        _, lock_problems = read_lock_and_release_problems(checks.deck, options)
        warnings = checks.finish(progress, more=lock_problems)
    finally:
        caches.save()
    return CheckedDeck(checks.deck, checks.plans, warnings)


def read_lock_and_release_problems(deck: Deck, options: BuildOptions) -> tuple[Lock, list[Problem]]:
    """The lock, and what build refuses in it beyond the sources (shared with `check`, so both
    report the same): an unreadable lock, an interrupted release, a released card gone from the
    sources, a note-type change since the release."""
    from .commit import unfinished_release
    from .release import release_problems

    try:
        previous = read_lock(options.cards_dir)
    except SourceError as error:
        return Lock(), error.problems
    problems = []
    unfinished = unfinished_release(deck, previous)
    if unfinished and not options.release:
        problems.append(
            Problem(
                deck.config.version_location,
                f"release {unfinished} was interrupted (the lock records it; deck.yaml still "
                f"says {deck.config.version}): run `mathdeck release` to finish it",
            )
        )
    problems += release_problems(deck, previous, options.cards_dir, options.allow_note_type_change)
    return previous, problems
