"""watch: rebuild on every save and say only what changed.

Watch builds go to the development build dist/<slug>-<version>+dev.apkg (overwritten each time),
never over a release.
Figure scripts re-run only when they changed: the figure cache is keyed by their content.
"""

from __future__ import annotations

import gc
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .build import BuildOptions, BuildResult, build
from .changes import CardChanges, card_changes
from .identity import LOCK_FILE
from .user_cache import file_stamp


@dataclass
class Rebuild:
    result: BuildResult | None
    changes: CardChanges = field(default_factory=CardChanges)  # since the last rebuild that worked
    error: Exception | None = None
    seconds: float = 0.0
    first: bool = False  # the build at start: every card is "added"


def _hashes(result: BuildResult | None) -> dict[str, str]:
    return {note.card.id: note.content_hash for note in result.notes} if result else {}


def rebuild(options: BuildOptions, previous: BuildResult | None, first: bool = False) -> Rebuild:
    started = time.perf_counter()
    try:
        result = build(options.replace(dev=True))
    except Exception as error:
        # Source problems, a failing figure, a full disk, or a bug in mathdeck: each is reported
        # (cli_build.print_rebuild) and the watcher waits for the next save instead of dying.
        return Rebuild(None, error=error, seconds=time.perf_counter() - started, first=first)
    retired = {card.id for card in result.deck.cards if card.retired}
    changes = card_changes(_hashes(previous), _hashes(result), retired)
    return Rebuild(result, changes, seconds=time.perf_counter() - started, first=first)


def _relevant(change, path: str) -> bool:
    name = Path(path).name
    # The build writes the lock itself and atomic writes pass through hidden temp files.
    return (
        name != LOCK_FILE
        and not name.startswith(".")
        and "__pycache__" not in path
        and not name.endswith("~")
    )


def watch(
    options: BuildOptions, report: Callable[[Rebuild], None], stop: threading.Event | None = None
) -> None:
    from watchfiles import watch as watch_files

    folders = [p for p in (options.cards_dir, options.figures_dir) if p.exists()]
    # The watcher only starts once the first build is done, so a save made while that build ran
    # (16 s on a large cold deck, longer on a loaded machine) would be missed: the sources are
    # stamped before it, and compared again once the watcher is up.
    before = _sources_stamp(folders)
    last = rebuild(options, None, first=True)
    report(last)
    _collect_garbage()
    previous = last.result
    watcher_up = False
    for changes in watch_files(
        *map(str, folders),
        watch_filter=_relevant,
        stop_event=stop,
        debounce=200,
        step=50,
        rust_timeout=STAMP_CHECK_MS,
        yield_on_timeout=True,
    ):
        # An empty set is a timeout. The first one says the watcher is up: a save made before
        # it shows only in the stamp.
        missed_save = not changes and not watcher_up and _sources_stamp(folders) != before
        watcher_up = True
        if not changes and not missed_save:
            continue
        outcome = rebuild(options, previous)
        report(outcome)
        _collect_garbage()
        if outcome.result is not None:
            previous = outcome.result


# How long the watcher waits before the first look for saves made during the first build; the
# later timeouts only wake the loop to see the stop event, which watchfiles checks anyway.
STAMP_CHECK_MS = 500


def _sources_stamp(folders: list[Path]) -> dict[str, list[int]]:
    """user_cache.file_stamp of every watched source, by path."""
    stamp = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if not _relevant(None, str(path)):
                continue
            try:
                status = path.stat()
            except OSError:  # removed while we looked: the comparison sees it gone
                continue
            if stat.S_ISREG(status.st_mode):
                stamp[str(path)] = file_stamp(status)
    return stamp


def _collect_garbage() -> None:
    """What a build left frozen for the collector (build.build) is collected while the watcher
    waits for the next save, after the report."""
    gc.unfreeze()
    gc.collect()
