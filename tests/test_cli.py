"""The command line as a user meets it: help, exit codes, messages, summary."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builds import MINIMAL, copy_sources

MATHDECK = [sys.executable, "-m", "builder.cli"]


def run(args, cwd: Path, **env):
    return subprocess.run(
        MATHDECK + args,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1764000000", "COLUMNS": "200", **env},
    )


@pytest.fixture
def project(tmp_path) -> Path:
    copy_sources(MINIMAL, tmp_path)
    return tmp_path


def test_help_documents_every_command(project):
    result = run(["--help"], project)
    assert result.returncode == 0
    for command in ("build", "check", "figures"):
        assert command in result.stdout
    build_help = run(["build", "--help"], project)
    assert (
        "--force" in build_help.stdout
        and "--cards" in build_help.stdout
        and "SOURCE_DATE_EPOCH" in build_help.stdout
    )


def test_build_prints_a_summary_and_writes_the_package(project):
    result = run(["build"], project)
    assert result.returncode == 0, result.stderr
    assert (
        "formula cards" in result.stdout
        and "Anki cards" in result.stdout
        and "package size" in result.stdout
    )
    assert "dist/ml-math-cheatsheet-0.1.0+dev.apkg" in result.stdout.replace(
        "\n", ""
    )  # 0.1.0 is not released
    assert "development build" in result.stdout
    assert (project / "dist" / "ml-math-cheatsheet-0.1.0+dev.apkg").exists()


def test_usage_error_exits_2(project):
    result = run(["build", "--no-such-flag"], project)
    assert result.returncode == 2 and "No such option" in result.stderr


def test_source_problem_exits_1_with_file_and_line_and_no_traceback(project):
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("kind: qa", "kind: qaa"))
    result = run(["build"], project)
    assert result.returncode == 1
    assert "cards/cards.yaml:17:11: MD113 unknown kind 'qaa' (did you mean 'qa'?)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project / "dist").exists()


def test_check_writes_nothing(project):
    result = run(["check"], project)
    assert result.returncode == 0, result.stderr
    assert "3 cards checked, no errors" in result.stdout
    assert (
        not (project / "dist").exists() and not (project / "cards" / "mathdeck.lock.json").exists()
    )


def test_check_does_not_say_it_wrote_nothing(project):
    """`check` never writes: its problems end with their count, not "nothing was written"."""
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("kind: qa", "kind: qaa"))
    result = run(["check"], project)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "1 problem."
    assert "nothing was written" not in result.stderr + result.stdout


# ---------------------------------------------------------------- the command line itself


def all_commands():
    """(words, click command) for mathdeck and every command and subcommand under it."""
    import typer.main

    from builder.cli import app

    def walk(command, words):
        yield words, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*words, name])

    return list(walk(typer.main.get_command(app), []))


def help_of(words: list[str], flag: str = "--help") -> str:
    from typer.testing import CliRunner

    from builder.cli import app

    result = CliRunner().invoke(app, [*words, flag], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (words, result.output)
    return result.output


def test_version_is_the_installed_package_s(project):
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        result = run([flag], project)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"mathdeck {version('mathdeck')}\n"


def test_dash_h_is_help_everywhere():
    commands = all_commands()
    assert len(commands) >= 14  # mathdeck, its commands, export and its three formats
    for words, _ in commands:
        assert help_of(words, "-h") == help_of(words, "--help"), words


def test_no_flag_shows_a_value_hint_and_lang_reads_the_same_everywhere():
    langs = set()
    for words, command in all_commands():
        text = help_of(words)
        assert "<bool>" not in text and "<str>" not in text, words
        flags = [param.opts[0] for param in command.params if getattr(param, "is_flag", False)]
        assert all(flag in text for flag in flags), (
            words
        )  # the flags are there, only without a hint
        options = [line.strip("│ ").split() for line in text.splitlines()]
        langs |= {words[1] for words in options if words and words[0] == "--lang"}
    assert langs == {"<en|en+zh>"}


def test_help_reflows_docstrings_instead_of_breaking_sentences():
    text = help_of(["build"])
    # the docstring breaks its lines after "last" and "content"; the help must not
    assert "the time its content last changed" in " ".join(text.split())
    lines = [line.strip() for line in text.splitlines()]
    assert not any(line.endswith("content last") for line in lines)


def test_a_bad_url_is_one_line_and_exit_2(project):
    result = run(["push", "--url", "notaurl"], project)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "Usage error: --url 'notaurl' is not an http:// address such as http://127.0.0.1:8765"
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_piped_output_is_not_wrapped_mid_sentence(project):
    """With stdout and stderr pipes and no COLUMNS, Rich would wrap at 80 columns: a line a program
    (or a bug report) reads must stay one line."""
    out_dir = project / ("a-folder-with-a-rather-long-name-" * 3) / "dist"
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("kind: qa", "kind: qaa"))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}

    def build():  # stdout and stderr are pipes
        command = [*MATHDECK, "build", "--out", str(out_dir)]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)

    failed = build()
    problem = (
        "cards/cards.yaml:17:11: MD113 unknown kind 'qaa' (did you mean 'qa'?); "
        "kinds are: formula, qa, cloze, code, basic"
    )
    assert len(problem) > 80 and failed.returncode == 1
    assert failed.stderr.splitlines() == [problem, "1 problem; nothing was written."]
    cards.write_text(cards.read_text().replace("kind: qaa", "kind: qa"))
    built = build()
    assert built.returncode == 0, built.stderr
    wrote = f"✓ Wrote {out_dir / 'ml-math-cheatsheet-0.1.0+dev.apkg'}"
    assert len(wrote) > 120 and wrote in built.stdout.splitlines()


# ---------------------------------------------------------------- what a command says


def test_build_summary_names_the_cards_added_changed_and_retired(project):
    first = run(["build"], project)
    assert first.returncode == 0, first.stderr
    assert "added: bayes-theorem, q13-kl-divergence, snippet-softmax" in first.stdout.splitlines()

    cards = project / "cards" / "cards.yaml"
    text = cards.read_text().replace("concept: Bayes' theorem", "concept: Bayes' rule")
    cards.write_text(text.replace("    tags: [part2]\n", "    tags: [part2]\n    retired: true\n"))
    second = run(["build", "--force"], project)
    assert second.returncode == 0, second.stderr
    lines = second.stdout.splitlines()
    assert "changed: bayes-theorem" in lines and "retired: snippet-softmax" in lines
    assert not any(line.startswith("added:") for line in lines)

    again = run(["build"], project)
    assert again.returncode == 0 and not any(
        line.startswith(("added:", "changed:", "retired:")) for line in again.stdout.splitlines()
    )


def test_a_long_list_of_changed_cards_is_cut_short():
    from builder.changes import CardChanges
    from builder.cli_summary import SHOWN_IDS, changes_lines

    ids = [f"card-{number:03d}" for number in range(SHOWN_IDS + 256)]
    assert changes_lines(CardChanges(added=ids)) == [
        f"added: {', '.join(ids[:SHOWN_IDS])} and 256 more"
    ]
    assert changes_lines(CardChanges(changed=ids[:2], removed=ids[2:3])) == [
        "changed: card-000, card-001",
        "removed: card-002",
    ]
    assert changes_lines(CardChanges()) == []


def test_watch_counts_the_cards_of_its_first_build_instead_of_listing_them(capsys):
    from types import SimpleNamespace

    from builder.changes import CardChanges
    from builder.cli_build import print_rebuild
    from builder.watch import Rebuild

    ids = [f"card-{number}" for number in range(266)]
    result = SimpleNamespace(notes=ids, path=Path("dist/deck-1.0.0-dev.apkg"))
    print_rebuild(Rebuild(result, CardChanges(added=ids), seconds=1.0, first=True))
    print_rebuild(Rebuild(result, CardChanges(changed=["card-7"]), seconds=0.5))
    first, edit = capsys.readouterr().out.splitlines()
    assert "built 266 cards → dist/deck-1.0.0-dev.apkg" in first and "card-1" not in first
    assert "changed: card-7 → dist/deck-1.0.0-dev.apkg" in edit


def test_coverage_prints_no_empty_table_when_all_is_covered(project):
    seed = project / "cards" / "seed"
    seed.mkdir()
    (seed / "items.yaml").write_text("items:\n  - id: s1-bayes\n    text: Bayes' theorem\n")
    cards = project / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace(
            "    tags: [probability]\n", "    tags: [probability]\n    covers: [s1-bayes]\n"
        )
    )
    covered = run(["coverage"], project)
    assert covered.returncode == 0, covered.stderr
    assert covered.stdout.splitlines() == ["1/1 seed items covered by 3 cards"]
    listed = run(["coverage", "--all"], project)
    assert "Seed coverage" in listed.stdout and "bayes-theorem" in listed.stdout


# ---------------------------------------------------------------- the Report and the exit code


def test_the_report_owns_the_exit_code():
    from builder.cli_report import Report
    from builder.problems import Location, Problem

    report = Report()
    report.problems([Problem(Location(Path("cards/a.yaml"), 3), "a warning", "warning")])
    assert report.exit_code == 0 and report.warnings == 1
    report.finish()  # success: returns
    report.problems([Problem(Location(Path("cards/a.yaml"), 4), "an error")])
    assert report.exit_code == 1 and report.errors == 1
    with pytest.raises(SystemExit) as ended:
        report.finish()
    assert ended.value.code == 1


def test_ctrl_c_during_a_command_says_interrupted_and_exits_130(capsys):
    from builder.cli_report import Report

    with pytest.raises(SystemExit) as ended, Report().stopping():
        raise KeyboardInterrupt
    assert ended.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_bench_fails_on_a_missed_target_unless_informational():
    from builder.cli_bench import judge_targets
    from builder.cli_report import Report

    missed, informational, met = Report(), Report(), Report()
    judge_targets(missed, ["20000 cards, cold"], informational=False)
    judge_targets(informational, ["20000 cards, cold"], informational=True)
    judge_targets(met, [], informational=False)
    assert (missed.exit_code, informational.exit_code, met.exit_code) == (1, 0, 0)
    assert missed.failures == ["missed: 20000 cards, cold"]


def test_figures_without_scripts_prints_no_empty_table(project):
    result = run(["figures"], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"No figure scripts in {project.resolve() / 'figures'}."]


def test_only_a_command_line_typer_runs_collects_cycles(monkeypatch):
    # An answered command line (help, a no-op or an edit's build) ends soon: no cycle collector.
    # Typer's commands (`watch` runs for hours) have it.
    import gc

    from builder import cli, cli_app, cli_replay

    collecting = []

    def ended(code):
        collecting.append(gc.isenabled())
        raise SystemExit(code)

    monkeypatch.setattr(sys, "argv", ["mathdeck", "build"])
    monkeypatch.setattr(cli, "exit_without_teardown", ended)  # not the test's process
    monkeypatch.setattr(cli_app, "run", lambda argv: collecting.append(gc.isenabled()))
    try:
        for answer in (0, None):
            monkeypatch.setattr(cli_replay, "replay", lambda argv, answer=answer: answer)
            with contextlib.suppress(SystemExit):
                cli.main()
    finally:
        gc.enable()
    assert collecting == [False, True]


@pytest.mark.parametrize("closed", [False, True])
def test_an_answered_command_line_ends_with_its_output_flushed_and_its_code(closed):
    # exit_without_teardown skips Python's teardown: what was printed must still come out
    # (stdout buffered, as on a pipe), and a stream that cannot be flushed ends the usual way.
    code = (
        "import sys\n"
        "from builder.cli import exit_without_teardown\n"
        "print('summary'); print('warning', file=sys.stderr)\n"
        + ("sys.stdout.close()\n" if closed else "")
        + "exit_without_teardown(3)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 3
    assert (done.stdout, done.stderr) == ("summary\n", "warning\n")  # closing flushed it
