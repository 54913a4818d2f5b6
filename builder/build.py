"""build: the whole recipe, read everything → check → render → figures → package → write.

Like MkDocs' build(): nothing is written until every input has been read and checked, and the
previous .apkg is never replaced by a failed or half-written one.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import figures as figure_stage
from .atomic import write_atomically
from .check import check_deck
from .identity import build_time, read_lock, stamp_notes, write_lock
from .load import load_deck
from .model import Deck
from .package import package_bytes
from .problems import Problem, SourceError
from .release import (
    Changes,
    bump_version,
    changelog_entry,
    compare_with_release,
    deck_description_news,
    prepend_changelog,
    release_manifest,
    release_problems,
    write_version,
)
from .render import FigureFiles, RenderedNote, render_deck

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
    # `mathdeck watch` writes <slug>-<version>-dev.apkg, overwriting it on every save.
    dev: bool = False
    # `mathdeck release --minor` etc.: bump the version, write the changelog, record the release.
    release: str | None = None


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


def _quiet(_: str) -> None:
    pass


def load_and_check(options: BuildOptions, progress: Progress = _quiet) -> tuple[Deck, dict]:
    """load + check, shared by `mathdeck check` and `mathdeck build`."""
    progress("Loading sources")
    deck = load_deck(options.cards_dir)
    plans = figure_stage.plan_figures(options.figures_dir)
    progress("Checking")
    problems = check_deck(deck, set(plans))
    if options.check_math:
        from .check_math import check_math

        progress("Typesetting every formula with MathJax")
        problems += check_math(deck)
    if problems:
        raise SourceError(sorted(problems))
    return deck, plans


def render_and_draw(deck: Deck, plans: dict, options: BuildOptions, progress: Progress, timings: dict) -> tuple[list[RenderedNote], list[Path], Counter]:
    """render + figures: the notes' HTML and the media files they use (figures drawn if not cached)."""
    started = time.perf_counter()
    used = {card.figure for card in deck.cards if card.figure}
    figure_files = {name: FigureFiles(plans[name].light_name, plans[name].dark_name) for name in used}
    progress("Rendering notes")
    notes = render_deck(deck, figure_files)
    timings["render"] = time.perf_counter() - started

    progress("Drawing figures")
    drawn = Counter()
    media_by_name = figure_stage.make_figures(
        [plans[name] for name in sorted(used)],
        options.cache_dir,
        on_done=lambda plan, cached: drawn.update(["cached" if cached else "drawn"]),
    )
    timings["figures"] = time.perf_counter() - started - timings["render"]
    return notes, _media_files(media_by_name, plans), drawn


def build(options: BuildOptions, progress: Progress = _quiet) -> BuildResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    deck, plans = load_and_check(options, progress)
    previous = read_lock(options.cards_dir)
    problems = release_problems(deck, previous, options.cards_dir, options.allow_note_type_change)
    if problems:
        raise SourceError(problems)
    if options.release:
        deck.config.version = bump_version(deck.config.version, options.release)
    timings["load+check"] = time.perf_counter() - started

    notes, media, drawn = render_and_draw(deck, plans, options, progress, timings)

    progress("Packaging")
    now = build_time()
    lock = stamp_notes(notes, previous, now)
    changes = None
    if options.release:
        changes = compare_with_release(notes, previous.release)
        lock.release = release_manifest(deck.config.version, notes, changelog_entry(deck.config.version, now, changes))
    news = lock.release.changelog if lock.release and lock.release.version == deck.config.version else ""
    data = package_bytes(deck, notes, lock, media, deck_description_news(news) if news else "")
    suffix = "-dev" if options.dev else ""
    path = options.out_dir / f"{deck.file_stem}{suffix}.apkg"
    status = _write_package(path, data, options.force or options.dev, deck)
    if options.release:
        write_version(deck, deck.config.version)
        prepend_changelog(options.cards_dir.resolve().parent, lock.release.changelog)
    write_lock(options.cards_dir, lock)
    timings["package"] = time.perf_counter() - started - sum(timings.values())

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
    )


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
    card = note.card
    if card.kind == "formula":
        return 2 if card.reverse else 1
    if card.kind == "qa":
        return 2 if "followup_question" in card.text else 1
    if card.kind == "cloze":
        return len(set(re.findall(r"\{\{c(\d+)::", card.text["text"])))
    return 1


def _write_package(path: Path, data: bytes, force: bool, deck: Deck) -> str:
    if path.exists():
        if path.read_bytes() == data:
            return "unchanged"
        if not force:
            raise SourceError([Problem(
                deck.config.version_location,
                f"{path} already exists with different content: bump 'version' (now {deck.config.version}, "
                "or run `mathdeck release`) so learners can tell the builds apart, or pass --force to overwrite it",
            )])
        write_atomically(path, data)
        return "replaced"
    write_atomically(path, data)
    return "written"

