"""cache: what a build already computed, kept under <project>/.cache/build/ for the next build.

As in Black's cache: an entry is found by a hash of everything that can change it (the input's
bytes plus a fingerprint of the code, templates and library versions that compute it), so a
stale entry is never read; files are replaced atomically (a temporary file, then a rename), so a
crash never leaves half of one; a file of another format, fingerprint or Python version is
ignored, and each value carries a digest checked when it is read (a mismatch is a miss). A
cache only saves time: a build writes the same bytes with it, without it, or with a
damaged one.

A cache is split into shards by key, read on first use and written only where entries were
added, so an edit to one card rewrites a sliver of it. An entry that no build used for
`keep_unused` saves is dropped, so the files stay about the size of the deck; with
`keep_unused=None` entries stay until a build calls `drop_unused()` after using all it needs.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from .atomic import write_atomically
from .content_hash import content_key
from .user_cache import Remembered, file_stamp, settled
from .versions import installed_versions, library_version

CACHE_FORMAT = 2  # 2: each value carries a CRC-32 of its bytes
KEEP_UNUSED = 5  # saves of its shard an unused entry survives
BUILDER_DIR = Path(__file__).resolve().parent
_MISSING = object()


class BuildCache:
    """A map from content hash (hex) to a plain value: str, int, bool, None, tuples, lists, dicts.

    `folder` None keeps it in memory only. Values go to disk with `marshal`: fast for the tens
    of megabytes of HTML a 20,000-card deck makes, and it holds nothing but data.
    """

    def __init__(
        self,
        folder: Path | None,
        name: str,
        fingerprint: str | Callable[[], str],
        keep_unused: int | None = KEEP_UNUSED,
    ):
        self.folder = folder
        self.name = name
        # A callable is called when the cache is first used: the code it names may be imported
        # then (an edit's build asks node for its new formula before it imports the packaging).
        self._fingerprint = fingerprint
        self.keep_unused = keep_unused
        self._shards: dict[str, _Shard] = {}
        self._drop_unused = False

    @property
    def header(self) -> tuple:
        if callable(self._fingerprint):
            self._fingerprint = self._fingerprint()
        return (CACHE_FORMAT, sys.version_info[:2], self.name, self._fingerprint)

    def _shard(self, key: str) -> _Shard:
        letter = key[0]  # keys are hex digests (content_key)
        shard = self._shards.get(letter)
        if shard is None:
            path = (
                self.folder / self.name / f"{letter}.marshal" if self.folder is not None else None
            )
            shard = self._shards[letter] = _Shard(path, self.header)
        return shard

    def get(self, key: str, default=None):
        return self._shard(key).get(key, default)

    def put(self, key: str, value) -> None:
        self._shard(key).put(key, value)

    def holds(self, key: str) -> bool:
        """Whether an entry is kept under `key`, its value not read (get may still miss it, if
        its bytes fail their digest)."""
        shard = self._shard(key)
        return key in shard.used or key in shard.stored

    def drop_unused(self) -> None:
        """Everything this build needs was looked up: drop the rest on save."""
        self._drop_unused = True

    def save(self) -> list[OSError]:
        """Write the shards this build added entries to; unused entries age and are dropped in time.

        A shard that cannot be written (read-only folder, full disk) is left as it was: a cache
        only saves time, so the errors are returned for a warning, never raised."""
        errors = []
        for shard in self._shards.values():
            try:
                shard.save(self.keep_unused, self._drop_unused)
            except OSError as error:
                errors.append(error)
        return errors


class _Shard:
    """One file of a cache. Each value is kept marshalled beside a digest of its bytes, checked
    when the value is first used: a flipped bit or an edited string is a miss, never output."""

    def __init__(self, path: Path | None, header: tuple):
        self.path = path
        self.header = header
        # key -> (the save that last used it, digest, marshalled value)
        self.generation, self.stored = self._read()
        self.used: dict = {}
        self.verified: set[str] = (
            set()
        )  # used keys whose stored bytes passed their digest as they are
        self.changed = False

    def _read(self) -> tuple[int, dict]:
        if self.path is None:
            return 0, {}
        try:
            header, generation, entries = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return 0, {}
        if (
            header != self.header
            or not isinstance(generation, int)
            or not isinstance(entries, dict)
        ):
            return 0, {}
        return generation, entries

    def get(self, key: str, default):
        value = self.used.get(key, _MISSING)
        if value is _MISSING:
            value = _verified_value(self.stored.get(key))
            if value is _MISSING:
                return default
            self.used[key] = value
            self.verified.add(key)
        return value

    def put(self, key: str, value) -> None:
        if self.get(key, _MISSING) != value:
            self.changed = True
            self.verified.discard(key)
        self.used[key] = value

    def save(self, keep_unused: int | None, drop_unused: bool) -> None:
        if self.path is None or not (
            self.changed or (drop_unused and len(self.used) != len(self.stored))
        ):
            return
        generation = self.generation + 1
        if drop_unused:
            entries = {}
        elif keep_unused is None:
            entries = dict(self.stored)
        else:
            entries = {
                key: entry
                for key, entry in self.stored.items()
                if _generation(entry) > generation - keep_unused
            }
        # A value read from this file is written back as the bytes it was read from (no new
        # marshal).
        entries.update(
            (
                key,
                (generation, *self.stored[key][1:])
                if key in self.verified
                else _entry(generation, value),
            )
            for key, value in self.used.items()
        )
        write_atomically(
            self.path, marshal.dumps((self.header, generation, entries)), durable=False
        )
        self.generation, self.stored, self.changed = generation, entries, False
        self.verified = set(self.used)


def _entry(generation: int, value) -> tuple[int, int, bytes]:
    data = marshal.dumps(value)
    return generation, _value_digest(data), data


def _value_digest(data: bytes) -> int:
    # CRC-32 finds every flipped bit, truncation and edit of a value's bytes (a kill, a bad disk,
    # a hand edit) at a fifth of a cryptographic hash's cost on tens of MB of notes; a forger
    # who can write .cache/ could recompute any unkeyed digest anyway.
    return zlib.crc32(data)


def _generation(entry) -> int:
    return entry[0] if isinstance(entry, tuple) and entry and isinstance(entry[0], int) else -1


def _verified_value(entry):
    """The value an entry holds, or _MISSING when it is absent, malformed or fails its digest."""
    if not (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[2], bytes)):
        return _MISSING
    if entry[1] != _value_digest(entry[2]):
        return _MISSING
    try:
        return marshal.loads(entry[2])
    except (EOFError, ValueError, TypeError):
        return _MISSING


@cache
def fingerprint(sources: tuple[str, ...], libraries: tuple[str, ...] = ()) -> str:
    """A hash of mathdeck's own files (paths relative to builder/, folders taken whole) and the
    versions of the libraries whose output a cache keeps: a change to either empties the cache."""
    files = []
    for source in sources:
        path = BUILDER_DIR / source
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    parts = [
        part
        for file, digest in zip(files, file_digests(files), strict=True)
        for part in (str(file.relative_to(BUILDER_DIR)), digest)
    ]
    parts += [f"{library}=={library_version(library)}" for library in libraries]
    return content_key(*parts)


@cache  # once a process: the code running is the code it started with
def code_fingerprint() -> str:
    """A hash of all of mathdeck as installed: every file of builder/ (not the bytecode), every
    installed library's version and Python's."""
    digest = hashlib.blake2b(
        content_key(sys.version, sorted(installed_versions().items())).encode(), digest_size=20
    )
    # paths as text, not Path objects: an edit's build computes this before it asks node for its
    # new formula, and pathlib's relative_to and sorting took half of its ~10 ms
    start = len(str(BUILDER_DIR)) + 1
    files = sorted(_code_files())
    for path, file_digest in zip(files, file_digests(files), strict=True):
        digest.update(f"\0{path[start:]}\0{file_digest}".encode())
    return digest.hexdigest()


def _code_files() -> list[str]:
    found = []
    for folder, subfolders, files in os.walk(BUILDER_DIR):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        found += [os.path.join(folder, name) for name in files]
    return found


def file_digests(paths: list[Path] | list[str]) -> list[str]:
    """Each file's digest, from the per-user cache while the file has the size, times and inode
    it was hashed with (hashing the ~110 files of builder/ was ~10 ms of every start). A file
    that has not settled (user_cache.settled) is hashed again next time."""
    remembered = _remembered_digests()
    digests = []
    for path in paths:
        found = os.stat(path)
        seen = file_stamp(found)
        entry = remembered.get(str(path))
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == seen:
            digests.append(entry[4])
            continue
        with open(path, "rb") as file:
            digest = hashlib.blake2b(file.read(), digest_size=20).hexdigest()
        if settled(found):
            remembered.put(str(path), [*seen, digest])
        digests.append(digest)
    remembered.save()
    return digests


# One table per checkout (by where builder/ is): a process reads its own ~150 code files' digests
# (and those of the card files its builds read, parsed_cards._key), not those of every checkout
# and copy the user ever ran (4,096 of them were ~4 ms of every start, before node could be asked
# for an edit's formula, on a machine with a few). Past CODE_DIGESTS_KEPT a file is hashed again.
CODE_DIGESTS = (
    "code-digests-" + hashlib.blake2b(str(BUILDER_DIR).encode(), digest_size=8).hexdigest()
)
CODE_DIGESTS_KEPT = 1024


@cache  # read once a process, by every fingerprint
def _remembered_digests() -> Remembered:
    return Remembered(CODE_DIGESTS, limit=CODE_DIGESTS_KEPT)
