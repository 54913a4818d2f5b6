"""What mathdeck prints on a pipe without Rich (builder/cli_plain.py) is what Rich prints: the
same text, or None and Rich prints it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.table import Table

from builder import cli_report
from builder.build_summary import BuildSummary
from builder.changes import CardChanges
from builder.cli_console import rich_console
from builder.cli_plain import plain_line, plain_stream, plain_table
from builder.cli_report import Report
from builder.cli_summary import print_summary
from builder.problems import Location, Problem

# Pieces of text Rich may read otherwise: markup, escapes, wide, zero-width and control characters.
PIECES = st.sampled_from(
    [
        "a",
        "Wrote",
        " ",
        "  ",
        "dist/deck-1.0+dev.apkg",
        "✓",
        "[green]",
        "[yellow]",
        "[bold red]",
        "[/]",
        "[/green]",
        "[x]",
        "[",
        "]",
        "\\",
        "\\[green]",
        ":100:",
        "\t",
        "\n",
        "\r",
        "\x1b[31m",
        "é",
        "中文",
        "\u0301",
        "\u200b",
        "…",
        "x" * 9_999,
    ]
)
TEXTS = st.lists(PIECES, max_size=8).map("".join)


def rich_printed(stderr: bool, *objects, **options) -> str | None:
    """What Rich's console prints to a pipe; None when it refuses the markup."""
    stream = io.StringIO()
    console = rich_console(stderr)
    console.file = stream
    try:
        console.print(*objects, **options)
    except Exception as error:  # rich.errors.MarkupError
        if type(error).__name__ != "MarkupError":
            raise
        return None
    return stream.getvalue()


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.booleans(), st.booleans())
def test_a_plain_line_is_what_rich_prints(text, markup, stderr):
    plain = plain_line(text, markup, wrapped=not stderr)
    if plain is not None:
        assert plain + "\n" == rich_printed(stderr, text, markup=markup)


def test_plain_lines_are_the_ones_mathdeck_prints():
    assert plain_line("[green]✓[/] Wrote dist/deck-1.0+dev.apkg", True, True) == (
        "✓ Wrote dist/deck-1.0+dev.apkg"
    )
    assert plain_line("cards/a.yaml:3: warning: MD302 card 'x': … 中文", False, False) is not None
    assert plain_line("[yellow]2 warnings[/] (the command goes on)", True, False) is not None
    assert plain_line("[link=x]a[/]", True, True) is None


CELLS = st.one_of(
    st.from_regex(r"[a-z0-9(),.:]+( [a-z0-9(),.:]+)*", fullmatch=True).filter(
        lambda t: len(t) < 30
    ),
    st.text(st.sampled_from("ab 09(),.:[]é中\t"), max_size=14),
)


@settings(max_examples=300, deadline=None)
@given(CELLS, st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=4))
def test_a_plain_table_is_what_rich_draws(title, rows):
    plain = plain_table(title, rows)
    if plain is not None:
        table = Table(title=title, show_header=False)
        for row in rows:
            table.add_row(*row)
        assert plain + "\n" == rich_printed(False, table)


def test_the_summary_table_is_drawn_without_rich():
    rows = [("formula cards", "150"), ("media files", "20 (345,288 B)"), ("time", "0.42 s")]
    assert plain_table("ML Math Cheat Sheet 0.2.0", rows) is not None
    assert plain_table("A title much wider than the table it heads", rows) is None


def test_a_terminal_a_setting_rich_reads_or_another_encoding_takes_rich(monkeypatch):
    for name in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stdout", pipe)
    assert plain_stream(stderr=False) is pipe
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert plain_stream(stderr=False) is None
    monkeypatch.delenv("FORCE_COLOR")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert plain_stream(stderr=False) is None
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert plain_stream(stderr=False) is None


@pytest.mark.parametrize(
    "title", ["ML Math Cheat Sheet", "Statistik für Anfänger", "[b]old[/b] deck"]
)
def test_a_build_summary_prints_the_same_with_and_without_rich(monkeypatch, title):
    for name in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    warning = Problem(Location(Path("cards/a.yaml"), 3), "MD302 card 'x': too long …", "warning")
    summary = BuildSummary(
        title, "0.2.0", {"formula": 150, "qa": 113}, 273, 420, 4, 20, 345288, 0, 10, 482499, 0.42,
        "dist/deck-0.2.0+dev.apkg", "replaced", True, "0.2.0", [warning],
    )  # fmt: skip
    changes = CardChanges(added=[], changed=["p1-rank"], retired=[], removed=[])

    def printed() -> tuple[str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        print_summary(Report(), summary, changes)
        return out.getvalue(), err.getvalue()

    plain = printed()
    monkeypatch.setattr(cli_report, "plain_stream", lambda stderr: None)  # Rich for everything
    assert printed() == plain
    assert "│ formula cards │ 150" in plain[0] and "MD302" in plain[1]
