"""stages: each stage of the build called once, behind the build's caches (builder/memo.py).

render, figures, package; load + check before them (MathJax's part goes on in node while the
build renders) are stages_check.py's. build.py walks them in order; prepare.py walks the first
half for every other output.
Nothing here writes the sources or the output folder: only the caches.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from pathlib import Path
from typing import Final

from . import figures as figure_stage
from .commit import zip_level
from .figures import FigurePlan
from .identity import Lock, Release, build_time, guids_for_notes, lock_text, stamp_notes
from .memo import (
    BuildCaches,
    note_type_templates_memoised,
    render_deck_memoised,
    render_description_memoised,
)
from .memo_package import genanki_layout_memoised, package_bytes_memoised
from .model import Deck
from .options import BuildOptions, Progress, quiet
from .records import Record
from .release import (
    Changes,
    changelog_entry,
    compare_with_release,
    deck_description_news,
    release_manifest,
)
from .render import FigureFiles, RenderedNote


class DrawnFigures:
    __slots__ = ("cached", "drawn", "media")

    def __init__(self, media: list[Path], drawn: int, cached: int) -> None:
        self.media = media  # cached figure files, named as the notes refer to them
        self.drawn = drawn  # figures drawn in this build
        self.cached = cached  # figures found in the figure cache


class RenderedDeck:
    __slots__ = ("figures", "notes")

    def __init__(self, notes: list[RenderedNote], figures: DrawnFigures) -> None:
        self.notes = notes
        self.figures = figures


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


class PackageInputs(Record):
    __slots__ = field_names = ("deck", "plans", "notes", "written_notes", "previous", "resumed")
    deck: Final[Deck]  # in the build's language, with the version to write
    plans: Final[dict[str, FigurePlan]]
    notes: Final[list[RenderedNote]]  # the deck's notes
    # the notes of the deck as written (en+zh), whose times the lock keeps
    written_notes: Final[list[RenderedNote]]
    previous: Final[Lock]  # the lock as the last build left it
    # the release that a kill or an error interrupted, which this build finishes
    resumed: Final[Release | None]

    def __init__(
        self,
        deck: Deck,
        plans: dict[str, FigurePlan],
        notes: list[RenderedNote],
        written_notes: list[RenderedNote],
        previous: Lock,
        resumed: Release | None = None,
    ) -> None:
        self.deck = deck
        self.plans = plans
        self.notes = notes
        self.written_notes = written_notes
        self.previous = previous
        self.resumed = resumed


class Packaged:
    """figures + package, nothing written yet."""

    __slots__ = ("changes", "data", "figures", "lock", "lock_text")

    def __init__(
        self,
        lock: Lock,
        data: bytes,
        changes: Changes | None,
        figures: DrawnFigures,
        lock_text: Background,
    ) -> None:
        self.lock = lock  # with the notes' times (and the release, for one)
        self.data = data  # the .apkg
        self.changes = changes  # a release's changes since the one before
        self.figures = figures
        self.lock_text = (
            lock_text  # the lock's text, made while the package's collection is compressed
        )


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
    guids = guids_for_notes(notes)
    written_guids = (
        guids if inputs.written_notes is notes else guids_for_notes(inputs.written_notes)
    )
    lock = stamp_notes(inputs.written_notes, previous, now, written_guids)
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
    # made in a thread started once the collection's rows are in: SQLite's indexes and commit and
    # zlib's deflate let go of the GIL, so it runs beside them (beside the rows, it only took
    # turns with them); at once if the package comes from the cache
    new_lock_text = Background(lock_text, lock, started=False)
    description = render_description_memoised(
        deck, deck_description_news(news) if news else "", caches.notes
    )
    note_types = note_type_templates_memoised(caches.notes)
    data = package_bytes_memoised(
        caches.packages,
        partial(genanki_layout_memoised, caches.notes, deck, note_types),
        zip_level(deck, notes, lock.release, options),
        guids,
        deck,
        notes,
        lock,
        figures.media,
        description,
        note_types,
        rows_written=new_lock_text.start,
    )
    timings["package"] = time.perf_counter() - started
    return Packaged(lock, data, changes, figures, new_lock_text)


class Background:
    """function(*args) in a thread, started at once or by start(); result() (starting it if need
    be) waits for it and returns its value or raises its error."""

    def __init__(self, function, *args, started: bool = True):
        self._outcome: tuple = (None, None)
        self._thread = threading.Thread(target=self._run, args=(function, args), daemon=True)
        if started:
            self._thread.start()

    def start(self) -> None:
        if self._thread.ident is None:  # not started yet
            self._thread.start()

    def _run(self, function, args) -> None:
        try:
            self._outcome = (function(*args), None)
        except BaseException as error:
            self._outcome = (None, error)

    def result(self):
        self.start()
        self._thread.join()
        value, error = self._outcome
        if error is not None:
            raise error
        return value
