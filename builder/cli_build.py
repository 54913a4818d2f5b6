"""The commands that make the .apkg: build, release, check, watch (cli_sources.py: the rest).

Each is a plain function whose parameters are its options; cli.py registers it. Each makes a
Report, runs its stage inside `report.stopping()` (and `stages()` for a progress bar), prints its
result through the report and ends with `report.finish()`.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from .cli_options import (
    ALLOW_NOTE_TYPE_CHANGE,
    CARDS_OPTION,
    FIGURES_OPTION,
    LANG_OPTION,
    OUT_OPTION,
    STRICT_OPTION,
    Language,
    build_options,
)
from .cli_report import Report, err, error_line, out, plural, stages
from .cli_summary import changes_lines, changes_since, print_summary


def build(
    ctx: typer.Context,
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
    force: bool = typer.Option(
        False,
        "--force",
        help="Replace a file under a release's name whose bytes differ (never needed after an"
        " edit: that build goes to <deck>-<version>+dev.apkg).",
    ),
    allow_note_type_change: bool = ALLOW_NOTE_TYPE_CHANGE,
    lang: Language = LANG_OPTION,
    strict: bool = STRICT_OPTION,
) -> None:
    """Check the sources, then build dist/<deck>-<version>+dev.apkg (or <deck>-<version>.apkg
    when they are the last release).

    A rebuild updates learners' notes in place: each note carries the time its content last
    changed (kept in cards/mathdeck.lock.json; set SOURCE_DATE_EPOCH for reproducible builds).
    The summary names the cards added, changed and retired since the previous build. With
    --lang en the deck goes to <deck>-<version>-en.apkg.
    """
    from . import cli_replay
    from .cli_build_run import BuildArguments, run_build

    arguments = BuildArguments(
        cards, out_dir, figures, force, allow_note_type_change, lang.value, strict
    )
    # the next run of this command line reuses them without Typer (cli_replay)
    cli_replay.keep_build_arguments(arguments, cards_given=_given(ctx, "cards"))
    run_build(arguments, cli_replay.recorded_invocation())


def _given(ctx: typer.Context, option: str) -> bool:
    source = ctx.get_parameter_source(option)
    return source is not None and source.name == "COMMANDLINE"


def release(
    major: bool = typer.Option(False, "--major", help="Bump MAJOR (x.0.0)."),
    minor: bool = typer.Option(False, "--minor", help="Bump MINOR (0.x.0)."),
    patch: bool = typer.Option(False, "--patch", help="Bump PATCH (0.0.x); the default."),
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
    allow_note_type_change: bool = ALLOW_NOTE_TYPE_CHANGE,
) -> None:
    """Bump the version in deck.yaml, build the release and write its CHANGELOG.md entry.

    The entry lists the cards added, changed and retired since the previous release (remembered
    in cards/mathdeck.lock.json) and is shown in the deck's description in Anki.
    """
    from .build import build as run_build
    from .build_summary import summary_of

    report = Report()
    chosen = [name for name, flag in (("major", major), ("minor", minor), ("patch", patch)) if flag]
    if len(chosen) > 1:
        report.usage_error("choose one of --major, --minor, --patch")
    with report.stopping(), stages() as progress:
        options = build_options(
            cards,
            figures,
            out_dir,
            release=chosen[0] if chosen else "patch",
            allow_note_type_change=allow_note_type_change,
        )
        result = run_build(options, progress)
    print_summary(report, summary_of(result), changes_since(result))
    version, changes = result.deck.config.version, result.changes
    if result.resumed_release or changes is None:  # its changes were counted when it began
        report.say(f"Finished the interrupted release {version}; CHANGELOG.md updated.")
    else:
        report.say(
            f"Released {version}: {len(changes.added)} added, {len(changes.changed)} changed, "
            f"{len(changes.retired)} retired; CHANGELOG.md updated."
        )
    report.finish()


def check(
    cards: Path = CARDS_OPTION, figures: Path | None = FIGURES_OPTION, strict: bool = STRICT_OPTION
) -> None:
    """Validate the sources (YAML, keys, ids, figures, raw HTML, every formula through MathJax)
    and lint the cards (MD3xx).

    Runs the checks of `build` and writes no deck (only its caches under .cache/).
    """
    from .build import load_and_check

    report = Report()
    with report.stopping(writes=False), stages() as progress:
        checked = load_and_check(build_options(cards, figures, strict=strict), progress)
    deck, warnings = checked.deck, checked.warnings
    report.problems(warnings)
    report.done(
        f"{plural(len(deck.cards), 'card')} checked, no errors"
        + (f", {plural(len(warnings), 'warning')}." if warnings else ".")
    )
    report.finish()


def watch(
    cards: Path = CARDS_OPTION,
    out_dir: Path | None = OUT_OPTION,
    figures: Path | None = FIGURES_OPTION,
) -> None:
    """Rebuild dist/<deck>-<version>+dev.apkg on every save, printing only what changed.

    Ctrl-C stops.
    """
    from .watch import watch as run_watch

    report = Report()
    with report.stopping(writes=False):
        options = build_options(cards, figures, out_dir)
    out.print(f"Watching {cards} and {options.figures_dir} (Ctrl-C to stop)")
    run_watch(options, print_rebuild)


def print_rebuild(rebuild) -> None:
    stamp = time.strftime("%H:%M:%S")
    if rebuild.error is not None:
        problems = getattr(rebuild.error, "problems", None)
        for line in sorted(problems) if problems else [error_line(rebuild.error)]:
            err.print(str(line), markup=False)
        err.print(
            f"[{stamp}] [red]build failed[/] ({rebuild.seconds:.2f} s); waiting for the next save"
        )
        return
    if rebuild.first:  # every card is new to the watcher: count them, do not list them
        summary = f"built {plural(len(rebuild.result.notes), 'card')}"
    else:
        summary = "; ".join(changes_lines(rebuild.changes)) or "no card changed"
    out.print(f"[{stamp}] {summary} → {rebuild.result.path} ({rebuild.seconds:.2f} s)")
