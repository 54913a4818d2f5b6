"""Faults met by the commands that write the deck in other forms (export, preview) and by what
any command prints: a full disk, a target that is a folder, a stdout that cannot take the text
or takes nothing more. Each case checks the message, that no traceback is printed and that an
earlier file survives. Run as whole processes (tests/test_faults.py's `run`), because streams,
locales and file-size limits are the process's own."""

from __future__ import annotations

import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from builds import MINIMAL, REPO, copy_sources
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
    shutil.copytree(exported, tmp_path / "project")
    return tmp_path / "project"


def export_on_a_full_disk(project: Path, kind: str, limit: int) -> subprocess.CompletedProcess:
    """`mathdeck export KIND` whose files may grow to `limit` bytes, as if the disk were full."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "builder.cli", "export", kind],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=small_files,
    )


def edit(project: Path) -> None:
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))


def test_a_full_disk_keeps_the_earlier_page_and_names_the_file(project):
    """A file-size limit fails the write as a full disk does (EFBIG for ENOSPC), without root."""
    before = (project / HTML).read_bytes()
    edit(project)
    result = export_on_a_full_disk(project, "html", len(before) // 2)
    assert result.returncode == 1
    assert problem_lines(result) == [
        f"error: cannot write {HTML}: File too large (EFBIG)",
        f"Written: nothing. Not written: {HTML} (files already there are untouched). Fix the "
        "cause and run the same command again: it completes what is missing.",
    ]
    assert (project / HTML).read_bytes() == before
    assert leftovers(project) == []


def test_a_full_disk_while_copying_figures_leaves_no_half_figure(project):
    """The CSV's figure files are copied atomically: a full disk part-way leaves no truncated
    figure under a figure's name, says which file failed (not the cache's copy), and the same
    command completes them."""
    shutil.copy(REPO / "figures" / "_run.py", project / "figures" / "_run.py")
    shutil.copy(REPO / "figures" / "_style.py", project / "figures" / "_style.py")
    shutil.copy(REPO / "figures" / "normal-rule.py", project / "figures" / "tiny.py")
    cards = project / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace("    level: L1\n", "    level: L1\n    figure: tiny\n", 1)
    )
    assert run(project, "figures").returncode == 0  # drawn before the disk fills up
    drawn = {p.name: p.read_bytes() for p in (project / ".cache" / "figures").glob("*.png")}
    [first, *_] = sorted(drawn)
    media = project / "dist" / "ml-math-cheatsheet-0.1.0-media"

    smallest = min(len(data) for data in drawn.values())
    result = export_on_a_full_disk(project, "csv", smallest // 2)
    assert result.returncode == 1
    lines = problem_lines(result)
    assert (
        lines[0]
        == f"error: cannot write {media.relative_to(project)}/{first}: File too large (EFBIG)"
    )
    assert lines[1].startswith("Written: nothing. Not written: ")
    assert list(media.iterdir()) == [] and leftovers(project) == []

    again = run(project, "export", "csv")
    assert again.returncode == 0, again.stderr
    assert {p.name: p.read_bytes() for p in media.iterdir()} == drawn


def test_a_folder_in_the_way_is_named_not_a_temporary_file(project):
    (project / CSV).mkdir()
    result = run(project, "export", "csv")
    assert result.returncode == 1
    assert problem_lines(result)[0] == f"error: cannot write {CSV}: Is a directory (EISDIR)"
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
        "error: cannot write to stdout: No space left on device (ENOSPC)"
    ]
    assert "Bayes' rule" in (project / CSV).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "script, said",
    [
        (
            "echo 'no version of node is set'",
            "typeset.mjs answered what is not JSON: no version of node is set",
        ),
        ("kill -9 $$", "typeset.mjs was killed by SIGKILL"),
        (None, "node is not installed: run `make setup`"),
    ],
    ids=["not JSON", "killed", "no node"],
)
def test_a_node_that_fails_to_typeset_the_page_is_one_line(project, tmp_path, script, said):
    """`node` on PATH may be a wrapper (a version manager's shim) that prints its own text and
    exits 0, node may be killed (the OOM killer) or missing: the HTML page's typesetting says
    so (the formulas were checked: not 'cannot check formulas' or 'MathJax's checker failed'),
    not a JSONDecodeError traceback or an empty 'node said'."""
    before = (project / HTML).read_bytes()
    shim = tmp_path / "shim"
    shim.mkdir()
    path = str(shim)  # the checks are cached: only the typesetting looks for node
    if script is not None:
        (shim / "node").write_text(f"#!/bin/sh\n{script}\n")
        (shim / "node").chmod(0o755)
        path = f"{shim}{os.pathsep}{os.environ['PATH']}"
    result = run(project, "export", "html", PATH=path)
    assert result.returncode == 1
    assert problem_lines(result) == [
        f"error: cannot typeset the page's formulas; nothing was written. {said}"
    ]
    assert (project / HTML).read_bytes() == before


def test_a_pipe_where_the_page_goes_is_written_into_not_replaced(project):
    """`-o /dev/stdout`, /dev/full or a FIFO: renaming a file over it would replace the pipe (or,
    as root, the device) with a regular file; the page is written through it instead."""
    import threading

    fifo = project / HTML
    fifo.unlink()
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(project, "export", "html")
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe
    assert received and received[0].startswith(b"<!doctype html>")


def test_columns_0_still_prints_results_and_problems(project):
    """COLUMNS=0 (set where nobody knew the width): Rich wrapped every word away, so a command
    printed nothing at all, a failing `check` included."""
    done = run(project, "export", "csv", COLUMNS="0")
    assert done.returncode == 0 and done.stdout == f"✓ Wrote {CSV}: 3 notes\n"
    (project / "cards" / "zz.yaml").write_text("bad: [\n")
    failed = run(project, "check", COLUMNS="0")
    assert failed.returncode == 1
    assert problem_lines(failed) == [
        "cards/zz.yaml:2:1: MD101 malformed YAML: did not find expected node content",
        "1 problem.",
    ]


def test_a_node_answering_text_that_is_not_json_to_the_checks_is_one_line(project, tmp_path):
    """The same shim while every formula is checked (nothing cached): no thread traceback."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "node").write_text("#!/bin/sh\necho 'no version of node is set'\n")
    (shim / "node").chmod(0o755)
    shutil.rmtree(project / ".cache")
    result = run(
        project,
        "export",
        "csv",
        PATH=f"{shim}{os.pathsep}{os.environ['PATH']}",
        MATHDECK_CACHE=str(tmp_path / "user-cache"),
    )
    assert result.returncode == 1
    [line] = problem_lines(result)
    assert line.startswith("error: MathJax's checker failed; nothing was written. node said:")
    assert line.endswith("0 of 2 batches answered: no version of node is set")
    assert not (project / CSV).exists()


def test_preview_never_writes_its_page_over_a_source(project):
    cards = project / "cards" / "cards.yaml"
    before = cards.read_bytes()
    result = run(project, "preview", "-o", "cards/cards.yaml")
    assert result.returncode == 1
    assert problem_lines(result) == [
        "cards/cards.yaml: is one of the deck's sources: give -o another file",
        "1 problem; nothing was written.",
    ]
    assert cards.read_bytes() == before
