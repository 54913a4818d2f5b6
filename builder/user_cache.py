"""user_cache: the per-user cache folder, shared by every deck: the MathJax packages an installed
mathdeck fetches, node's code cache, what `mathdeck` remembers of command lines it answered
(builder/cli_replay.py) and small tables of values it can always compute again (`Remembered`).
Nothing here is a deck's: deleting it only costs time."""

from __future__ import annotations

import marshal
import os
import stat
import time
import zlib
from contextlib import suppress
from pathlib import Path

from .atomic import write_atomically

REMEMBERED_FORMAT = 1
RACY_NS = 2_000_000_000  # file times lag the clock (coarse ticks; 2 s steps on FAT)


def file_stamp(found: os.stat_result) -> list[int]:
    """What a file's bytes cannot change without: its size, times and inode (any write moves its
    ctime, which no one can set back)."""
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino]


def settled(found: os.stat_result) -> bool:
    """Whether the file last changed more than RACY_NS ago: a second change within one tick of
    the file system's clock would leave its times as they were, so a newer stamp proves nothing."""
    return time.time_ns() - max(found.st_mtime_ns, found.st_ctime_ns) > RACY_NS


def read_kept(path: Path) -> bytes:
    """The bytes of a file kept here, OSError for anything but a regular file: opened without
    waiting, so a FIFO where a stamp or a help page was kept is a miss, not a command line that
    hangs before it prints anything. (As many system calls as Path.read_bytes.)"""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return handle.read()


def user_cache_dir() -> Path:
    """MATHDECK_CACHE, else $XDG_CACHE_HOME/mathdeck, else ~/.cache/mathdeck."""
    if os.environ.get("MATHDECK_CACHE"):
        return Path(os.environ["MATHDECK_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mathdeck"


def stamps_dir(kind: str) -> Path:
    """Where `mathdeck` keeps what it remembers of command lines of one kind (help, builds, the
    options Typer resolved)."""
    return user_cache_dir() / kind


class Remembered:
    """A small table of plain values (see cache.BuildCache) kept between runs in one file of the
    per-user cache, `<name>.marshal`: values a run can always compute again, each found by what
    determines it. The `limit` newest entries are kept. A missing, foreign or damaged file (its
    CRC-32 is checked) is an empty table, and a failed write is ignored: it only costs time."""

    def __init__(self, name: str, limit: int):
        self.path = user_cache_dir() / f"{name}.marshal"
        self.limit = limit
        self.entries = self._read()
        self.changed = False

    def _read(self) -> dict:
        try:
            form, crc, data = marshal.loads(self.path.read_bytes())
            if form != REMEMBERED_FORMAT or crc != zlib.crc32(data):
                return {}
            entries = marshal.loads(data)
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def get(self, key):
        return self.entries.get(key)

    def put(self, key, value) -> None:
        if self.entries.get(key) != value:
            self.entries.pop(key, None)  # to the end: the newest
            self.entries[key] = value
            self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        kept = dict(list(self.entries.items())[-self.limit :])
        data = marshal.dumps(kept)
        with suppress(OSError):
            write_atomically(
                self.path, marshal.dumps((REMEMBERED_FORMAT, zlib.crc32(data), data)), durable=False
            )
        self.entries, self.changed = kept, False
