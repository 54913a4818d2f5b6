"""The command line: `mathdeck` (and `python -m builder.cli`).

`main` first asks builder/cli_replay.py whether the command line can be answered as it was
before (`--help`, a `build` with nothing changed), which needs neither Typer nor the build, or
built with the options Typer read for it before (a `build` after an edit), which needs no Typer;
every other command line goes to the Typer app in builder/cli_app.py, where the commands are
registered (COMMANDS).
"""

from __future__ import annotations

import gc
import io
import os
import signal
import sys
from contextlib import suppress
from pathlib import Path
from typing import NoReturn


def main() -> None:
    fit_for_faults()
    refusal = environment_refusal()
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        sys.exit(1)
    try:
        answer(sys.argv[1:])
    except KeyboardInterrupt:  # before a Report or Typer's run could say it (cli_report)
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def answer(argv: list[str]) -> None:
    from .cli_replay import replay

    # A command line answered without Typer (help, a no-op or an edit's build) ends within
    # seconds and keeps most of what it makes until then; reference counting frees the rest.
    # build() keeps the cycle collector off while it builds; before, its ~30 passes over the
    # modules being imported and the caches just read found nothing to free (6-8 ms of an
    # edit's ~0.3 s of CPU, at 264 or 2,000 cards; peak memory the same).
    gc.disable()
    code = replay(argv)
    if code is not None:
        exit_without_teardown(code)
    gc.enable()  # Typer's commands include `watch`, which rebuilds for hours
    from .cli_app import run

    run(argv)


def fit_for_faults() -> None:
    """The process set up so that what its environment does to it ends in a line, not in a
    traceback or in silence."""
    printable_streams()
    if "COLUMNS" in os.environ and not os.environ["COLUMNS"].strip("0"):
        # Rich takes COLUMNS=0 for a width of 0 and prints nothing, not even a usage error; like
        # a COLUMNS that is no number (which Rich ignores), it leaves the width to the terminal
        del os.environ["COLUMNS"]
    # SIGTERM (`kill`, `timeout`, a supervisor stopping `watch`) stops a command as Ctrl-C does:
    # its temporary files removed, "interrupted", exit 130. Python's default ended it at once,
    # leaving them for the next run to clean up.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def environment_refusal() -> str | None:
    """Why no command can run in this environment, in a line; None when one can."""
    try:
        os.getcwd()
    except FileNotFoundError:  # every command reads and writes relative to it
        return (
            "the current folder no longer exists (deleted, or replaced by a checkout): cd into "
            "the deck's folder again"
        )
    if not os.environ.get("XDG_CACHE_HOME"):
        try:
            Path.home()  # where the caches go (user_cache.py; node's, mathjax_snapshot.py)
        except RuntimeError:  # a container's user: no HOME, no entry in /etc/passwd
            return (
                f"HOME is not set and user {os.getuid()} has no home folder: set HOME (or "
                "XDG_CACHE_HOME) to a folder mathdeck may keep its caches in"
            )
    return None


def printable_streams() -> None:
    """A stream whose encoding cannot hold every character (Windows' cp1252, PYTHONIOENCODING=
    ascii) prints what it cannot hold as an escape (`\\u2713`), as Python's stderr always does:
    else the ✓ after a written build, or an author's é in a problem, ended the run in a
    traceback."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or ""
        if isinstance(stream, io.TextIOWrapper) and not encoding.lower().startswith("utf"):
            with suppress(ValueError):  # closed
                stream.reconfigure(errors="backslashreplace")


def exit_without_teardown(code: int) -> NoReturn:
    """End as sys.exit(code) would, without Python's teardown: freeing every module and object,
    with a last full pass of the cycle collector, was ~40 ms of CPU after an edit's build had
    written and printed everything (mypy ends the same way). The answered command lines leave
    no thread, child or atexit work behind: node was waited for, files were written atomically.
    A stream that cannot be flushed ends the usual way, which reports it as Python does."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # pythonw has none
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


# What `from builder.cli import ...` finds in cli_app (the tests' CliRunner runs `app` itself).
APP_NAMES = ("app", "export_app", "COMMANDS", "mathdeck_version")


def __getattr__(name: str):
    """cli_app's names, imported when first asked for, so that `main`'s fast answers never import
    Typer."""
    if name not in APP_NAMES:
        raise AttributeError(f"module 'builder.cli' has no attribute {name!r}")
    from . import cli_app

    return getattr(cli_app, name)


if __name__ == "__main__":
    main()
