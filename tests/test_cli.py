"""The command line as a user meets it: help, exit codes, messages, summary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builds import MINIMAL, copy_sources

MATHDECK = [sys.executable, "-m", "builder.cli"]


def run(args, cwd: Path, **env):
    return subprocess.run(
        MATHDECK + args, cwd=cwd, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "1764000000", "COLUMNS": "200", **env}
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
    assert "--force" in build_help.stdout and "--cards" in build_help.stdout and "SOURCE_DATE_EPOCH" in build_help.stdout


def test_build_prints_a_summary_and_writes_the_package(project):
    result = run(["build"], project)
    assert result.returncode == 0, result.stderr
    assert "formula cards" in result.stdout and "Anki cards" in result.stdout and "package size" in result.stdout
    assert "dist/ml-math-cheatsheet-0.1.0+dev.apkg" in result.stdout.replace("\n", "")  # 0.1.0 is not released
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
    assert not (project / "dist").exists() and not (project / "cards" / "mathdeck.lock.json").exists()
