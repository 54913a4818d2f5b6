"""stages: each stage of the build called once, behind the build's caches (builder/memo.py).

load + check (MathJax's part goes on in node while the build renders), render, figures,
package. build.py walks them in order; prepare.py walks the first half for every other output.
Nothing here writes the sources or the output folder: only the caches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import figures as figure_stage
from .check import FieldFacts, check_deck, deck_facts
from .check_math import MathCheck, start_math_check
from .commit import unfinished_release
from .figures import FigurePlan
from .identity import Lock, Release, build_time, lock_text, read_lock, stamp_notes
from .lint import as_errors
from .lint_memo import lint_deck_memoised
from .memo import (
    BuildCaches,
    RememberingFormulaChecker,
    checked_before,
    checked_keys,
    note_type_templates_memoised,
    package_bytes_memoised,
    remember_checked,
    render_deck_memoised,
    render_description_memoised,
)
from .model import Deck
from .options import BuildOptions, Progress, quiet
from .parsed_cards import load_sources_memoised
from .problems import Problem, SourceError, errors_in
from .release import (
    Changes,
    changelog_entry,
    compare_with_release,
    deck_description_news,
    release_manifest,
    release_problems,
)
from .render import FigureFiles, RenderedNote


@dataclass
class Checks:
    """load + check under way: the MathJax check may still be running in node."""

    deck: Deck
    digests: list[str]  # model.card_digest() of each card
    plans: dict[str, FigurePlan]
    problems: list[Problem]  # found so far: all but MathJax's
    facts: list[tuple[FieldFacts, ...] | None]  # check.deck_facts: None for a card checked before
    caches: BuildCaches
    math: MathCheck | None = None  # None when MathJax does not check (`check_math` off)
    checked_keys: list[str] | None = None  # the cards' keys in the cache of checked cards
    strict: bool = False  # --strict or deck.yaml's `lint: {strict: true}`: warnings are errors

    def finish(
        self, progress: Progress | None = None, more: Sequence[Problem] = ()
    ) -> list[Problem]:
        """Raise SourceError with every problem, MathJax's (waiting for node, counting the
        formulas answered) and `more` (the lock's and the release's) included, if one is an error;
        otherwise return the warnings."""
        math = self.math.problems(progress) if self.math is not None else []
        found = self.problems + math + list(more)
        problems = as_errors(found) if self.strict else found
        if errors_in(problems):
            raise SourceError(sorted(problems))
        if self.checked_keys is not None:
            # A card whose formulas drew a warning is checked again next time (the math check skips
            # checked cards), so its warning is not forgotten.
            warned = {problem.card for problem in math}
            facts = [
                None if card.id in warned else facts
                for card, facts in zip(self.deck.cards, self.facts, strict=True)
            ]
            remember_checked(facts, self.caches.checked, self.checked_keys)
        return sorted(problems)


def start_checks(options: BuildOptions, caches: BuildCaches, progress: Progress = quiet) -> Checks:
    """load + check; formulas MathJax has not judged yet go to node in the background."""
    progress("Loading sources")
    loaded = load_sources_memoised(options.cards_dir, caches.cards)
    if loaded.deck is None:  # deck.yaml cannot be used: nothing to check the cards against
        raise SourceError(loaded.problems)
    # The cards with a problem are left out of the checks; their problems come first.
    deck, plans = loaded.deck, figure_stage.plan_figures(options.figures_dir)
    progress("Checking")
    strict = options.strict or deck.config.lint.strict
    if not options.check_math:
        facts = deck_facts(deck)
        problems = (
            loaded.problems
            + check_deck(deck, set(plans), facts)
            + lint_deck_memoised(deck, caches.lint, loaded.digests)
        )
        return Checks(deck, loaded.digests, plans, problems, facts, caches, strict=strict)
    # Cards that passed every check before, unchanged, are skipped (only when MathJax checks too).
    keys = checked_keys(deck, loaded.digests)
    checker = RememberingFormulaChecker(
        caches.verdicts, deck.config.tex_links
    )  # node starts on the first formula it lacks
    facts = deck_facts(deck, checked_before(caches.checked, keys), checker.add_facts)
    problems = (
        loaded.problems
        + check_deck(deck, set(plans), facts)
        + lint_deck_memoised(deck, caches.lint, loaded.digests)
    )
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
        start_math_check(deck, facts, checker),
        keys,
        strict,
    )


@dataclass
class CheckedDeck:
    deck: Deck
    plans: dict[str, FigurePlan]
    warnings: list[Problem]  # reported; errors raise SourceError


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


@dataclass
class DrawnFigures:
    media: list[Path]  # cached figure files, named as the notes refer to them
    drawn: int  # figures drawn in this build
    cached: int  # figures found in the figure cache


@dataclass
class RenderedDeck:
    notes: list[RenderedNote]
    figures: DrawnFigures


def render_and_draw(
    deck: Deck, plans: dict[str, FigurePlan], options: BuildOptions, progress: Progress = quiet
) -> RenderedDeck:
    """render + figures: the notes' HTML and the media files they use (figures drawn if not
    cached)."""
    caches = BuildCaches.open(options.build_caches)
    try:
        notes = render_notes(deck, plans, caches, progress, {})
    finally:
        caches.save()
    return RenderedDeck(notes, draw_figures(deck, plans, options, progress, {}))


def used_figures(deck: Deck) -> set[str]:
    return {card.figure for card in deck.cards if card.figure}


def figure_files(deck: Deck, plans: dict[str, FigurePlan]) -> dict[str, FigureFiles]:
    """The media names and text alternative of every figure the deck's cards use."""
    return {
        name: FigureFiles(plans[name].light_name, plans[name].dark_name, plans[name].alt)
        for name in used_figures(deck)
        if name in plans
    }


