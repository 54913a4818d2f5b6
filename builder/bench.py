"""bench: how long `mathdeck build` takes, as a whole process, against the floor, at every size.

`mathdeck bench` writes synthetic projects (builder/bench_decks.py) into a temporary folder, runs
`python -m builder.cli build` in them as separate processes (SOURCE_DATE_EPOCH set, `--force` for
edits under the same version) and compares each with the floor: a bare genanki script writing the
same notes as its own process (builder/bench_floor.py), its runs interleaved with mathdeck's. The
machine may be loaded by other work: the ratios to the floor measured in the same run are what
count. Targets (issue 18, this 2-core machine):

- one card edited: ≤ 1.5× the floor (flagship, 2,000 cards), ≤ 1.0× (20,000 cards)
- no-op build (nothing changed): ≤ 1.3× the floor
- cold build, every formula checked: ≤ 1.0 s at 2,000 cards, ≤ 8 s at 20,000
- `mathdeck --help`: ≤ 0.15 s; peak RSS of the 20,000-card cold build: ≤ 500 MB
- MathJax check of 20,000 distinct formulas ≤ 10 s; flagship figures, all cold ≤ 30 s
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .bench_decks import distinct_formulas, edit_one_card, write_synthetic_project
from .bench_halves import halves_rows
from .bench_runs import REPO, Floor, Run, build_run, compile_bytecode, run_cli
from .bench_table import BenchResult, Row

EPOCH = 1764000000


@dataclass
class BenchOptions:
    sizes: tuple[int, ...] = (200, 2_000, 20_000)
    runs: int = 5
    formulas: int = 20_000  # for the MathJax case; 0 skips it
    flagship: bool = True
    figures: bool = True
    work_dir: Path | None = None  # kept afterwards when given; a temporary folder otherwise


Report = Callable[[str], None]


def run_bench(options: BenchOptions, report: Report = lambda line: None) -> BenchResult:
    """Every case, `options.runs` times each, as whole processes."""
    compile_bytecode()
    work = (
        Path(tempfile.mkdtemp(prefix="mathdeck-bench-", dir=options.work_dir))
        if options.work_dir
        else None
    )
    with tempfile.TemporaryDirectory(prefix="mathdeck-bench-") as scratch:
        root = work or Path(scratch)
        result = BenchResult([_help_row(root, options, report)])
        if options.flagship:
            result.rows += _flagship_rows(root / "flagship", options, report)
        for count in options.sizes:
            result.rows += _synthetic_rows(root / f"synthetic-{count}", count, options, report)
        if options.formulas:
            result.rows.append(_mathjax_row(options, report))
        result.rows += _lint_rows(max(options.sizes, default=20_000), options, report)
        if options.figures:
            result.rows.append(_figures_row(root / "figures-cold", options, report))
        return result


def _help_row(root: Path, options: BenchOptions, report: Report) -> Row:
    runs = [run_cli(root, ["--help"], EPOCH) for _ in range(options.runs)]
    report(
        f"mathdeck --help: {min(run.seconds for run in runs):.2f}-"
        f"{max(run.seconds for run in runs):.2f} s"
    )
    return Row(
        "`mathdeck --help`",
        [run.seconds for run in runs],
        "≤ 0.15 s",
        0.15,
        cpu=[run.cpu for run in runs],
    )


def _flagship_rows(project: Path, options: BenchOptions, report: Report) -> list[Row]:
    report("flagship: copying the sources and drawing (or copying) its figures once")
    shutil.copytree(
        REPO / "cards", project / "cards", ignore=shutil.ignore_patterns("mathdeck.lock.json")
    )
    shutil.copytree(
        REPO / "figures", project / "figures", ignore=shutil.ignore_patterns("__pycache__")
    )
    if (REPO / "cards" / "mathdeck.lock.json").exists():  # released cards must stay: keep the lock
        shutil.copy2(
            REPO / "cards" / "mathdeck.lock.json", project / "cards" / "mathdeck.lock.json"
        )
    if (REPO / ".cache" / "figures").is_dir():
        shutil.copytree(REPO / ".cache" / "figures", project / ".cache" / "figures")
    build_run(project, EPOCH, force=True)  # warm: figures drawn if missing, caches filled
    floor = Floor(project)
    cards = sum(1 for _ in floor.notes)
    edited, edit_floor = _edits(project, options.runs, floor, report, "flagship")
    noop, noop_floor, full = _noops(project, options.runs, floor, report, "flagship")
    return [
        _timed_row(
            f"flagship ({cards} notes), 1 card edited",
            edited,
            edit_floor,
            "≤ 1.5× floor",
            ratio_limit=1.5,
        ),
        _timed_row(
            f"flagship ({cards} notes), no-op build",
            noop,
            noop_floor,
            "≤ 1.3× floor",
            ratio_limit=1.3,
        ),
        _timed_row(
            f"flagship ({cards} notes), no-op build without its stamp", full, noop_floor, ""
        ),
    ]


def _synthetic_rows(project: Path, count: int, options: BenchOptions, report: Report) -> list[Row]:
    report(f"{count:,} cards: writing the sources")
    cards = write_synthetic_project(project, count)
    cold = []
    for _ in range(options.runs):
        shutil.rmtree(project / ".cache", ignore_errors=True)
        shutil.rmtree(project / "dist", ignore_errors=True)
        (cards / "mathdeck.lock.json").unlink(missing_ok=True)
        cold.append(build_run(project, EPOCH, force=True))
        report(f"{count:,} cards, cold: {cold[-1].seconds:.2f} s, peak RSS {cold[-1].rss:.0f} MB")
    halves = halves_rows(project, count, options.runs, EPOCH, report)
    floor = Floor(project)
    edited, edit_floor = _edits(project, options.runs, floor, report, f"{count:,} cards")
    noop, noop_floor, full = _noops(project, options.runs, floor, report, f"{count:,} cards")
    cold_limit = {2_000: 1.0, 20_000: 8.0}.get(count)
    edit_limit = 1.0 if count >= 20_000 else 1.5 if count >= 2_000 else None
    noop_limit = 1.3 if count >= 2_000 else None
    return [
        _timed_row(
            f"{count:,} cards, cold (no caches), no figures",
            cold,
            edit_floor,
            f"≤ {cold_limit:g} s" if cold_limit else "linear",
            limit=cold_limit,
            cards=count,
        ),
        *halves,
        _timed_row(
            f"{count:,} cards, 1 card edited",
            edited,
            edit_floor,
            f"≤ {edit_limit:g}× floor" if edit_limit else "",
            ratio_limit=edit_limit,
        ),
        _timed_row(
            f"{count:,} cards, no-op build",
            noop,
            noop_floor,
            f"≤ {noop_limit:g}× floor" if noop_limit else "",
            ratio_limit=noop_limit,
        ),
        _timed_row(f"{count:,} cards, no-op build without its stamp", full, noop_floor, ""),
        Row(
            f"{count:,} cards, cold build's peak RSS",
            [run.rss for run in cold],
            "≤ 500 MB" if count >= 20_000 else "",
            500.0 if count >= 20_000 else None,
            unit="MB",
        ),
    ]


def _timed_row(case: str, runs: list[Run], floor: list[Run], target: str, **limits) -> Row:
    return Row(
        case,
        [run.seconds for run in runs],
        target,
        floor=[run.seconds for run in floor],
        cpu=[run.cpu for run in runs],
        floor_cpu=[run.cpu for run in floor],
        **limits,
    )


def _edits(
    project: Path, runs: int, floor: Floor, report: Report, label: str
) -> tuple[list[Run], list[Run]]:
    """`runs` one-card edits, each rebuilt (--force, a later SOURCE_DATE_EPOCH), each after a
    floor run."""
    builds, floors = [], []
    for run in range(runs):
        floors.append(floor.run())
        edit_one_card(project / "cards", run)
        builds.append(build_run(project, EPOCH + 1 + run, force=True))
        report(
            f"{label}, one card edited: {builds[-1].seconds:.2f} s "
            f"(floor {floors[-1].seconds:.2f} s)"
        )
    return builds, floors


def _noops(
    project: Path, runs: int, floor: Floor, report: Report, label: str
) -> tuple[list[Run], list[Run], list[Run]]:
    """`runs` builds with nothing changed since the last one (the same SOURCE_DATE_EPOCH), each
    after a floor run and followed by one that may not replay its stamp (all stages run)."""
    builds, floors, full = [], [], []
    for _ in range(runs):
        floors.append(floor.run())
        builds.append(build_run(project, EPOCH + runs, force=False))
        full.append(build_run(project, EPOCH + runs, force=False, replay=False))
        report(
            f"{label}, no-op build: {builds[-1].seconds:.2f} s, without its stamp "
            f"{full[-1].seconds:.2f} s (floor {floors[-1].seconds:.2f} s)"
        )
    return builds, floors, full


def _mathjax_row(options: BenchOptions, report: Report) -> Row:
    from .mathjax import measure_tex
    from .phone_budget import FITS_DEFAULT_PHONE_EM

    items = distinct_formulas(options.formulas)
    seconds = []
    for _ in range(options.runs):
        started = time.perf_counter()
        # one node process for the batch, no cache; widths as a build asks for them
        verdicts = measure_tex(items, bound_limit_em=FITS_DEFAULT_PHONE_EM)
        seconds.append(time.perf_counter() - started)
        report(f"MathJax, {options.formulas:,} formulas: {seconds[-1]:.2f} s")
    if any(error for error, *_ in verdicts):
        raise RuntimeError("the benchmark's formulas should all be valid TeX")
    big = options.formulas >= 20_000
    return Row(
        f"MathJax check of {options.formulas:,} distinct formulas (1 node process)",
        seconds,
        "≤ 10 s" if big else "",
        10.0 if big else None,
    )


def _lint_rows(count: int, options: BenchOptions, report: Report) -> list[Row]:
    """The card linter in this process on a synthetic deck in memory (builder/lint_bench.py),
    by itself and as a build runs it after a build of the same deck."""
    from .lint_bench import time_lint, time_lint_in_builds

    timing = time_lint(count, options.runs)
    report(
        f"linter, {count:,} cards: near-duplicates {timing.duplicates[-1][0]:.2f} s, "
        f"every rule {timing.linter[-1][0]:.2f} s"
    )
    found = f"{timing.found} of {timing.planted} planted duplicates found"
    rows = [
        Row(
            f"near-duplicate cards among {count:,} (linter MD301, in memory)",
            [seconds for seconds, _ in timing.duplicates],
            note=found,
            cpu=[cpu for _, cpu in timing.duplicates],
        ),
        Row(
            f"card linter, every rule, {count:,} cards (in memory)",
            [seconds for seconds, _ in timing.linter],
            cpu=[cpu for _, cpu in timing.linter],
        ),
    ]
    for case, runs in time_lint_in_builds(count, options.runs).items():
        report(f"linter in a build, {count:,} cards, {case}: {runs[-1][0]:.3f} s")
        rows.append(
            Row(
                f"card linter in a build, {count:,} cards, {case}",
                [seconds for seconds, _ in runs],
                cpu=[cpu for _, cpu in runs],
            )
        )
    return rows


def _figures_row(project: Path, options: BenchOptions, report: Report) -> Row:
    shutil.copytree(REPO / "cards", project / "cards")
    shutil.copytree(
        REPO / "figures", project / "figures", ignore=shutil.ignore_patterns("__pycache__")
    )
    seconds = []
    for _ in range(options.runs):
        shutil.rmtree(project / ".cache", ignore_errors=True)
        seconds.append(run_cli(project, ["figures"], EPOCH).seconds)
        report(f"figures, cold: {seconds[-1]:.2f} s")
    count = len([p for p in (project / "figures").glob("*.py") if not p.name.startswith("_")])
    return Row(f"all {count} figures cold, {os.cpu_count()} cores", seconds, "≤ 30 s", 30.0)
