"""cli_replay: command lines answered without Typer, from what the same command line printed before.

Typer, Rich's help and the parameter coercion behind them (pydantic) take longer to import than a
no-op build takes to run. So `mathdeck` first looks, with the standard library and a little of
builder/, whether the command line can be answered from what it did last time:

- `--help` (or `-h`) anywhere: the help Typer printed for the same command line in the same
  folder, the same mathdeck and libraries, the same environment and the same terminal (its size,
  whether each stream is one), kept in the per-user cache. Anything different renders it afresh.
- `build` with nothing changed since the same command line last built (builder/build_stamp.py):
  the summary a full build would print, printed by the same code (cli_summary.py).

What is kept is written while Typer runs the command line (`recording`), only when it succeeded:
the help text exactly as printed, and a build's stamp.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .build import BuildResult
    from .options import BuildOptions

HELP_FLAGS = ("-h", "--help")
# Variables that change from one shell command to the next and mean nothing to the help.
VOLATILE_ENVIRONMENT = ("_", "OLDPWD", "PWD", "SHLVL")

_recording: list[str] | None = None  # the command line Typer is running, while it runs
help_shown = False  # set when Typer renders a help page (cli_options' command classes)


def replay(argv: list[str]) -> int | None:
    """Answer `argv` as it was answered before and return the exit code, or None when Typer must
    run it (always with MATHDECK_REPLAY=0: `mathdeck bench` times the full path so)."""
    if os.environ.get("MATHDECK_REPLAY") == "0":
        return None
    if any(flag in argv for flag in HELP_FLAGS):
        return _replay_help(argv)
    if argv[:1] == ["build"]:
        return _replay_build(argv)
    return None


@contextmanager
def recording(argv: list[str]) -> Iterator[None]:
    """Run Typer on `argv` inside: keeps the help it printed, and lets `build` keep its stamp."""
    global _recording, help_shown
    _recording, help_shown = argv, False
    tee = _Tee(sys.stdout) if any(flag in argv for flag in HELP_FLAGS) else None
    # the key of the conditions the help is rendered in, taken before Typer runs
    help_path = _help_path(argv) if tee is not None else None
    try:
        if tee is None:
            yield
        else:
            sys.stdout = tee
            try:
                yield
            finally:
                sys.stdout = tee.stream
    except SystemExit as done:
        if help_path is not None and tee is not None and help_shown and done.code in (0, None):
            _keep_help(help_path, "".join(tee.written))
        raise
    finally:
        _recording = None


def remember_build(options: BuildOptions, result: BuildResult, started_ns: int) -> None:
    """After a successful build run from the command line: keep its stamp (never fails it)."""
    if _recording is None:  # called through the Typer app itself (tests' CliRunner)
        return
    from .build_stamp import Invocation, record_build

    with suppress(OSError):  # a stamp only saves time
        record_build(_stamps("builds"), Invocation.current(_recording), options, result, started_ns)


# ---------------------------------------------------------------- help


def _replay_help(argv: list[str]) -> int | None:
    try:
        text = _help_path(argv).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0


def _keep_help(path: Path, text: str) -> None:
    from .atomic import write_atomically
    from .build_stamp import forget_old_stamps

    with suppress(OSError):  # kept only to save time
        write_atomically(path, text.encode("utf-8"), durable=False)
        forget_old_stamps(path.parent)


def _help_path(argv: list[str]) -> Path:
    """Where the help for this command line, in this terminal and environment, is kept."""
    from .cache import code_fingerprint
    from .content_hash import content_key

    environment = sorted(
        (name, value) for name, value in os.environ.items() if name not in VOLATILE_ENVIRONMENT
    )
    terminal = [(_is_terminal(fd), _terminal_size(fd)) for fd in (0, 1, 2)]
    # sys.orig_argv: `python -m builder.cli` and `mathdeck` name the program differently; the
    # folder, in case a default shown in the help ever depends on it
    key = content_key(
        "help", sys.orig_argv, argv, os.getcwd(), environment, terminal, code_fingerprint()
    )
    return _stamps("help") / f"{key}.txt"


def _is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _terminal_size(fd: int) -> tuple[int, int] | None:
    try:
        return tuple(os.get_terminal_size(fd))  # type: ignore[return-value]
    except (OSError, ValueError):
        return None


class _Tee:
    """sys.stdout that also keeps what was written (whatever asks it about the stream, such as
    Rich asking whether it is a terminal, gets the real stream's answer)."""

    def __init__(self, stream):
        self.stream = stream
        self.written: list[str] = []

    def write(self, text: str) -> int:
        # written first: click probes with bytes, which the real (text) stream refuses
        count = self.stream.write(text)
        self.written.append(text)
        return count

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


# ---------------------------------------------------------------- build


def _replay_build(argv: list[str]) -> int | None:
    from .build_stamp import Invocation, replayed_build

    summary = replayed_build(_stamps("builds"), Invocation.current(argv))
    if summary is None:
        return None
    from .cli_report import Report
    from .cli_summary import print_summary

    report = Report()
    print_summary(report, summary)
    return report.exit_code


def _stamps(kind: str) -> Path:
    from .user_cache import user_cache_dir

    return user_cache_dir() / kind
