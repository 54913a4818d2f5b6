"""cli_app: the Typer app behind `mathdeck`, its commands and how they are registered.

builder/cli.py is the entry point: it answers what it can without Typer (builder/cli_replay.py)
and hands every other command line to `run` here.

The cli layer is the only place that prints, shows progress and chooses exit codes:
cli_report.py (consoles, progress, the Report that owns the exit code), cli_options.py (options
shared by several commands, how help reads), and the commands as plain functions in
cli_build.py (build, release, check, watch: the .apkg), cli_sources.py (lock, figures,
coverage, new: the deck's other files), cli_outputs.py (exports, preview, push), cli_pull.py and
cli_bench.py.

Adding a command: write it as a function in the cli_*.py module of its area (or a new one, added
to `cli` in tests/test_architecture.py's LAYERS): its parameters are its options (reuse those of
cli_options.py), its docstring its help; make a `Report()`, run the work inside
`report.stopping()` (and `stages()` for progress), print through the report, end with
`report.finish()`. Then add one line to COMMANDS below.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import typer

from . import cli_bench, cli_build, cli_outputs, cli_pull, cli_sources
from .cli_options import CONTEXT, MathdeckCommand, MathdeckGroup, prose
from .cli_report import interrupted, out


def command_group(name: str, help: str) -> typer.Typer:
    """A Typer app (mathdeck, or a group of subcommands) whose flags show no `<bool>` and whose
    `-h` is `--help`; errors are ours to report, so no pretty tracebacks."""
    return typer.Typer(
        name=name,
        help=help,
        cls=MathdeckGroup,
        context_settings=CONTEXT,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )


app = command_group(
    "mathdeck",
    "Build math-heavy Anki decks from plain-text card sources.\n\n"
    "cards/*.yaml → checked → Markdown + MathJax notes (+ figures from figures/*.py)"
    " → dist/<deck>-<version>.apkg",
)
export_app = command_group(
    "export",
    "Write the deck's sources as a Markdown or HTML cheat sheet, or as a CSV file for Anki's"
    " importer.",
)
app.add_typer(export_app, name="export")

# (group, command name, function), in the order `mathdeck --help` lists them.
COMMANDS: tuple[tuple[typer.Typer, str, Callable[..., None]], ...] = (
    (app, "new", cli_sources.new),
    (app, "build", cli_build.build),
    (app, "check", cli_build.check),
    (app, "release", cli_build.release),
    (app, "watch", cli_build.watch),
    (app, "preview", cli_outputs.preview),
    (app, "push", cli_outputs.push),
    (app, "pull", cli_pull.pull),
    (app, "figures", cli_sources.figures),
    (app, "coverage", cli_sources.coverage),
    (app, "lock", cli_sources.lock),
    (app, "bench", cli_bench.bench),
    (export_app, "markdown", cli_outputs.export_markdown),
    (export_app, "html", cli_outputs.export_html),
    (export_app, "csv", cli_outputs.export_csv),
)


def register(group: typer.Typer, name: str, function: Callable[..., None]) -> None:
    """`function` as the command `name`: -h, no `<bool>` beside flags, its docstring re-flowed."""
    group.command(
        name, help=prose(function.__doc__), cls=MathdeckCommand, context_settings=CONTEXT
    )(function)


for _group, _name, _function in COMMANDS:
    register(_group, _name, _function)


def mathdeck_version() -> str:
    try:
        return version("mathdeck")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _show_version(shown: bool) -> None:
    if shown:
        out.print(f"mathdeck {mathdeck_version()}", markup=False)
        raise typer.Exit()


@app.callback()
def mathdeck(
    show_version: bool | None = typer.Option(
        None,
        "--version",
        "-V",
        callback=_show_version,
        is_eager=True,
        help="Show mathdeck's version and exit.",
    ),
) -> None:
    """The options before any command (the help is the app's, above)."""


def run(argv: list[str]) -> None:
    """Run the command line `argv` (without the program's name) through Typer; exits."""
    from . import cli_replay
    from .cli_report import show_install_notices

    show_install_notices()
    try:
        with cli_replay.recording(argv):
            app(args=argv)
    except KeyboardInterrupt:
        interrupted()
    except SystemExit as done:
        if done.code == 130:  # Typer's silent end of a run interrupted outside report.stopping
            interrupted()
        raise
