"""`mathdeck bench`: time whole builds; a missed target fails the run unless --informational."""

from __future__ import annotations

from pathlib import Path

import typer

from .cli_report import Report, err, out


def bench(
    sizes: str = typer.Option(
        "200,2000,20000",
        "--sizes",
        metavar="<n,n,...>",
        help="Sizes of the synthetic decks, in cards, comma-separated.",
    ),
    runs: int = typer.Option(
        3,
        "--runs",
        metavar="<n>",
        min=1,
        help="Runs of each case: the table shows their median, min and max.",
    ),
    formulas: int = typer.Option(
        20000,
        "--formulas",
        metavar="<n>",
        min=0,
        help="Distinct formulas for the MathJax case (0 leaves it out).",
    ),
    flagship: bool = typer.Option(
        True,
        "--flagship/--no-flagship",
        help="Time a one-card edit of the flagship deck (cards/, figures/).",
    ),
    figures: bool = typer.Option(
        True, "--figures/--no-figures", help="Time drawing every flagship figure with no cache."
    ),
    keep: Path | None = typer.Option(
        None,
        "--keep",
        metavar="<dir>",
        file_okay=False,
        help="Keep the generated projects in a new folder under this one.",
    ),
    informational: bool = typer.Option(
        False,
        "--informational",
        "--no-fail",
        help="Exit 0 even when a row misses its target (the table still says MISSED).",
    ),
) -> None:
    """Time whole `mathdeck build` processes against their targets; exit 1 if one is missed.

    Cases: the flagship with one card edited, synthetic decks (formula, qa and code cards, several
    formulas each) cold and with one card edited, MathJax on 20,000 formulas, the figures cold.
    Prints median, min, max and the ratio to genanki's bare write_to_file of the same notes; takes
    a few minutes at the default sizes.
    """
    from .bench import BenchOptions, format_table, linearity, run_bench

    report = Report()
    try:
        counts = tuple(int(size.replace("_", "")) for size in sizes.split(",") if size.strip())
    except ValueError:
        report.usage_error(f"--sizes takes whole numbers separated by commas, not '{sizes}'")
    options = BenchOptions(
        sizes=counts,
        runs=runs,
        formulas=formulas,
        flagship=flagship,
        figures=figures,
        work_dir=keep,
    )
    with report.stopping():
        rows = run_bench(options, report=lambda line: err.print(line, markup=False))
    out.print(format_table(rows), markup=False)
    out.print(linearity(rows), markup=False)
    judge_targets(report, [row.case for row in rows if row.within_target is False], informational)
    report.finish()


def judge_targets(report: Report, missed: list[str], informational: bool) -> None:
    """A missed target is a failure of the run, or only a line of the table with --informational."""
    if not missed:
        report.say("every row within its target", markup=False)
    elif informational:
        report.say(f"missed: {'; '.join(missed)} (--informational: exit 0)", markup=False)
    else:
        report.failed(f"missed: {'; '.join(missed)}")
