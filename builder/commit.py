"""commit: where a build goes, and writing its files (lock, .apkg, a release's kept copy,
changelog and version) so that no fault loses work.

Where: only `mathdeck release` makes a version. A build that is exactly the last release (its
bytes) goes to dist/<slug>-<version>.apkg; any other build is the development build
dist/<slug>-<version>+dev.apkg ("the release plus your edits"), replaced by every build, so
editing and rebuilding never needs a flag. Its changed notes carry the build time, newer than the
release's, so Anki updates them in place over the release; the next release keeps those times
for notes unchanged since, and gives later edits later times, so it imports over the dev build.
A release is also kept as releases/<slug>-<version>.apkg, created once and never replaced.

The lock goes first: it holds the notes' times, so once it is written the next build makes the
same .apkg, and a kill or an OS error at any later step is completed by running the same
command again. A released .apkg is created only if absent (a hard link of the finished temporary
file), so two racing builds can never both write one version. A release's `version:` line goes
last: a lock that records a newer release than deck.yaml is an unfinished release, which
`mathdeck release` finishes instead of bumping again.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import create_atomically, write_atomically
from .card_file import NOT_REGULAR, regular_file
from .identity import LOCK_FILE, Lock, Release, write_lock
from .model import Deck
from .problems import Location, Problem, SourceError
from .release import compare_with_release, prepend_changelog, write_version
from .render import RenderedNote
from .yamlsource import UNREADABLE, not_utf8_problem

DEV_SUFFIX = "+dev"  # semver build metadata: the release named, plus edits not released yet

if TYPE_CHECKING:
    from .options import BuildOptions


class WriteError(Exception):
    """An OS error (full disk, read-only folder, no permission) while writing the build's
    files: which file failed, which were already written and which were not."""

    def __init__(self, failed: Path, error: OSError, written: list[Path], not_written: list[Path]):
        super().__init__(
            f"cannot write {Location(failed)}: {os_error_text(error, with_file=False)}"
        )
        self.failed, self.error, self.written, self.not_written = (
            failed,
            error,
            written,
            not_written,
        )


def os_error_text(error: OSError, with_file: bool = True) -> str:
    """`path: Read-only file system (EROFS)`: the OS's words and the errno's name."""
    name = errno.errorcode.get(error.errno or 0)
    in_the_way = _in_the_way(error)  # names the path itself
    where = f"{Location(Path(error.filename))}: " if with_file and error.filename else ""
    said = in_the_way or f"{where}{error.strerror or error}"
    return said + (f" ({name})" if name else "")


def _in_the_way(error: OSError) -> str | None:
    """What stands where a folder must be, when the OS's words do not say: `File exists` (a
    file, or a symbolic link to nothing: an unmounted drive, a deleted build folder, where
    mkdir makes a folder) or `Not a directory` (a file among the path's folders)."""
    if error.errno not in (errno.EEXIST, errno.ENOTDIR) or not error.filename:
        return None
    path = Path(error.filename)
    if error.errno == errno.EEXIST and path.is_symlink() and not path.exists():
        return f"{Location(path)} is a symbolic link to {os.readlink(path)}, which does not exist"
    for folder in (path, *path.parents) if error.errno == errno.ENOTDIR else (path,):
        if folder.exists() and not folder.is_dir():
            return f"{Location(folder)} is a file, not a folder"
    return None


def write_in_order(files: list[tuple[Path, bytes]]) -> None:
    """Several files, each atomically, in order (the one that refers to the others last): an OS
    error is a WriteError saying which were written and which were not (pull's card files, an
    export's figures and document)."""
    for number, (path, data) in enumerate(files):
        try:
            if _written_through(path):
                path.write_bytes(data)
            else:  # through a symlink (a card file shared by two decks): the file it names
                write_atomically(path.resolve() if path.is_symlink() else path, data)
        except OSError as error:
            done, rest = files[:number], files[number:]
            raise WriteError(path, error, [p for p, _ in done], [p for p, _ in rest]) from None


def _written_through(path: Path) -> bool:
    """A device or a FIFO where the file goes (`-o /dev/stdout`, /dev/full, a pipe) is written
    into: renaming a file over it would replace the device (as root) or the pipe with a file."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # nothing there yet (or nothing we can see): the usual atomic write says why
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def unfinished_release(deck: Deck, lock: Lock) -> str | None:
    """The version of a release the lock records but deck.yaml does not have yet (a release
    interrupted after its first step), or None."""
    if lock.release is None:
        return None
    recorded = tuple(int(n) for n in lock.release.version.split("."))
    current = tuple(int(n) for n in deck.config.version.split("."))
    return lock.release.version if recorded > current else None


def package_path(
    deck: Deck,
    data: bytes,
    notes: list[RenderedNote],
    release: Release | None,
    options: BuildOptions,
) -> Path:
    """Where this build goes: <stem>.apkg for a release, or a build identical to the last release;
    <stem>+dev.apkg for anything else (see the module's docstring)."""
    stem = deck.file_stem + ("-en" if options.lang == "en" else "")
    released = options.out_dir / f"{stem}.apkg"
    if options.release or (
        not options.dev and _is_the_release(deck, data, notes, release, released, options)
    ):
        return released
    return options.out_dir / f"{stem}{DEV_SUFFIX}.apkg"


def zip_level(
    deck: Deck, notes: list[RenderedNote], release: Release | None, options: BuildOptions
) -> int:
    """zlib's level for the package: a release, and a build of exactly its notes, are compressed
    as releases always were (RELEASE_ZIP_LEVEL: what releases/ holds is rebuilt byte for byte); a
    development build, which the edit loop rewrites every time, faster (DEV_ZIP_LEVEL)."""
    # imported here: every command's Report imports this module for WriteError, and genanki's
    # SQLite and zip would delay an edit's build asking node for its new formula
    from .package import DEV_ZIP_LEVEL, RELEASE_ZIP_LEVEL

    return (
        RELEASE_ZIP_LEVEL
        if options.release or _notes_are_released(deck, notes, release)
        else DEV_ZIP_LEVEL
    )


def _notes_are_released(deck: Deck, notes: list[RenderedNote], release: Release | None) -> bool:
    return (
        release is not None
        and release.version == deck.config.version
        and not compare_with_release(notes, release)
    )


def kept_release_path(deck: Deck, options: BuildOptions) -> Path:
    return options.releases / f"{deck.file_stem}.apkg"


def _is_the_release(
    deck: Deck,
    data: bytes,
    notes: list[RenderedNote],
    release: Release | None,
    released: Path,
    options: BuildOptions,
) -> bool:
    """Are these bytes those of release `deck.config.version`? The kept release (or the last
    build under its name) says; without either, the notes must be the released ones."""
    if release is None or release.version != deck.config.version:
        return False
    kept = kept_release_path(deck, options) if options.lang == "en+zh" else None
    for witness in (kept, released):
        if witness is not None and witness.is_file():
            return witness.read_bytes() == data
    return _notes_are_released(deck, notes, release)


def commit_files(
    path: Path,
    data: bytes,
    lock: Lock,
    new_lock_text: str,
    deck: Deck,
    options: BuildOptions,
    staged: Path | None = None,  # atomic.stage's copy of `data` beside `path`, if written before
    staged_lock: Path | None = None,  # and of the lock's text beside the lock
) -> str:
    """Write the build's files, the lock first: a kill or an error at any point leaves files
    that the next build (or `release` again) completes, never one that blocks it.

    The lock holds the notes' times, so with it written the next build makes the same .apkg;
    a release's version line in deck.yaml goes last (see unfinished_release)."""
    status = _package_status(
        path, data, options.force or path.name.endswith(f"{DEV_SUFFIX}.apkg"), deck
    )
    steps: list[tuple[Path, Callable[[], Any]]] = [
        (
            options.cards_dir / LOCK_FILE,
            lambda: write_lock(options.cards_dir, lock, new_lock_text, staged_lock),
        )
    ]
    steps.append((path, lambda: _write_package(path, data, status, deck, staged)))
    if options.release:
        _require_text_changelog(options.changelog)
        kept = kept_release_path(deck, options)
        kept_status = _kept_release_status(kept, data, deck)
        steps.append((kept, lambda: _write_package(kept, data, kept_status, deck, None)))
        if lock.release is None:
            raise ValueError("a release's lock records the release")
        changelog = lock.release.changelog
        steps.append((options.changelog, lambda: prepend_changelog(options.changelog, changelog)))
        steps.append((deck.config.location.file, lambda: write_version(deck, deck.config.version)))
    written: list[Path] = []
    for number, (target, write) in enumerate(steps):
        try:
            outcome = write()
        except OSError as error:
            raise WriteError(target, error, written, [t for t, _ in steps[number:]]) from None
        if target == path:
            status = outcome
        written.append(target)
    return status


def _require_text_changelog(changelog: Path) -> None:
    """The changelog is read before anything is written: one that is not UTF-8 text would stop
    the release after its package, and `release` run again would stop there again."""
    if changelog.exists() and not regular_file(changelog):  # a FIFO would block the read forever
        raise SourceError([Problem(Location(changelog), NOT_REGULAR, code=UNREADABLE)])
    try:
        data = changelog.read_bytes()
    except FileNotFoundError:
        return  # the release makes it
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        fix = ": a release adds its entry at the top; save it as UTF-8 or move it away"
        raise SourceError([not_utf8_problem(changelog, data, error, fix)]) from None


def _package_status(path: Path, data: bytes, replace: bool, deck: Deck) -> str:
    """What writing `data` to `path` will do ("written", "unchanged", "replaced"); a different
    file of the same version is refused unless `replace`. Writes nothing."""
    try:
        existing = path.read_bytes()
    except FileNotFoundError:
        return "written"
    if existing == data:
        return "unchanged"
    if not replace:
        raise SourceError([_different_content(path, deck)])
    return "replaced"


def _kept_release_status(kept: Path, data: bytes, deck: Deck) -> str:
    """A released file is never replaced: learners have it, and the tests rebuild it byte for
    byte."""
    try:
        if kept.read_bytes() == data:
            return "unchanged"
    except FileNotFoundError:
        return "written"
    raise SourceError(
        [
            Problem(
                deck.config.version_location,
                f"{Location(kept)} already exists with different content, and a released "
                "file is never replaced: set 'version' to the last release in the lock, or past "
                "this one",
            )
        ]
    )


def _write_package(path: Path, data: bytes, status: str, deck: Deck, staged: Path | None) -> str:
    if status == "replaced":
        write_atomically(path, data, staged=staged)
    elif status == "written" and not create_atomically(path, data, staged=staged):
        # Another build created it since _package_status looked: it wins unless it is ours.
        if path.read_bytes() != data:
            raise SourceError([_different_content(path, deck, raced=True)])
        return "unchanged"
    return status


def _different_content(path: Path, deck: Deck, raced: bool = False) -> Problem:
    return Problem(
        deck.config.version_location,
        f"{path} {'was just written by another build' if raced else 'already exists'} with "
        f"different content: bump 'version' (now {deck.config.version}, or run `mathdeck "
        "release`) so learners can tell the builds apart, or pass --force to overwrite it",
    )
