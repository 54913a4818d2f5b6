"""build: the whole recipe, read everything → check → render → figures → package → write.

Like MkDocs' build(): nothing is written until every input has been read and checked, and the
previous .apkg is never replaced by a failed or half-written one.

A rebuild redoes only what changed: parsed card files, check results, rendered notes and
MathJax's verdicts are cached under .cache/build/ by content hash (builder/cache.py), and node
checks the new formulas while the notes are rendered.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from . import figures as figure_stage
from .atomic import remove_stale_temporaries, write_atomically
from .cache import BuildCache, fingerprint
from .check import check_deck, checked_keys, deck_facts, mark_checked
from .commit import commit_files, os_error_text, package_path, unfinished_release
from .identity import LOCK_FILE, Lock, build_time, guid_for_card, lock_from_data, lock_text, read_lock, stamp_notes
from .lockfile import Repair, repair_lock, restore_times
from .load import LOADER_SOURCES, load_deck_and_digests, load_sources
from .model import KINDS, Deck, in_language
from .package import package_bytes
from .problems import Location, Problem, SourceError, errors_in
from .project import deck_paths
from .release import (
    Changes,
    bump_version,
    changelog_entry,
    compare_with_release,
    deck_description_news,
    release_manifest,
    release_problems,
)
from .render import FigureFiles, RenderedNote, note_type_templates, notes_fingerprint, render_deck, render_description

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    cards_dir: Path
    out_dir: Path
    figures_dir: Path
    cache_dir: Path
    force: bool = False
    check_math: bool = True
    allow_note_type_change: bool = False
    # `mathdeck watch`: always the development build <slug>-<version>+dev.apkg (commit.package_path).
    dev: bool = False
    # `mathdeck release --minor` etc.: bump the version, write the changelog, record the release.
    release: str | None = None
    # "en+zh" (as written) or "en": English only, the Zh field left empty. An "en" build goes to
    # <slug>-<version>-en.apkg; its times are the en+zh deck's, recorded in the lock as an en+zh
    # build would, so building it twice gives the same bytes.
    lang: str = "en+zh"
    # Parsed cards, check results, notes and MathJax verdicts (builder/cache.py); by default
    # build/ beside cache_dir (.cache/build/ in a project).
    build_cache_dir: Path | None = None

    # Where `release` keeps every released .apkg and writes the changelog; by default where
    # deck.yaml's `paths:` (or else the deck folder) says: builder/project.py.
    releases_dir: Path | None = None
    changelog_file: Path | None = None

    @classmethod
    def for_deck(cls, cards_dir: Path, out_dir: Path | None = None, figures_dir: Path | None = None, **more) -> BuildOptions:
        """Options for the deck in `cards_dir`, its files where deck.yaml's `paths:` puts them."""
        paths = deck_paths(cards_dir)
        return cls(cards_dir=cards_dir, out_dir=out_dir or paths.dist, figures_dir=figures_dir or paths.figures,
                   cache_dir=paths.cache / "figures", releases_dir=paths.releases, changelog_file=paths.changelog, **more)

    @property
    def build_caches(self) -> Path:
        return self.build_cache_dir or self.cache_dir.parent / "build"

    @property
    def releases(self) -> Path:
        return self.releases_dir or deck_paths(self.cards_dir).releases

    @property
    def changelog(self) -> Path:
        return self.changelog_file or deck_paths(self.cards_dir).changelog


@dataclass
class BuildResult:
    path: Path
    status: str  # "written", "unchanged" or "replaced"
    changes: Changes | None
    deck: Deck
    notes: list[RenderedNote]
    cards_by_kind: Counter
    anki_cards: int
    media: list[Path]
    size: int
    figures_drawn: int
    figures_cached: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # reported; the build went on
    resumed_release: bool = False  # `release` finished one that a kill or an error interrupted
    released: str | None = None  # the last release's version (the lock's), if any


def quiet(_: str) -> None:
    """The Progress of a run that shows none: the stage names go nowhere."""


@dataclass
class BuildCaches:
    """The build's caches (builder/cache.py), under options.build_caches."""

    cards: BuildCache  # card file bytes -> its cards
    checked: BuildCache  # card -> it passed every check
    notes: BuildCache  # card (+ macros, figures) -> its note's fields
    verdicts: BuildCache  # formula -> MathJax's verdict

    @classmethod
    def open(cls, options: BuildOptions) -> BuildCaches:
        from .check_math import verdicts_fingerprint

        folder = options.build_caches
        return cls(
            cards=BuildCache(folder, "cards", fingerprint(LOADER_SOURCES, ("pyyaml",))),
            checked=BuildCache(folder, "checked", notes_fingerprint() + verdicts_fingerprint()),
            notes=BuildCache(folder, "notes", notes_fingerprint()),
            # kept until a build looks up every formula: most builds look up only new ones
            verdicts=BuildCache(folder, "mathjax", verdicts_fingerprint(), keep_unused=None),
        )

    def save(self) -> list[Problem]:
        """Save every cache; what could not be saved, as a warning (a cache only saves time)."""
        errors = [error for cache in (self.cards, self.checked, self.notes, self.verdicts) for error in cache.save()]
        if not errors:
            return []
        return [Problem(Location(self.cards.folder), f"the build cache was not saved ({os_error_text(errors[0], with_file=False)}); "
                        "the next build will be slower", "warning")]


