"""watch: rebuild on every save and say only what changed.

Watch builds go to the development build dist/<slug>-<version>+dev.apkg (overwritten each time),
never over a release.
Figure scripts re-run only when they changed: the figure cache is keyed by their content.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .build import BuildOptions, BuildResult, build
from .identity import LOCK_FILE


@dataclass
class Rebuild:
    result: BuildResult | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    error: Exception | None = None
    seconds: float = 0.0


def _hashes(result: BuildResult | None) -> dict[str, str]:
    return {note.card.id: note.content_hash for note in result.notes} if result else {}


def rebuild(options: BuildOptions, previous: BuildResult | None) -> Rebuild:
    started = time.perf_counter()
    try:
        result = build(dataclasses.replace(options, dev=True))
    except Exception as error:
        # Source problems, a failing figure, a full disk, or a bug in mathdeck: each is reported
        # (cli._print_rebuild) and the watcher waits for the next save instead of dying.
        return Rebuild(None, error=error, seconds=time.perf_counter() - started)
    before, after = _hashes(previous), _hashes(result)
    return Rebuild(
        result,
        added=sorted(after.keys() - before.keys()),
        changed=sorted(k for k in after.keys() & before.keys() if after[k] != before[k]),
        removed=sorted(before.keys() - after.keys()),
        seconds=time.perf_counter() - started,
    )


def _relevant(change, path: str) -> bool:
    name = Path(path).name
    # The build writes the lock itself and atomic writes pass through hidden temp files.
    return name != LOCK_FILE and not name.startswith(".") and "__pycache__" not in path and not name.endswith("~")


def watch(options: BuildOptions, report: Callable[[Rebuild], None], stop: threading.Event | None = None) -> None:
    from watchfiles import watch as watch_files

    last = rebuild(options, None)
    report(last)
    previous = last.result
    folders = [str(p) for p in (options.cards_dir, options.figures_dir) if p.exists()]
    for _ in watch_files(*folders, watch_filter=_relevant, stop_event=stop, debounce=200, step=50):
        outcome = rebuild(options, previous)
        report(outcome)
        if outcome.result is not None:
            previous = outcome.result
