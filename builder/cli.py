"""The command line: `mathdeck` (and `python -m builder.cli`).

`main` first asks builder/cli_replay.py whether the command line can be answered as it was
before (`--help`, a `build` with nothing changed), which needs neither Typer nor the build, or
built with the options Typer read for it before (a `build` after an edit), which needs no Typer;
every other command line goes to the Typer app in builder/cli_app.py, where the commands are
registered (COMMANDS).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn


def main() -> None:
    from .cli_replay import replay

    argv = sys.argv[1:]
    keep_printing_any_text()
    # A command line answered without Typer (help, a no-op or an edit's build) ends within
    # seconds and keeps most of what it makes until then; reference counting frees the rest.
    # build() keeps the cycle collector off while it builds; before, its ~30 passes over the
    # modules being imported and the caches just read found nothing to free (6-8 ms of an
    # edit's ~0.3 s of CPU, at 264 or 2,000 cards; peak memory the same).
    gc.disable()
    try:
        code = replay(argv)
    except KeyboardInterrupt:  # as cli_app.run says it
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    if code is not None:
        exit_without_teardown(code)
    gc.enable()  # Typer's commands include `watch`, which rebuilds for hours
    from .cli_app import run

    run(argv)


def keep_printing_any_text() -> None:
    """A stdout that cannot encode every character (LC_ALL=C without Python's UTF-8 coercion, a
    PYTHONIOENCODING of ascii or latin-1) prints what it cannot as escapes, as Python's stderr
    does: the results' ✓, → and card text must not end a command that has done its work with a
    UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
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
