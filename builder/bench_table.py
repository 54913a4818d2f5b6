"""bench_table: the rows `mathdeck bench` measures, their targets, and the table it prints.

A target is either absolute (seconds, or megabytes for memory) or a ratio to the floor: a bare
genanki script writing the same notes, run as a process in the same bench, interleaved with
mathdeck's runs, so a machine loaded by other work slows both alike.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field


@dataclass
class Row:
    case: str
    seconds: list[float]  # one value per run (megabytes when unit is "MB")
    target: str = ""  # e.g. "≤ 1.0 s", "≤ 1.5× floor"
    limit: float | None = None  # when the target is absolute, in `unit`
    floor: list[float] | None = None  # the floor process's seconds, runs interleaved with these
    ratio_limit: float | None = None  # a target as a multiple of the floor's median
    cards: int | None = None  # deck size, for the cold synthetic rows (linearity)
    unit: str = "s"
    note: str = ""  # shown after the verdict, e.g. what a case found
    # CPU seconds (user + system, with node) of the same runs and the floor's: steadier than the
    # wall clock on a loaded machine, shown beside it; the targets are on the wall clock.
    cpu: list[float] | None = None
    floor_cpu: list[float] | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor) if self.floor else None

    @property
    def ratio(self) -> float | None:
        return self.median / self.floor_median if self.floor_median else None

    @property
    def cpu_ratio(self) -> float | None:
        return (
            statistics.median(self.cpu) / statistics.median(self.floor_cpu)
            if self.cpu and self.floor_cpu
            else None
        )

    @property
    def within_target(self) -> bool | None:
        if self.limit is not None:
            return self.median <= self.limit
        if self.ratio_limit is not None and self.ratio is not None:
            return self.ratio <= self.ratio_limit
        return None


@dataclass
class BenchResult:
    """Every row measured; `missed` lists the rows outside their target (the CLI exits 1 on any,
    unless asked to be informational)."""

    rows: list[Row] = field(default_factory=list)

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.within_target is False]


def linearity(rows: list[Row]) -> str:
    """Seconds per 1,000 more cards between the cold synthetic sizes: constant if time is linear."""
    cold = sorted((row.cards, row.median) for row in rows if row.cards)
    steps = [
        f"{small:,} → {large:,}: {(t_large - t_small) / (large - small) * 1000:.2f} s"
        for (small, t_small), (large, t_large) in itertools.pairwise(cold)
    ]
    return "cold build, marginal time per 1,000 cards: " + (
        "; ".join(steps) if steps else "(needs two sizes)"
    )


def _value(value: float, unit: str) -> str:
    return f"{value:.0f} MB" if unit == "MB" else f"{value:.2f} s"


def _cells(row: Row) -> tuple[str, ...]:
    """median, min, max, floor, ratio, cpu, cpu ratio, target, verdict."""
    return (
        _value(row.median, row.unit),
        _value(min(row.seconds), row.unit),
        _value(max(row.seconds), row.unit),
        f"{row.floor_median:.2f} s" if row.floor_median else "",
        f"{row.ratio:.2f}×" if row.ratio else "",
        f"{statistics.median(row.cpu):.2f} s" if row.cpu else "",
        f"{row.cpu_ratio:.2f}×" if row.cpu_ratio else "",
        row.target,
        " ".join(
            filter(
                None,
                [
                    {True: "ok", False: "MISSED", None: ""}[row.within_target],
                    row.note and f"({row.note})",
                ],
            )
        ),
    )


def format_table(rows: list[Row]) -> str:
    header = (
        "case",
        "runs",
        "median",
        "min",
        "max",
        "floor",
        "ratio",
        "cpu",
        "cpu ratio",
        "target",
        "",
    )
    lines = [header] + [(row.case, str(len(row.seconds)), *_cells(row)) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(text)


def markdown_table(rows: list[Row]) -> str:
    """The same rows as a Markdown table, for the README."""
    lines = [
        "| case | median | min | max | floor | ratio | cpu | cpu ratio | target | |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join((row.case, *_cells(row))) + " |" for row in rows]
    return "\n".join(lines)
