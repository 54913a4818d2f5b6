"""build: the whole recipe, read everything → check → render → figures → package → write.

Like MkDocs' build(): nothing is written until every input has been read and checked, and the
previous .apkg is never replaced by a failed or half-written one.

A rebuild redoes only what changed: the stages (builder/stages_check.py, builder/stages.py) are
called behind the build's caches (builder/memo.py), and node checks the new formulas while the
notes are rendered.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import TEMP_SUFFIX, remove_stale_temporaries, stage
from .identity import LOCK_FILE, Lock, build_time
from .markdown_math import forget_conversions
from .memo import CACHE_NAMES, BuildCaches
from .model import KINDS, Deck, in_language
from .options import BuildOptions, Progress, quiet
from .problems import Problem, errors_in
from .stages_check import load_and_check, read_lock_and_release_problems, start_checks

# Rendering, packaging and writing (stages.py, commit.py, release.py) are imported once the
# checks have sent the new formulas to node: an edit's build imports them while node answers.
if TYPE_CHECKING:
    from .release import Changes
    from .render import RenderedNote

# What the outputs and the CLI import from here (BuildOptions and a stage call live beside).
__all__ = [
    "BuildOptions",
    "BuildResult",
    "Progress",
    "build",
    "load_and_check",
    "quiet",
]


class BuildResult:
    """What a build did, for its summary (a plain class: builder/records.py says why)."""

    def __init__(
        self,
        *,
        path: Path,
        status: str,  # "written", "unchanged" or "replaced"
        changes: Changes | None,
        deck: Deck,
        notes: list[RenderedNote],
        cards_by_kind: Counter,
        anki_cards: int,
        media: list[Path],
        size: int,
        figures_drawn: int,
        figures_cached: int,
        seconds: float,
        timings: dict[str, float],
        warnings: list[Problem],  # reported; the build went on
        resumed_release: bool,  # `release` finished one that a kill or an error interrupted
        released: str | None,  # the last release's version (the lock's), if any
        # the lock as this build found it and as it left it: the summary's changes, without
        # reading the file again (20,000 notes' entries take 0.1 s a read)
        lock_before: Lock,
        lock: Lock,
    ) -> None:
        self.path = path
        self.status = status
        self.changes = changes
        self.deck = deck
        self.notes = notes
        self.cards_by_kind = cards_by_kind
        self.anki_cards = anki_cards
        self.media = media
        self.size = size
        self.figures_drawn = figures_drawn
        self.figures_cached = figures_cached
        self.seconds = seconds
        self.timings = timings
        self.warnings = warnings
        self.resumed_release = resumed_release
        self.released = released
        self.lock_before = lock_before
        self.lock = lock


def build(options: BuildOptions, progress: Progress = quiet) -> BuildResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    _remove_leftovers(options)
    caches = BuildCaches.open(options.build_caches)
    # A build allocates millions of objects (cards, notes, cache entries) that live until it
    # ends: the cyclic garbage collector would scan them over and over, ~15% of a rebuild.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _build(options, caches, progress, started, timings)
    finally:
        warnings = caches.save()
        if collecting:
            # Its objects are frozen first: re-enabled, the collector would scan them all at
            # the next allocation (they are all young; 0.1-0.2 s at 20,000 cards) to find next
            # to nothing, since reference counting frees them. A process that goes on after the
            # build (watch) unfreezes them and collects while it waits.
            gc.freeze()
            gc.enable()
    result.warnings += warnings
    return result


def _remove_leftovers(options: BuildOptions) -> None:
    for folder, pattern in leftover_places(options):
        remove_stale_temporaries(folder, pattern)


def leftover_places(options: BuildOptions) -> list[tuple[Path, str]]:
    """(folder, pattern) of the temporary files and figure folders that killed builds leave
    behind (running builds' are kept): every build removes them first."""
    project = options.cards_dir.resolve().parent
    places = [
        (folder, f".*{TEMP_SUFFIX}")
        for folder in (options.out_dir, options.cards_dir, project, options.cache_dir)
    ]
    places += [(options.releases, f".*{TEMP_SUFFIX}"), (options.cache_dir, ".drawing-*")]
    return places + [(options.build_caches / cache, f".*{TEMP_SUFFIX}") for cache in CACHE_NAMES]


def _build(
    options: BuildOptions,
    caches: BuildCaches,
    progress: Progress,
    started: float,
    timings: dict[str, float],
) -> BuildResult:
    build_time()  # a bad SOURCE_DATE_EPOCH is a problem before any work
    checks = start_checks(options, caches, progress)
    from .commit import commit_files, package_path, unfinished_release
    from .stages import PackageInputs, figures_cached, package_deck, render_notes

    deck, plans = in_language(checks.deck, options.lang), checks.plans
    previous, lock_problems = read_lock_and_release_problems(checks.deck, options)
    if errors_in(checks.problems) or (checks.strict and checks.problems) or lock_problems:
        checks.finish(more=lock_problems)  # waits for MathJax, to report every problem at once
    # Rendering is pure and writes nothing: it overlaps node's check of the new formulas.
    # Digests from the checks describe the cards as written; an "en" deck differs (no Zh).
    notes = render_notes(
        deck, plans, caches, progress, timings, checks.digests if options.lang == "en+zh" else None
    )
    # The lock's times follow the deck as written, whatever the language: an "en" build stamps
    # (and records) the en+zh notes' times, so building it twice gives the same bytes.
    written_notes = (
        notes
        if options.lang == "en+zh"
        else render_notes(checks.deck, plans, caches, quiet, {}, checks.digests)
    )
    # Every field is rendered: the HTML converted for the checks and the notes (~40 MB at 20,000
    # cards) would otherwise stay alive through packaging, the build's peak of memory.
    forget_conversions()
    unfinished = unfinished_release(deck, previous)
    inputs = PackageInputs(deck, plans, notes, written_notes, previous)
    packaged = None
    if not options.release and figures_cached(deck, plans, options):
        # So is packaging, when no figure must be drawn (a script could fail): it goes on while
        # node finishes, and the checks' problems still come first.
        packaged = package_deck(inputs, options, caches, progress, timings)
    _save_finished_caches(caches)
    # The .apkg and the lock are written (and flushed to disk) beside their places while node
    # answers, and renamed into them once the checks passed: their fsyncs are off an edit's
    # critical path. Nothing is staged for a file that holds these bytes already.
    early, staged, staged_lock = None, None, None
    if packaged is not None:
        early = package_path(deck, packaged.data, notes, previous.release, options)
        staged = _staged(early, packaged.data)
        staged_lock = _staged(
            options.cards_dir / LOCK_FILE, packaged.lock_text.result().encode("utf-8")
        )
    try:
        warnings = checks.finish(progress)
        if packaged is None:
            version = _version_to_write(deck, options.release, unfinished)
            inputs = inputs.replace(
                deck=deck.replace(config=deck.config.replace(version=version)),
                resumed=previous.release if unfinished else None,
            )
            packaged = package_deck(inputs, options, caches, progress, timings)
        deck = inputs.deck
        path = package_path(deck, packaged.data, notes, previous.release, options)
        lock_text = packaged.lock_text.result()
        ready = (staged, staged_lock) if path == early else (None, None)
        status = commit_files(path, packaged.data, packaged.lock, lock_text, deck, options, *ready)
    finally:
        for copy in (staged, staged_lock):
            if copy is not None:
                copy.unlink(missing_ok=True)  # not put in place (an error), or renamed already
    timings["load+check"] = time.perf_counter() - started - sum(timings.values())

    return BuildResult(
        path=path,
        status=status,
        changes=packaged.changes,
        deck=deck,
        notes=notes,
        cards_by_kind=Counter(card.kind for card in deck.cards),
        anki_cards=sum(_anki_cards(note) for note in notes),
        media=packaged.figures.media,
        size=len(packaged.data),
        figures_drawn=packaged.figures.drawn,
        figures_cached=packaged.figures.cached,
        seconds=time.perf_counter() - started,
        timings=timings,
        warnings=warnings,
        resumed_release=bool(unfinished),
        released=packaged.lock.release.version if packaged.lock.release else None,
        lock_before=previous,
        lock=packaged.lock,
    )


def _staged(path: Path, data: bytes) -> Path | None:
    """atomic.stage's copy of `data` beside `path`; None when `path` holds these bytes already
    (a no-op writes nothing)."""
    try:
        if path.read_bytes() == data:
            return None
    except OSError:
        pass  # absent (or unreadable: commit_files reports it)
    return stage(path, data)


def _save_finished_caches(caches: BuildCaches) -> None:
    """Write the caches no later stage adds to while node may still be checking formulas, rather
    than after it (~1 s of a 20,000-card cold build); build() saves the verdicts and the checked
    cards, and anything added since (a package made after the checks). An error here is met
    again, and reported, there."""
    for cache in (caches.cards, caches.notes, caches.lint, caches.packages):
        cache.save()


def _version_to_write(deck: Deck, release: str | None, unfinished: str | None) -> str:
    """The deck's version; for a release, the next one, or the one an interrupted release was
    making (resuming finishes that version instead of bumping again)."""
    if not release:
        return deck.config.version
    from .release import bump_version

    return unfinished or bump_version(deck.config.version, release)


def _anki_cards(note: RenderedNote) -> int:
    return KINDS[note.card.kind].anki_cards(note.card)
