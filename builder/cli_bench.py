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
        5,
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
        help="Time a one-card edit and a no-op build of the flagship deck (cards/, figures/).",
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
    markdown: bool = typer.Option(
        False, "--markdown", help="Also print the table in Markdown (the README's)."
    ),
) -> None:
    """Time whole `mathdeck build` processes against their targets; exit 1 if one is missed.

    The floor is a bare genanki script writing the same notes, as its own process, run interleaved.
    Cases: the flagship and synthetic decks (formula, qa and code cards, several formulas each)
    cold, with one card edited and with nothing changed; `mathdeck --help`; peak memory; MathJax on
    20,000 formulas; the figures cold. Prints median, min, max, the ratio to the floor and each
    target with ok or MISSED; takes several minutes at the default sizes.
    """
    from .bench import BenchOptions, run_bench
    from .bench_table import format_table, linearity, markdown_table

    report = Report()
    try:
        counts = tuple(int(size.replace("_", "")) for size in sizes.split(",") if size.strip())
        if any(count < 1 for count in counts):  # a deck of no cards has nothing to time
            raise ValueError(sizes)
    except ValueError:
        report.usage_error(
            f"--sizes takes whole numbers of cards (1 or more) separated by commas, not '{sizes}'"
        )
    options = BenchOptions(
        sizes=counts,
        runs=runs,
        formulas=formulas,
        flagship=flagship,
        figures=figures,
        work_dir=keep,
    )
    from .bench_runs import RunFailed

    with report.stopping():
        try:
            result = run_bench(options, report=lambda line: err.print(line, markup=False))
        except RunFailed as error:  # a build that fails here fails as `mathdeck build`: its words
            report.failed(f"{error}; it printed:", error.output)
            report.finish()
    out.print(format_table(result.rows), markup=False)
    out.print(linearity(result.rows), markup=False)
    if markdown:
        out.print(markdown_table(result.rows), markup=False)
    judge_targets(report, [row.case for row in result.missed], informational)
    report.finish()


def judge_targets(report: Report, missed: list[str], informational: bool) -> None:
    """A missed target is a failure of the run, or only a line of the table with --informational."""
    if not missed:
        report.say("every row within its target", markup=False)
    elif informational:
        report.say(f"missed: {'; '.join(missed)} (--informational: exit 0)", markup=False)
    else:
        report.failed(f"missed: {'; '.join(missed)}")