def render_notes(
    deck: Deck,
    plans: dict[str, FigurePlan],
    caches: BuildCaches,
    progress: Progress,
    timings: dict[str, float],
    digests: list[str] | None = None,
) -> list[RenderedNote]:
    """Every card's note; `digests` are the cards' model.card_digest() when known."""
    started = time.perf_counter()
    figures = figure_files(deck, plans)  # every used figure exists: check said so
    progress("Rendering notes")
    notes = render_deck_memoised(deck, figures, caches.notes, digests)
    timings["render"] = time.perf_counter() - started
    return notes


def draw_figures(
    deck: Deck,
    plans: dict[str, FigurePlan],
    options: BuildOptions,
    progress: Progress,
    timings: dict[str, float],
) -> DrawnFigures:
    started = time.perf_counter()
    used = [plans[name] for name in sorted(used_figures(deck))]
    progress("Drawing figures", 0, len(used))
    drawn = {True: 0, False: 0}  # was cached -> count

    def count(plan: FigurePlan, cached: bool) -> None:
        drawn[cached] += 1
        progress("Drawing figures", drawn[True] + drawn[False], len(used))

    media_by_name = figure_stage.make_figures(used, options.cache_dir, on_done=count)
    timings["figures"] = time.perf_counter() - started
    return DrawnFigures(_media_files(media_by_name, plans), drawn=drawn[False], cached=drawn[True])


def figures_cached(deck: Deck, plans: dict[str, FigurePlan], options: BuildOptions) -> bool:
    """Every figure the cards use is in the figure cache (make_figures would draw none)."""
    return all(
        figure_stage.is_cached(plans[figure], options.cache_dir)
        for figure in used_figures(deck)
        if figure in plans
    )


def _media_files(
    media_by_name: dict[str, tuple[Path, Path]], plans: dict[str, FigurePlan]
) -> list[Path]:
    """Cached files under the content-hashed media names the notes refer to."""
    files = []
    for name, (light, dark) in media_by_name.items():
        plan = plans[name]
        for cached, media_name in ((light, plan.light_name), (dark, plan.dark_name)):
            if cached.name != media_name:
                raise RuntimeError(f"figure cache returned {cached.name}, expected {media_name}")
            files.append(cached)
    return sorted(files, key=lambda p: p.name)


@dataclass(frozen=True)
class PackageInputs:
    deck: Deck  # in the build's language, with the version to write
    plans: dict[str, FigurePlan]
    notes: list[RenderedNote]  # the deck's notes
    written_notes: list[
        RenderedNote
    ]  # the notes of the deck as written (en+zh), whose times the lock keeps
    previous: Lock  # the lock as the last build left it
    # the release that a kill or an error interrupted, which this build finishes
    resumed: Release | None = None


@dataclass
class Packaged:
    """figures + package, nothing written yet."""

    lock: Lock  # with the notes' times (and the release, for one)
    data: bytes  # the .apkg
    changes: Changes | None  # a release's changes since the one before
    figures: DrawnFigures
    lock_text: Background  # the lock's text, made while the package's collection is compressed


def package_deck(
    inputs: PackageInputs,
    options: BuildOptions,
    caches: BuildCaches,
    progress: Progress,
    timings: dict[str, float],
) -> Packaged:
    deck, notes, previous = inputs.deck, inputs.notes, inputs.previous
    figures = draw_figures(deck, inputs.plans, options, progress, timings)
    started = time.perf_counter()
    progress("Packaging")
    now = build_time()
    lock = stamp_notes(inputs.written_notes, previous, now)
    changes = None
    if options.release and inputs.resumed is not None:
        # The changes since the release before were recorded with it; that release is gone.
        lock.release = release_manifest(deck.config.version, notes, inputs.resumed.changelog)
    elif options.release:
        changes = compare_with_release(notes, previous.release)
        lock.release = release_manifest(
            deck.config.version, notes, changelog_entry(deck.config.version, now, changes)
        )
    news = (
        lock.release.changelog
        if lock.release and lock.release.version == deck.config.version
        else ""
    )
    new_lock_text = Background(lock_text, lock)  # zlib lets go of the GIL while it compresses
    description = render_description_memoised(
        deck, deck_description_news(news) if news else "", caches.notes
    )
    data = package_bytes_memoised(
        caches.packages,
        deck,
        notes,
        lock,
        figures.media,
        description,
        note_type_templates_memoised(caches.notes),
    )
    timings["package"] = time.perf_counter() - started
    return Packaged(lock, data, changes, figures, new_lock_text)


class Background:
    """function(*args) in a thread; result() waits for it and returns its value or raises its
    error."""

    def __init__(self, function, *args):
        self._outcome: tuple = (None, None)
        self._thread = threading.Thread(target=self._run, args=(function, args), daemon=True)
        self._thread.start()

    def _run(self, function, args) -> None:
        try:
            self._outcome = (function(*args), None)
        except BaseException as error:
            self._outcome = (None, error)

    def result(self):
        self._thread.join()
        value, error = self._outcome
        if error is not None:
            raise error
        return value