@dataclass
class Checks:
    """load + check under way: the MathJax check may still be running in node."""

    deck: Deck
    digests: list[str]  # model.card_digest() of each card
    plans: dict
    problems: list[Problem]
    facts: list
    math: object | None  # check_math.MathCheck
    checked: BuildCache | None
    checked_keys: list[str] | None

    def finish(self, more: Sequence[Problem] = ()) -> list[Problem]:
        """Raise SourceError with every problem, MathJax's and `more` (the lock's and the release's)
        included (waiting for node), if one is an error; otherwise return the warnings."""
        math = self.math.problems() if self.math is not None else []
        problems = self.problems + math + list(more)
        if errors_in(problems):
            raise SourceError(sorted(problems))
        if self.checked is not None:
            # A card whose formulas drew a warning is checked again next time (the math check skips
            # checked cards), so its warning is not forgotten.
            warned = {problem.card for problem in math}
            facts = [None if card.id in warned else facts for card, facts in zip(self.deck.cards, self.facts, strict=True)]
            mark_checked(facts, self.checked, self.checked_keys)
        return sorted(problems)


def start_checks(options: BuildOptions, caches: BuildCaches, progress: Progress = quiet) -> Checks:
    """load + check; formulas MathJax has not judged yet go to node in the background."""
    progress("Loading sources")
    loaded = load_sources(options.cards_dir, caches.cards)
    if loaded.deck is None:  # deck.yaml cannot be used: nothing to check the cards against
        raise SourceError(loaded.problems)
    deck, digests = loaded.deck, loaded.digests  # the cards with a problem are left out of the checks
    plans = figure_stage.plan_figures(options.figures_dir)
    progress("Checking")
    # Cards that passed every check before, unchanged, are skipped (only when MathJax checks too).
    checked = caches.checked if options.check_math else None
    keys = checked_keys(deck, digests) if checked is not None else None
    checker = None
    if options.check_math:
        from .check_math import FormulaChecker

        checker = FormulaChecker(caches.verdicts, deck.config.tex_links)  # node starts on the first formulas it lacks
    facts = deck_facts(deck, checked, keys, checker.add_facts if checker is not None else None)
    problems = loaded.problems + check_deck(deck, set(plans), facts)
    math = None
    if checker is not None:
        from .check_math import start_math_check

        # Without the cards load left out, the deck's formulas are not all there: keep the verdicts
        # no card looked up (the cache drops them only when every formula was looked up).
        math = start_math_check(deck, facts, None if loaded.problems else caches.verdicts, checker)
    return Checks(deck, digests, plans, problems, facts, math, checked, keys)


def load_and_check(options: BuildOptions, progress: Progress = quiet) -> tuple[Deck, dict, list[Problem]]:
    """load + check, shared by `mathdeck check` and `mathdeck build`: the deck, the figure plans
    and the warnings (errors raise SourceError)."""
    build_time()  # a bad SOURCE_DATE_EPOCH stops `build`: `check` says so too
    caches = BuildCaches.open(options)
    try:
        checks = start_checks(options, caches, progress)
        _, lock_problems = read_lock_and_release_problems(checks.deck, options)
        progress("Typesetting every formula with MathJax")
        warnings = checks.finish(lock_problems)
    finally:
        caches.save()
    return checks.deck, checks.plans, warnings


def read_lock_and_release_problems(deck: Deck, options: BuildOptions) -> tuple[Lock, list[Problem]]:
    """The lock, and what build refuses in it beyond the sources (shared with `check`, so
    both report the same): an unreadable lock, an interrupted release, a released card gone from
    the sources, a note-type change since the release."""
    try:
        previous = read_lock(options.cards_dir)
    except SourceError as error:
        return Lock(), error.problems
    problems = []
    unfinished = unfinished_release(deck, previous)
    if unfinished and not options.release:
        problems.append(Problem(deck.config.version_location, f"release {unfinished} was interrupted (the lock records it; "
                                f"deck.yaml still says {deck.config.version}): run `mathdeck release` to finish it"))
    problems += release_problems(deck, previous, options.cards_dir, options.allow_note_type_change)
    return previous, problems


