"""build_stamp: a build with nothing changed since the last one is answered without building.

After a successful `mathdeck build`, the CLI keeps a stamp for its command line (the folder it
ran in and its arguments): a hash of everything that build read and wrote, and the summary it
printed. The same command run again hashes those files again; if nothing differs, the build
would find every stage cached, write nothing and print that same summary (as a no-op: the
package unchanged, every figure cached, no card changed), so that is what it prints, without
loading or checking a card.

What the hash covers, so that any change takes the full path: deck.yaml, every card file (the
folder listed again), their code files, the lock, every figure script (listed again), the media
files and their digests, the package this build wrote and the names a next build could write or
compare with (the release's, the development build's, the kept release), whether a default
deck folder exists; mathdeck's own files, the installed libraries' versions, Python's, SQLite's
and MathJax's (its package.json); the environment a build reads (SOURCE_DATE_EPOCH, the cache
locations); whether .cache/build exists. A file changed while the build ran (after it started)
leaves no stamp: the build may have read it before or after the change (so does one changed in
the two seconds before it started).

Each file's size and time are kept beside its digest: a replay whose files differ in either stops
before reading any, and keeping the next stamp reads only the files whose size or time changed.
A replay itself reads and hashes every file: equal sizes and times never decide one.

Stamps live in the per-user cache (`mathdeck build` has not parsed its options yet when it looks),
one small file per command line, the newest STAMPS_KEPT kept. A stamp is kept by
build_stamp_record.py, after the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .atomic import remove_stale_temporaries
from .cache import code_fingerprint
from .content_hash import content_key
from .records import Record
from .user_cache import read_kept

if TYPE_CHECKING:
    from .build_summary import BuildSummary

STAMP_FORMAT = 2  # 2: each file's size, time and digest
STAMPS_KEPT = 64  # command lines remembered per user; older stamps are removed
# What a build reads from the environment besides its files.
ENVIRONMENT = (
    "SOURCE_DATE_EPOCH",
    "MATHDECK_CACHE",
    "MATHDECK_NODE_ROOT",
    "MATHDECK_NODE_CODE_CACHE",
    "XDG_CACHE_HOME",
    "HOME",
)
NON_BLOCKING = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to fear


class Invocation(Record):
    """A command line: the folder it ran in and its arguments."""

    __slots__ = field_names = ("cwd", "argv")
    cwd: Final[str]
    argv: Final[tuple[str, ...]]

    def __init__(self, cwd: str, argv: tuple[str, ...]) -> None:
        self.cwd = cwd
        self.argv = argv

    @classmethod
    def current(cls, argv: list[str]) -> Invocation:
        return cls(os.getcwd(), tuple(argv))

    def stamp_path(self, stamps: Path) -> Path:
        return stamps / f"{content_key('build', self.cwd, list(self.argv))}.json"


class Watched:
    """The files a build read and wrote: these, and whatever the globs match now; and folders
    whose absence a build would notice (`rm -rf .cache/build` makes the next build a full one)."""

    __slots__ = ("files", "folders", "globs")

    def __init__(self, files: list[str], globs: list[tuple[str, str]], folders: list[str]):
        self.files = files
        self.globs = globs  # (folder, pattern)
        self.folders = folders

    def to_plain(self) -> dict:
        return {"files": self.files, "globs": self.globs, "folders": self.folders}

    def paths(self) -> list[str]:
        listed = {
            str(path) for folder, pattern in self.globs for path in Path(folder).glob(pattern)
        }
        return sorted(listed.union(self.files))


class Hashed:
    __slots__ = ("files", "key")

    def __init__(self, key: str, files: dict[str, list | None]):
        self.key = key  # of every watched file's bytes, the code, the tools and the environment
        self.files = files  # name -> [size, mtime_ns, digest]; None when absent


def hash_watched(
    watched: Watched,
    known: dict[str, list | None] | None = None,
    changed_after_ns: int | None = None,
    written: AbstractSet[str] = frozenset(),
) -> Hashed | None:
    """Every watched file's digest (or its absence) and the key of them all; None if a file
    cannot be read, is not a regular file, or (not `written` by the build) was modified at or
    after `changed_after_ns`. A file whose size and time are those `known` keeps its digest
    unread: a replay hashes every file again, so a stale digest can only cost a full build."""
    known = known or {}
    files: dict[str, list | None] = {}
    for name in watched.paths():
        try:
            # non-blocking: a FIFO in place of a card file must not hang us (the build refuses it)
            with open(os.open(name, os.O_RDONLY | NON_BLOCKING), "rb") as handle:
                found = os.fstat(handle.fileno())
                if not stat.S_ISREG(found.st_mode) or (
                    changed_after_ns is not None
                    and name not in written
                    and found.st_mtime_ns >= changed_after_ns
                ):
                    return None
                seen = [found.st_size, found.st_mtime_ns]
                before = known.get(name)
                if isinstance(before, list) and len(before) == 3 and before[:2] == seen:
                    files[name] = before
                else:
                    files[name] = [*seen, hashlib.file_digest(handle, "blake2b").hexdigest()]
        except FileNotFoundError:
            files[name] = None
        except OSError:
            return None
    key = content_key(
        STAMP_FORMAT,
        [(name, entry[2] if entry else "absent") for name, entry in files.items()],
        [(folder, os.path.isdir(folder)) for folder in watched.folders],
        code_fingerprint(),
        _tool_versions(),
        [(name, os.environ.get(name)) for name in ENVIRONMENT],
    )
    return Hashed(key, files)


def same_sizes_and_times(watched: Watched, files: dict[str, list | None]) -> bool:
    """Every watched file (and no other) has the size and time `files` holds: a difference
    settles a replay before any file is read (the edit loop's case); equality proves nothing."""
    names = watched.paths()
    if names != sorted(files):
        return False
    for name in names:
        entry = files[name]
        try:
            found = os.stat(name)
        except FileNotFoundError:
            if entry is not None:
                return False
            continue
        if entry is None or [found.st_size, found.st_mtime_ns] != entry[:2]:
            return False
    return True


def _tool_versions() -> list[str]:
    import sqlite3  # its version is in the package's bytes
    import zlib

    return [sys.version, sqlite3.sqlite_version, zlib.ZLIB_RUNTIME_VERSION]


def replayed_build(stamps: Path, invocation: Invocation) -> BuildSummary | None:
    """The summary a build of `invocation` would print now, if nothing it reads has changed
    since its stamp was kept; None otherwise (or for a missing or damaged stamp)."""
    started = time.perf_counter()
    stamp = read_stamp(invocation.stamp_path(stamps))
    if stamp is None:
        return None
    try:
        kept = stamp["watched"]
        watched = Watched(kept["files"], [tuple(g) for g in kept["globs"]], kept["folders"])
        if not same_sizes_and_times(watched, stamp["files"]):
            return None
        hashed = hash_watched(watched)
        if hashed is None or hashed.key != stamp["key"]:
            return None
        from .build_summary import summary_from_plain  # a replay's: an edit's build needs none

        summary = summary_from_plain(stamp["summary"])
        leftovers = [(Path(folder), pattern) for folder, pattern in stamp["leftovers"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for folder, pattern in leftovers:  # as the build would, first
        remove_stale_temporaries(folder, pattern)
    return summary.replace(seconds=time.perf_counter() - started)


def read_stamp(path: Path) -> dict | None:
    try:
        stamp = json.loads(read_kept(path))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("format") == STAMP_FORMAT else None


def forget_old_stamps(stamps: Path) -> None:
    """Keep the STAMPS_KEPT newest files of the folder."""
    kept = sorted(stamps.iterdir(), key=_modified, reverse=True)
    for old in kept[STAMPS_KEPT:]:
        old.unlink(missing_ok=True)


def _modified(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
