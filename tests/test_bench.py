"""`mathdeck bench` at a tiny size: it runs every case as whole processes and prints its table.
Timings are not asserted (the machine is shared); the real sizes are in the README."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from builder.bench_decks import edit_one_card, write_synthetic_project
from builder.bench_runs import floor_input
from builder.bench_table import BenchResult, Row, format_table
from builder.identity import guid_for_card
from builder.load import load_deck


def test_bench_prints_a_row_per_case(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "builder.cli",
            "bench",
            "--sizes",
            "12,30",
            "--runs",
            "1",
            "--formulas",
            "40",
            "--no-flagship",
            "--no-figures",
            "--keep",
            str(tmp_path),
            "--informational",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [cell.strip() for cell in lines[0].split(" | ")][:7] == [
        "case",
        "runs",
        "median",
        "min",
        "max",
        "floor",
        "ratio",
    ]
    for case in (
        "`mathdeck --help`",
        "12 cards, cold",
        "12 cards, 1 card edited",
        "12 cards, no-op build",
        "12 cards, cold build's peak RSS",
        "30 cards, cold",
        "30 cards, cold: MathJax alone (",
        "30 cards, cold: Python alone (MathJax's verdicts cached)",
        "30 cards, 1 card edited",
        "30 cards, no-op build",
        "MathJax check of 40 distinct formulas",
        "card linter in a build, 30 cards, nothing changed",
        "card linter in a build, 30 cards, one front edited",
    ):
        assert any(line.startswith(case) for line in lines), case
    edited = next(line for line in lines if line.startswith("30 cards, 1 card edited"))
    assert "×" in edited  # a ratio to the floor measured in the same run
    assert "marginal time per 1,000 cards" in result.stdout
    [kept] = tmp_path.glob("mathdeck-bench-*")
    assert (kept / "synthetic-30" / "dist" / "bench-1.0.0+dev.apkg").exists()


def test_the_halves_of_a_cold_build_are_what_a_build_sends_node_and_does_without_it(
    tmp_path, monkeypatch
):
    from builder import bench_halves, mathjax
    from builder.build import BuildOptions, build

    project = tmp_path / "project"
    project.mkdir()
    write_synthetic_project(project, 12)
    sent: list[tuple[str, bool]] = []
    real_send = mathjax.TexStream.send

    def send(stream, items):
        sent.extend(items)
        return real_send(stream, items)

    monkeypatch.setattr(mathjax.TexStream, "send", send)
    cards = project / "cards"
    build(
        BuildOptions(
            cards_dir=cards,
            out_dir=project / "dist",
            figures_dir=project / "figures",
            cache_dir=project / ".cache" / "figures",
            dev=True,
        )
    )
    formulas = bench_halves.deck_formulas(cards)
    assert formulas == sent and len(formulas) > 12  # the very items, in the build's order

    run = bench_halves.mathjax_alone(formulas)
    assert run.seconds > 0 and run.cpu > 0  # node's CPU is counted once its exit is reaped

    verdicts = project / ".cache" / "build" / bench_halves.VERDICTS
    kept = {path.name: path.read_bytes() for path in verdicts.iterdir()}
    # a node that cannot start: the build fails if it runs one
    monkeypatch.setenv("NODE_OPTIONS", "--no-such-option-so-node-cannot-start")
    bench_halves.python_alone(project, 1764000000)
    left = sorted(path.name for path in (project / ".cache" / "build").iterdir())
    assert "notes" in left and (project / "dist" / "bench-1.0.0+dev.apkg").exists()
    # the build found every verdict cached: it asked node nothing and added none
    assert {path.name: path.read_bytes() for path in verdicts.iterdir()} == kept


TINY = ["--sizes", "12", "--runs", "1", "--formulas", "0", "--no-flagship", "--no-figures"]


def test_a_build_failing_under_the_bench_ends_it_with_the_builds_words(tmp_path):
    """A node that refuses its NODE_OPTIONS fails the timed build: the bench says which command
    failed and what it printed, with no traceback of its own."""
    result = subprocess.run(
        [sys.executable, "-m", "builder.cli", "bench", *TINY, "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NODE_OPTIONS": "--no-such-option"},
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert " -m builder.cli build --force failed (exit 1) in " in failed[0]
    assert failed[0].endswith("synthetic-12; it printed:")
    assert failed[1].startswith("error: MathJax's checker failed; nothing was written.")
    assert "--no-such-option is not allowed in NODE_OPTIONS" in failed[1]
    assert result.stdout == ""  # no table: nothing was timed


def test_synthetic_decks_are_valid_and_realistic(tmp_path):
    cards = write_synthetic_project(tmp_path / "p", 25, per_file=10)
    assert sorted(p.name for p in cards.glob("synthetic-*.yaml")) == [
        "synthetic-000.yaml",
        "synthetic-001.yaml",
        "synthetic-002.yaml",
    ]
    deck = load_deck(cards)
    assert len(deck.cards) == 25 and {card.kind for card in deck.cards} == {"formula", "qa", "code"}
    formulas = (
        sum("".join(card.text.values()).count("$") for card in deck.cards) / 2 / len(deck.cards)
    )
    assert formulas > 4  # several formulas per card
    before = yaml.safe_load((cards / "synthetic-001.yaml").read_text())
    edit_one_card(cards, 3)
    after = yaml.safe_load((cards / "synthetic-001.yaml").read_text())
    changed = [a["id"] for a, b in zip(before["cards"], after["cards"], strict=True) if a != b]
    assert len(changed) == 1 and "Edit 3: $e^{3} > 0$." in str(after["cards"])


def test_table_marks_rows_against_their_targets():
    rows = [
        Row("fast", [1.0, 1.2, 0.9], "≤ 1.5 s", 1.5),
        Row("slow", [3.0], "≤ 3× floor", None, floor=[0.4, 0.5, 0.6], ratio_limit=3.0),
        Row("memory", [120.0, 130.0], "≤ 500 MB", 500.0, unit="MB"),
        Row("informative", [2.0]),
    ]
    table = format_table(rows)
    assert (
        "ok" in table.splitlines()[2]
        and "MISSED" in table.splitlines()[3]
        and "ok" in table.splitlines()[4]
    )
    assert "6.00×" in table and "1.00 s" in table and "125 MB" in table
    assert [row.case for row in BenchResult(rows).missed] == ["slow"]


def test_a_missed_target_makes_the_command_fail_unless_informational(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import builder.bench
    from builder.cli import app

    monkeypatch.setattr(
        builder.bench,
        "run_bench",
        lambda options, report: BenchResult([Row("slow", [2.0], "≤ 1 s", 1.0)]),
    )
    assert CliRunner().invoke(app, ["bench"]).exit_code == 1
    informational = CliRunner().invoke(app, ["bench", "--informational"])
    assert informational.exit_code == 0 and "MISSED" in informational.stdout


@pytest.mark.parametrize("sizes", ["0", "200,-5", "1e3"])
def test_sizes_that_are_not_card_counts_are_a_usage_error(sizes):
    from typer.testing import CliRunner

    from builder.cli import app

    result = CliRunner().invoke(app, ["bench", "--sizes", sizes])
    assert result.exit_code == 2 and result.output == (
        f"Usage error: --sizes takes whole numbers of cards (1 or more) separated by commas, "
        f"not '{sizes}'\n"
    )


def test_floor_input_reads_back_the_notes_of_a_package(tmp_path):
    from builds import MINIMAL, build_in, copy_sources

    copy_sources(MINIMAL, tmp_path / "a")
    result = build_in(tmp_path / "a")
    data = floor_input(result.path, tmp_path)
    assert len(data["notes"]) == len(result.notes)
    assert sorted(note[2] for note in data["notes"]) == sorted(
        guid_for_card(n.card) for n in result.notes
    )
    assert {tuple(note[3]) for note in data["notes"]} == {tuple(n.fields) for n in result.notes}


def test_bench_help_is_documented():
    result = subprocess.run(
        [sys.executable, "-m", "builder.cli", "bench", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        cwd=Path(__file__).parent,
    )
    assert result.returncode == 0 and "--sizes" in result.stdout and "genanki" in result.stdout
