"""Writing files so that a crash or an error never leaves a half-written one behind.

Temporary files are named `.<name>.<pid>.<random>.tmp` beside their target, so a later build can
tell the leftovers of a killed process (its pid is gone) from a running build's files.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"
# A leftover without a pid in its name (older mathdeck) is stale once this old.
STALE_SECONDS = 3600
_PID_IN_TEMP_NAME = re.compile(r"\.(\d+)\.[^.]+\.tmp$")


def write_atomically(
    path: Path, data: bytes, durable: bool = True, staged: Path | None = None
) -> None:
    """Replace `path` with `data` in one rename: readers see the old file or the new one.
    `durable=False` skips the fsync, for caches (a damaged cache entry is only a miss). `staged`:
    stage()'s copy of `data`, already written."""
    try:
        temp = staged if staged is not None else _write_temp(path, data, durable)
    except OSError as error:
        raise _naming(path, error) from None
    try:
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(path, error) from None
        raise


def _naming(path: Path, error: OSError) -> OSError:
    """The error about `path` itself: a failed write names no file (a full disk) and a failed
    rename names the temporary file, neither of which the user asked for."""
    return OSError(error.errno, error.strerror, str(path))


def create_atomically(path: Path, data: bytes, staged: Path | None = None) -> bool:
    """Write `path` only if it does not exist: False when it exists (another process may just
    have made it). A hard link of the finished temp file creates the name or fails, so two racing
    writers can never both create it. `staged`: stage()'s copy of `data`, already written."""
    temp = staged if staged is not None else _write_temp(path, data)
    try:
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)


def stage(path: Path, data: bytes) -> Path | None:
    """`data` written and flushed to disk beside `path`, under a temporary name, for
    write_atomically or create_atomically to put in place later (the caller removes it if they
    do not); None when it cannot be written now: they write it then, and say why they cannot."""
    try:
        return _write_temp(path, data)
    except OSError:
        return None


def _write_temp(path: Path, data: bytes, durable: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # here: a replayed build (builder/build_stamp.py) writes nothing

    fd, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())  # the rename must not outrun the data (power loss)
        os.chmod(temp, 0o644)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def remove_stale_temporaries(folder: Path, pattern: str = f".*{TEMP_SUFFIX}") -> list[Path]:
    """Delete what killed processes left in `folder` (temp files, or e.g. `.drawing-*` folders
    with a pid in their name); a running process's files stay. Returns what was removed."""
    removed: list[Path] = []
    try:
        candidates = list(Path(folder).glob(pattern))
    except OSError:
        return removed
    for path in candidates:
        if _is_stale(path):
            try:
                if path.is_dir() and not path.is_symlink():
                    import shutil

                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
            except OSError:
                pass  # e.g. a read-only folder: harmless, tried again next time
    return removed


def _is_stale(path: Path) -> bool:
    match = _PID_IN_TEMP_NAME.search(path.name) or re.search(r"-(\d+)-[^-]+$", path.name)
    if match:
        return not _process_alive(int(match.group(1)))
    try:
        return time.time() - path.lstat().st_mtime > STALE_SECONDS
    except OSError:
        return False


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
