"""cli_build_run: the `build` command's work, given the values of its options, without Typer.

Typer parses a `build` command line and calls cli_build.build, which hands its options here;
cli_replay.py calls `run_build` directly with the options Typer resolved for the same command
line before (Typer, click and pydantic take longer to import than an edit takes to build). Both
print through the same Report, so an edit, a warning or a bad input reads the same either way.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .cli_report import Report, stages
from .records import Record

if TYPE_CHECKING:
    from .build_stamp import Invocation


class BuildArguments(Record):
    """The values Typer gives `build`'s options (`lang` as its text)."""

    __slots__ = field_names = (
        "cards",
        "out_dir",
        "figures",
        "force",
        "allow_note_type_change",
        "lang",
        "strict",
    )
    cards: Final[Path]
    out_dir: Final[Path | None]
    figures: Final[Path | None]
    force: Final[bool]
    allow_note_type_change: Final[bool]
    lang: Final[str]
    strict: Final[bool]

    def __init__(
        self,
        cards: Path,
        out_dir: Path | None,
        figures: Path | None,
        force: bool,
        allow_note_type_change: bool,
        lang: str,
        strict: bool,
    ) -> None:
        self.cards = cards
        self.out_dir = out_dir
        self.figures = figures
        self.force = force
        self.allow_note_type_change = allow_note_type_change
        self.lang = lang
        self.strict = strict


def run_build(arguments: BuildArguments, invocation: Invocation | None) -> None:
    """Build, print the summary and end with the report's exit code; keep the build's stamp for
    the command line `invocation` (None: not run from the command line, as in the tests'
    CliRunner) when it succeeded."""
    from .build import build
    from .options import BuildOptions

    report = Report()
    started_ns = time.time_ns()
    with report.stopping(), stages() as progress:
        options = BuildOptions.for_deck(
            arguments.cards,
            arguments.out_dir,
            arguments.figures,
            force=arguments.force,
            allow_note_type_change=arguments.allow_note_type_change,
            lang=arguments.lang,
            strict=arguments.strict,
        )
        result = build(options, progress)
    # imported once built: before, they would delay the build asking node for its new formulas
    from .build_summary import summary_of
    from .cli_summary import changes_since, print_summary

    print_summary(report, summary_of(result), changes_since(result))
    if not report.exit_code and invocation is not None:
        _keep_stamp(invocation, options, result, started_ns)
    report.finish()


def _keep_stamp(invocation: Invocation, options, result, started_ns: int) -> None:
    """A successful build's stamp, for a replay when nothing changes (never fails the build)."""
    from contextlib import suppress

    from .build_stamp_record import record_build
    from .user_cache import stamps_dir

    with suppress(OSError):  # a stamp only saves time
        record_build(stamps_dir("builds"), invocation, options, result, started_ns)