def render_and_draw(deck: Deck, plans: dict, options: BuildOptions, progress: Progress, timings: dict) -> tuple[list[RenderedNote], list[Path], Counter]:
    """render + figures: the notes' HTML and the media files they use (figures drawn if not cached)."""
    caches = BuildCaches.open(options)
    try:
        notes = _render(deck, plans, caches, progress, timings)
    finally:
        caches.save()
    media, drawn = _draw(deck, plans, options, progress, timings)
    return notes, media, drawn


def _used_figures(deck: Deck) -> set[str]:
    return {card.figure for card in deck.cards if card.figure}


def figure_files(deck: Deck, plans: dict) -> dict[str, FigureFiles]:
    """The media names and text alternative of every figure the deck's cards use."""
    return {name: FigureFiles(plans[name].light_name, plans[name].dark_name, plans[name].alt)
            for name in _used_figures(deck) if name in plans}


def _render(deck: Deck, plans: dict, caches: BuildCaches, progress: Progress, timings: dict, checks: Checks | None = None) -> list[RenderedNote]:
    started = time.perf_counter()
    figures = figure_files(deck, plans)  # every used figure exists: check said so
    progress("Rendering notes")
    notes = render_deck(deck, figures, caches.notes, checks.digests if checks else None)
    timings["render"] = time.perf_counter() - started
    return notes


def _draw(deck: Deck, plans: dict, options: BuildOptions, progress: Progress, timings: dict) -> tuple[list[Path], Counter]:
    started = time.perf_counter()
    progress("Drawing figures")
    drawn = Counter()
    media_by_name = figure_stage.make_figures(
        [plans[name] for name in sorted(_used_figures(deck))],
        options.cache_dir,
        on_done=lambda plan, cached: drawn.update(["cached" if cached else "drawn"]),
    )
    timings["figures"] = time.perf_counter() - started
    return _media_files(media_by_name, plans), drawn


def build(options: BuildOptions, progress: Progress = quiet) -> BuildResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    _remove_leftovers(options)
    caches = BuildCaches.open(options)
    # A build allocates millions of objects (cards, notes, cache entries) that live until it
    # ends: the cyclic garbage collector would scan them over and over, ~15% of a rebuild.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _build(options, caches, progress, started, timings)
    finally:
        warnings = caches.save()
        if collecting:
            gc.enable()
    result.warnings += warnings
    return result


def _remove_leftovers(options: BuildOptions) -> None:
    """Temporary files and figure folders that killed builds left behind (running builds' stay)."""
    project = options.cards_dir.resolve().parent
    for folder in (options.out_dir, options.cards_dir, project, options.cache_dir, options.releases):
        remove_stale_temporaries(folder)
    remove_stale_temporaries(options.cache_dir, ".drawing-*")  # also make_figures' own, if it draws
    for cache in ("cards", "checked", "notes", "mathjax"):
        remove_stale_temporaries(options.build_caches / cache)


def _build(options: BuildOptions, caches: BuildCaches, progress: Progress, started: float, timings: dict) -> BuildResult:
    build_time()  # a bad SOURCE_DATE_EPOCH is a problem before any work
    checks = start_checks(options, caches, progress)
    deck, plans = in_language(checks.deck, options.lang), checks.plans
    previous, lock_problems = read_lock_and_release_problems(checks.deck, options)
    if checks.problems or lock_problems:
        checks.finish(lock_problems)  # waits for MathJax, to report every problem at once
    # Rendering is pure and writes nothing: it overlaps node's check of the new formulas.
    # Digests from the checks describe the cards as written; an "en" deck differs (no Zh).
    notes = _render(deck, plans, caches, progress, timings, checks if options.lang == "en+zh" else None)
    # The lock's times follow the deck as written, whatever the language: an "en" build stamps
    # (and records) the en+zh notes' times, so building it twice gives the same bytes.
    written_notes = notes if options.lang == "en+zh" else _render(checks.deck, plans, caches, quiet, {}, checks)
    unfinished = unfinished_release(deck, previous)
    packaged = None
    if not options.release and _figures_cached(deck, plans, options):
        # So is packaging, when no figure must be drawn (a script could fail): it goes on while
        # node finishes, and the checks' problems still come first.
        packaged = _package(deck, plans, notes, written_notes, previous, options, caches, progress, timings)
    progress("Typesetting every formula with MathJax")
    warnings = checks.finish()
    if options.release:
        # Resuming an interrupted release finishes that version instead of bumping again.
        deck.config.version = unfinished or bump_version(deck.config.version, options.release)
    if packaged is None:
        packaged = _package(deck, plans, notes, written_notes, previous, options, caches, progress, timings, resuming=bool(unfinished))
    lock, data, changes, media, drawn, new_lock_text = packaged

    path = package_path(deck, data, notes, previous.release, options)
    status = commit_files(path, data, lock, new_lock_text.result(), deck, options)
    timings["load+check"] = time.perf_counter() - started - sum(timings.values())

    return BuildResult(
        path=path,
        status=status,
        changes=changes,
        deck=deck,
        notes=notes,
        cards_by_kind=Counter(card.kind for card in deck.cards),
        anki_cards=sum(_anki_cards(note) for note in notes),
        media=media,
        size=len(data),
        figures_drawn=drawn["drawn"],
        figures_cached=drawn["cached"],
        seconds=time.perf_counter() - started,
        timings=timings,
        warnings=warnings,
        resumed_release=bool(unfinished),
        released=lock.release.version if lock.release else None,
    )


