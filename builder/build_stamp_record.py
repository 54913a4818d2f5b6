"""Keeping a successful build's stamp (build_stamp.py says what a stamp is and how a replay reads
it): the files the build read and wrote, hashed, and the summary it printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import write_atomically
from .build_stamp import (
    STAMP_FORMAT,
    Invocation,
    Watched,
    forget_old_stamps,
    hash_watched,
    read_stamp,
)

if TYPE_CHECKING:
    from .build import BuildResult
    from .options import BuildOptions

# A source modified this close to the build's start (or later) may have been read before or
# after its change: no stamp. File times lag the clock (coarse ticks; 2 s steps on FAT).
CHANGED_BEFORE_START_NS = 2_000_000_000


def record_build(
    stamps: Path,
    invocation: Invocation,
    options: BuildOptions,
    result: BuildResult,
    started_ns: int,
) -> None:
    """Keep the stamp of a successful build that started at `started_ns` (time.time_ns()), or
    drop a stale one when a source may have changed while it ran."""
    path = invocation.stamp_path(stamps)
    if any(warning.location.file == options.build_caches for warning in result.warnings):
        path.unlink(missing_ok=True)  # its caches were not saved: the next build tries again
        return
    watched, written = watched_files(options, result)
    known = (read_stamp(path) or {}).get("files")
    hashed = hash_watched(
        watched,
        known if isinstance(known, dict) else None,
        started_ns - CHANGED_BEFORE_START_NS,
        written,
    )
    if hashed is None:
        path.unlink(missing_ok=True)
        return
    from .build import leftover_places
    from .build_summary import as_noop, summary_of, summary_to_plain

    summary = as_noop(summary_of(result))
    stamp = {
        "format": STAMP_FORMAT,
        "key": hashed.key,
        "watched": watched.to_plain(),
        "files": hashed.files,
        "leftovers": [(str(folder), pattern) for folder, pattern in leftover_places(options)],
        "summary": summary_to_plain(summary),
    }
    write_atomically(path, json.dumps(stamp).encode("utf-8"), durable=False)
    forget_old_stamps(stamps)


def watched_files(options: BuildOptions, result: BuildResult) -> tuple[Watched, set[str]]:
    """What the build read and wrote, and which of those files it wrote itself (the lock, the
    package, the figures it drew)."""
    from .figure_drawing import DIGEST_SUFFIX
    from .identity import LOCK_FILE
    from .mathjax_install import DEFAULT_NODE_ROOT, mathjax_manifest
    from .project import DECK_FILE

    cards, out = options.cards_dir, options.out_dir
    stem = result.deck.file_stem
    files = [
        cards / DECK_FILE,
        cards / LOCK_FILE,
        Path("cards") / DECK_FILE,  # which folder a build without --cards takes
        Path(DECK_FILE),
        result.path,
        *(out / f"{stem}{lang}{dev}.apkg" for lang in ("", "-en") for dev in ("", "+dev")),
        options.releases / f"{stem}.apkg",
        *(cards / card.code_file for card in result.deck.cards if card.code_file),
        mathjax_manifest(),  # MathJax's version: its verdicts are the checks' warnings
    ]
    written = [
        cards / LOCK_FILE,
        result.path,
        *result.media,
        *(media.with_name(media.name + DIGEST_SUFFIX) for media in result.media),
    ]
    globs = [(str(cards), "*.yaml"), (str(options.figures_dir), "*.py")]
    # .cache/build (removed: the next build starts afresh); the checkout's node_modules (where
    # MathJax is: mathjax_install.node_root)
    folders = [str(options.build_caches), str(DEFAULT_NODE_ROOT / "node_modules")]
    return Watched(sorted({str(path) for path in files + written}), globs, folders), {
        str(path) for path in written
    }
