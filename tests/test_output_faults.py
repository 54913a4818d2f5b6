"""Faults met by the commands that write the deck in other forms (export, preview) and by what
any command prints: a full disk, a target that is a folder, a stdout that cannot take the text
or takes nothing more. Each case checks the message, that no traceback is printed and that an
earlier file survives. Run as whole processes (tests/test_faults.py's `run`), because streams,
locales and file-size limits are the process's own."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from builds import MINIMAL, copy_sources
from test_faults import leftovers, problem_lines, run

HTML = "dist/ml-math-cheatsheet-0.1.0.html"
CSV = "dist/ml-math-cheatsheet-0.1.0.csv"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The minimal project with its HTML page exported once."""
    project = tmp_path_factory.mktemp("exported") / "project"
    copy_sources(MINIMAL, project)
    result = run(project, "export", "html")
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def project(exported, tmp_path) -> Path:
    import shutil

    shutil.copytree(exported, tmp_path / "project")
    return tmp_path / "project"


def edit(project: Path) -> None:
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))


def test_a_full_disk_keeps_the_earlier_page_and_names_the_file(project):
    """A file-size limit fails the write as a full disk does (EFBIG for ENOSPC), without root."""
    before = (project / HTML).read_bytes()
    edit(project)
    limit = len(before) // 2

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "builder.cli", "export", "html"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=small_files,
    )
    assert result.returncode == 1
    assert problem_lines(result) == [f"error: {HTML}: File too large (EFBIG); nothing was written."]
    assert (project / HTML).read_bytes() == before
    assert leftovers(project) == []


def test_a_folder_in_the_way_is_named_not_a_temporary_file(project):
    (project / CSV).mkdir()
    result = run(project, "export", "csv")
    assert result.returncode == 1
    assert problem_lines(result) == [f"error: {CSV}: Is a directory (EISDIR); nothing was written."]
    assert leftovers(project) == []


def test_a_stdout_that_cannot_encode_the_text_prints_escapes(project):
    """LC_ALL=C without Python's UTF-8 coercion: stdout is ASCII, the results hold ✓ and →."""
    result = run(project, "export", "csv", LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"\\u2713 Wrote {CSV}: 3 notes")
    assert "贝叶斯定理" in (project / CSV).read_text(encoding="utf-8")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_stdout_says_so_in_one_line_after_the_work_is_done(project):
    edit(project)
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "builder.cli", "export", "csv"],
            cwd=project,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: cannot print the results: No space left on device (ENOSPC)"
    ]
    assert "Bayes' rule" in (project / CSV).read_text(encoding="utf-8")