def repair_lock_file(options: BuildOptions) -> tuple[Repair, Path | None]:
    """`mathdeck lock --repair`: the lock rewritten from what can be trusted in it (both sides
    of a merge conflict), with the times of notes it lost read back from the newest .apkg in the
    output folder wherever the sources still match it. Returns the repair and that package."""
    path = options.cards_dir / LOCK_FILE
    repaired = repair_lock(path.read_text(encoding="utf-8", errors="replace"))
    caches = BuildCaches.open(options)
    try:
        deck, digests = load_deck_and_digests(options.cards_dir, caches.cards)
        plans = figure_stage.plan_figures(options.figures_dir)
        notes = render_deck(deck, figure_files(deck, plans), caches.notes, digests)
    finally:
        caches.save()
    package = _newest_package(options.out_dir, deck)
    if package is not None:
        restore_times(repaired, [(guid_for_card(n.card), n.card.id, n.content_hash, "\x1f".join(n.fields), " ".join(n.tags))
                                 for n in notes], package)
    write_atomically(path, lock_text(lock_from_data(repaired.data)).encode("utf-8"))
    return repaired, package


def _newest_package(out_dir: Path, deck: Deck) -> Path | None:
    """dist/<slug>-<version>[+dev].apkg of the highest version (not -en builds); a development
    build is newer than the release it starts from."""
    pattern = re.compile(re.escape(deck.config.slug) + r"-(\d+)\.(\d+)\.(\d+)(\+dev)?\.apkg")
    found = [((*map(int, match.groups()[:3]), bool(match.group(4))), path)
             for path in out_dir.glob("*.apkg") if (match := pattern.fullmatch(path.name))]
    return max(found)[1] if found else None


def _package(deck: Deck, plans: dict, notes: list[RenderedNote], written_notes: list[RenderedNote], previous: Lock, options: BuildOptions,
             caches: BuildCaches, progress: Progress, timings: dict, resuming: bool = False) -> tuple:
    """figures + package, nothing written yet: (lock, .apkg bytes, release changes, media, figures drawn, lock text).

    `written_notes` are the notes of the deck as written (en+zh), whose times the lock keeps."""
    media, drawn = _draw(deck, plans, options, progress, timings)
    started = time.perf_counter()
    progress("Packaging")
    now = build_time()
    lock = stamp_notes(written_notes, previous, now)
    changes = None
    if options.release and resuming:
        # The changes since the release before were recorded with it; that release is gone.
        lock.release = release_manifest(deck.config.version, notes, previous.release.changelog)
    elif options.release:
        changes = compare_with_release(notes, previous.release)
        lock.release = release_manifest(deck.config.version, notes, changelog_entry(deck.config.version, now, changes))
    news = lock.release.changelog if lock.release and lock.release.version == deck.config.version else ""
    # The lock's text is made while the package's collection is compressed (zlib lets go of the GIL).
    new_lock_text = _Background(lock_text, lock)
    description = render_description(deck, deck_description_news(news) if news else "", caches.notes)
    data = package_bytes(deck, notes, lock, media, description, note_type_templates(caches.notes))
    timings["package"] = time.perf_counter() - started
    return lock, data, changes, media, drawn, new_lock_text


def _figures_cached(deck: Deck, plans: dict, options: BuildOptions) -> bool:
    """Every figure the cards use is in the figure cache (make_figures would draw none)."""
    return all(figure_stage.is_cached(plans[figure], options.cache_dir) for figure in _used_figures(deck) if figure in plans)


class _Background:
    """function(*args) in a thread; result() waits for it and returns its value or raises its error."""

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


def _media_files(media_by_name: dict[str, tuple[Path, Path]], plans: dict) -> list[Path]:
    """Cached files under the content-hashed media names the notes refer to."""
    files = []
    for name, (light, dark) in media_by_name.items():
        plan = plans[name]
        for cached, media_name in ((light, plan.light_name), (dark, plan.dark_name)):
            if cached.name != media_name:
                raise RuntimeError(f"figure cache returned {cached.name}, expected {media_name}")
            files.append(cached)
    return sorted(files, key=lambda p: p.name)


def _anki_cards(note: RenderedNote) -> int:
    return KINDS[note.card.kind].anki_cards(note.card)
