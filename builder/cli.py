"""The command line: `mathdeck` (and `python -m builder.cli`).

`main` first asks builder/cli_replay.py whether the command line can be answered as it was
before (`--help`, a `build` with nothing changed), which needs neither Typer nor the build, or
built with the options Typer read for it before (a `build` after an edit), which needs no Typer;
every other command line goes to the Typer app in builder/cli_app.py, where the commands are
registered (COMMANDS).
"""

from __future__ import annotations

import gc
import sys

# Container objects allocated (net) between two passes of Python's cycle collector. A command
# keeps most of what it makes until it ends, and frees the rest by reference counting: the
# default 700 ran ~30 young passes in an edit's build, each walking the caches just read
# (18-30 ms of CPU, ~5%), to free nothing. At 200,000 a 2,000-card cold build runs none and
# peaks at the same memory; a bigger one still collects.
GC_THRESHOLD = 200_000


def main() -> None:
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    from .cli_replay import replay

    argv = sys.argv[1:]
    try:
        code = replay(argv)
    except KeyboardInterrupt:  # as cli_app.run says it
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    if code is not None:
        sys.exit(code)
    from .cli_app import run

    run(argv)


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
