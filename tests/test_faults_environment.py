"""Faults of the environment around a build (tests/test_faults.py has the laptop's kills, disks and
damaged files): node and its packages, the per-user caches, the terminal and the streams a command
prints to, signals. Each is one line (or the problems found), no traceback, nothing half-written,
and the next run works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import test_faults
from test_faults import EPOCH, LOCK, RELEASED, edit_and_bump, leftovers, problem_lines, run

# test_faults' fixtures: the minimal project built once (0.1.0), and a copy of it for each test
released_project = test_faults.released_project
released = test_faults.released


def test_a_damaged_mathjax_package_json_is_one_line(released, tmp_path):
    """A package.json cut short (a full disk during `npm ci`) said where, not JSONDecodeError."""
    manifest = tmp_path / "node_modules" / "mathjax-full" / "package.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"name": "mathjax-full", "vers')
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule $x^{7}_{q}$"))
    before = (released / RELEASED).read_bytes()

    result = run(released, "build", MATHDECK_NODE_ROOT=str(tmp_path))

    assert result.returncode == 1
    assert problem_lines(result) == [
        f"error: cannot check formulas: {manifest} is damaged (not a package.json): run `make "
        "setup` (or `npm ci`)"
    ]
    assert (released / RELEASED).read_bytes() == before


def test_output_in_an_encoding_without_the_check_mark_is_escaped(released):
    """Windows' cp1252 or PYTHONIOENCODING=ascii: the ✓ after a written build was a traceback and
    exit 1, after the build was written."""
    edit_and_bump(released)
    cards = released / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace("Bayes' rule", "Bayes' rule (Thomas Bayes, né 1701)")
    )

    result = run(released, "build", PYTHONIOENCODING="ascii")

    assert result.returncode == 0, result.stderr
    assert "\\u2713 Wrote dist/ml-math-cheatsheet-0.1.1+dev.apkg" in result.stdout
    assert problem_lines(result) == []


def printed_to(stdout: str, project: Path, *args: str) -> subprocess.CompletedProcess:
    """`mathdeck ARGS...` with its stdout redirected to the file `stdout` (/dev/full: a full
    disk)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    env.pop("COLUMNS", None)
    with open(stdout, "w") as redirected:
        return subprocess.run(
            [sys.executable, "-m", "builder.cli", *args],
            cwd=project,
            env=env,
            stdout=redirected,
            stderr=subprocess.PIPE,
            text=True,
        )


def test_results_that_cannot_be_printed_are_one_line(released):
    """stdout redirected to a full disk: the build is written, and saying so failed: one line."""
    edit_and_bump(released)

    result = printed_to("/dev/full", released, "build")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot write to stdout: No space left on device (ENOSPC)"
    ]
    assert (released / "dist" / "ml-math-cheatsheet-0.1.1+dev.apkg").exists()


@pytest.mark.parametrize("kept", [False, True])
def test_help_that_cannot_be_printed_is_one_line(released, tmp_path, kept):
    """Typer's help, and the help kept from it for the same command line (cli_replay), ended
    in a traceback."""
    if kept:
        assert printed_to(str(tmp_path / "help.txt"), released, "build", "-h").returncode == 0

    result = printed_to("/dev/full", released, "build", "-h")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot write to stdout: No space left on device (ENOSPC)"
    ]


def test_new_under_a_file_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")

    result = run(tmp_path, "new", "taken/deck")

    assert result.returncode == 1
    assert problem_lines(result) == [
        "error: taken is a file, not a folder (EEXIST); nothing was written."
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_release_refuses_a_changelog_it_cannot_read_before_writing_anything(released):
    (released / "CHANGELOG.md").write_bytes(b"# Changelog\n\n## 0.1.0\n\n- caf\xe9\n")
    lock = (released / LOCK).read_bytes()

    result = run(released, "release")

    assert result.returncode == 1
    assert problem_lines(result) == [
        "CHANGELOG.md:5:6: MD100 not UTF-8 text (byte 0xe9): a release adds its entry at the top; "
        "save it as UTF-8 or move it away",
        "1 problem; nothing was written.",
    ]
    assert (released / LOCK).read_bytes() == lock
    assert not (released / "dist" / "ml-math-cheatsheet-0.1.1.apkg").exists()
    assert not (released / "releases").exists()


def test_a_file_where_nodes_code_cache_goes_only_costs_time(released):
    """HOME or XDG_CACHE_HOME naming a file: node's code cache could not be written, and node's
    attempt to clean up after it ended the build (ENOTDIR)."""
    blocked = released / "not-a-folder"
    blocked.write_text("")
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule $x^{8}_{q}$"))

    result = run(released, "build", MATHDECK_NODE_CODE_CACHE=str(blocked / "mathdeck"))

    assert result.returncode == 0, result.stderr
    assert problem_lines(result) == []
    assert "Replaced dist/ml-math-cheatsheet-0.1.0+dev.apkg" in result.stdout


def test_columns_0_leaves_the_width_to_the_terminal(released):
    """Rich took COLUMNS=0 for a width of 0 and printed nothing, not even a usage error."""
    usage = run(released, "build", "--bogus", COLUMNS="0")
    build = run(released, "build", COLUMNS="0")

    assert usage.returncode == 2
    assert "No such option: --bogus" in usage.stderr
    assert build.returncode == 0, build.stderr
    assert "Unchanged: dist/ml-math-cheatsheet-0.1.0+dev.apkg" in build.stdout


def test_a_watch_rebuild_without_node_says_what_to_install_not_a_bug(project, monkeypatch):
    from builder import watch
    from builder.build import BuildOptions
    from builder.cli_report import error_line

    monkeypatch.setenv("PATH", str(project / "no-node-here"))
    options = BuildOptions(
        project / "cards", project / "dist", project / "figures", project / ".cache" / "figures"
    )
    outcome = watch.rebuild(options, None)

    assert outcome.result is None
    assert (
        error_line(outcome.error)
        == "cannot check formulas: node is not installed: run `make setup`"
    )


def test_node_killed_while_checking_says_by_which_signal(released, tmp_path):
    """A kill -9 (or the kernel's out-of-memory killer) leaves node nothing to say: the message
    was 'failed (-9), 0 of 1 batches answered: ' and nothing after it."""
    killer = tmp_path / "killer.cjs"
    killer.write_text("process.kill(process.pid, 'SIGKILL');\n")
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule $x^{9}_{q}$"))
    before = (released / RELEASED).read_bytes()

    result = run(released, "build", NODE_OPTIONS=f"--require {killer}", MATHDECK_NODE_SNAPSHOT="0")

    assert result.returncode == 1
    assert problem_lines(result) == [
        "error: MathJax's checker failed; nothing was written. node said: check.mjs --stream was "
        "killed by SIGKILL, 0 of 1 batches answered"
    ]
    assert (released / RELEASED).read_bytes() == before


# Runs `mathdeck ARGS...` that receives SIGTERM right before it writes the lock (its package and
# lock already staged beside their places, as temporary files).
TERMINATED_CLI = """
import os, signal, sys
import builder.commit as commit
real = commit.write_lock
def terminated(*a, **k):
    os.kill(os.getpid(), signal.SIGTERM)
    return real(*a, **k)
commit.write_lock = terminated
from builder.cli import main
sys.argv = ["mathdeck", *sys.argv[1:]]
main()
"""


def test_sigterm_stops_a_build_as_ctrl_c_does(released):
    """Python's default for SIGTERM ended the build at once (-15), its staged temporary files
    left in dist/ and cards/ until the next run."""
    good = (released / RELEASED).read_bytes()
    edit_and_bump(released)
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}

    result = subprocess.run(
        [sys.executable, "-c", TERMINATED_CLI, "build"],
        cwd=released,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 130
    assert problem_lines(result) == ["interrupted"]
    assert leftovers(released) == []
    assert not (released / "dist" / "ml-math-cheatsheet-0.1.1+dev.apkg").exists()
    assert (released / RELEASED).read_bytes() == good
    assert run(released, "build").returncode == 0


def test_a_script_node_options_preloads_may_print(released, tmp_path):
    """`--require dotenv/config` prints a line on stdout before check.mjs answers: the stream's
    reader thread died in a JSONDecodeError traceback, and the did-you-mean's one-shot answer
    was no JSON."""
    noisy = tmp_path / "noisy.cjs"
    noisy.write_text("console.log('[dotenv] injecting env (0) from .env');\n")
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule $\\mathbbb{R}$"))
    preloaded = {"NODE_OPTIONS": f"--require {noisy}", "MATHDECK_NODE_SNAPSHOT": "0"}

    bad = run(released, "build", **preloaded)
    cards.write_text(cards.read_text().replace("\\mathbbb", "\\mathbb"))
    good = run(released, "build", **preloaded)

    assert bad.returncode == 1
    assert problem_lines(bad) == [
        "cards/cards.yaml:6:27: MD140 card 'bayes-theorem', field 'concept': MathJax: Undefined "
        "control sequence \\mathbbb (did you mean \\mathbb?) in $\\mathbbb{R}$",
        "1 problem; nothing was written.",
    ]
    assert good.returncode == 0, good.stderr
    assert problem_lines(good) == []


def test_a_kept_help_left_empty_by_a_crash_is_rendered_again(released, tmp_path):
    """The help Typer printed is kept without fsync (it only saves time): after a power cut the
    file can be empty, and `mathdeck build -h` printed nothing, every time."""
    cache = str(tmp_path / "user-cache")
    first = run(released, "build", "-h", MATHDECK_CACHE=cache)
    kept = list((tmp_path / "user-cache" / "help").glob("*.txt"))
    assert first.returncode == 0 and "Usage:" in first.stdout
    assert kept
    for path in kept:
        path.write_text("")

    again = run(released, "build", "-h", MATHDECK_CACHE=cache)

    assert again.returncode == 0
    assert again.stdout == first.stdout


def test_lock_repair_refuses_a_fifo_lock_without_opening_it(released):
    """`build` and `lock` refused it; `lock --repair` opened it and waited for a writer forever."""
    (released / LOCK).unlink()
    os.mkfifo(released / LOCK)

    result = run(released, "lock", "--repair", timeout=60)

    assert result.returncode == 1
    assert problem_lines(result) == [
        "cards/mathdeck.lock.json: not a regular file (a folder, FIFO or device is never read): "
        "remove it",
        "1 problem; nothing was written.",
    ]


# Runs `mathdeck ARGS...` that receives SIGINT as its command starts, inside Typer's run and
# before the command's Report can catch it.
INTERRUPTED_AT_START_CLI = """
import os, signal, sys
from builder.cli_report import Report
real = Report.__init__
def interrupted_at_start(self):
    os.kill(os.getpid(), signal.SIGINT)
    real(self)
Report.__init__ = interrupted_at_start
from builder.cli import main
sys.argv = ["mathdeck", *sys.argv[1:]]
main()
"""


def test_ctrl_c_before_a_command_starts_its_work_says_interrupted(released):
    """Typer turns a KeyboardInterrupt it meets into a silent exit 130: a Ctrl-C in the first
    ~0.3 s of a `release` (Typer's parsing, the command's imports) ended it without a word."""
    edit_and_bump(released)
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_AT_START_CLI, "release"],
        cwd=released,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 130
    assert problem_lines(result) == ["interrupted"]
    assert leftovers(released) == []


# Runs `mathdeck ARGS...` in a folder deleted after it was entered, as in a shell whose folder
# another terminal (or a `git checkout`) removed.
IN_A_DELETED_FOLDER_CLI = """
import os, shutil, sys
folder = os.getcwd()
shutil.rmtree(folder)
from builder.cli import main
sys.argv = ["mathdeck", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("command", [["build"], ["build", "-h"], ["check"], ["new", "deck"]])
def test_a_deleted_current_folder_is_one_line(released, command):
    """os.getcwd() raised FileNotFoundError: a traceback from the replay's stamp, the help's
    key or a problem's path."""
    result = subprocess.run(
        [sys.executable, "-c", IN_A_DELETED_FOLDER_CLI, *command],
        cwd=released,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert problem_lines(result) == [
        "error: the current folder no longer exists (deleted, or replaced by a checkout): cd "
        "into the deck's folder again"
    ]


@pytest.mark.parametrize("folder", ["dist", ".cache"])
def test_a_folder_that_is_a_link_to_nothing_is_named_so(released, tmp_path, folder):
    """A symbolic link to an unmounted drive or a deleted folder: mkdir said 'File exists'."""
    edit_and_bump(released)
    shutil.rmtree(released / folder)
    (released / folder).symlink_to(tmp_path / "unmounted" / "drive")

    result = run(released, "build")

    assert result.returncode == 1
    [message, *_] = problem_lines(result)
    assert (
        f"{folder} is a symbolic link to {tmp_path / 'unmounted' / 'drive'}, which does not "
        "exist (EEXIST)" in message
    )


def test_a_problem_in_a_file_whose_name_holds_a_newline_is_one_line(released):
    (released / "cards" / "odd\nname.yaml").write_text("subdeck: S\ncards: 5\n")

    result = run(released, "build")

    assert result.returncode == 1
    assert problem_lines(result) == [
        "cards/odd\\nname.yaml:2:8: MD112 'cards' must be a list, not text",
        "1 problem; nothing was written.",
    ]


# Runs `mathdeck ARGS...` that receives SIGINT as it starts drawing a figure.
INTERRUPTED_WHILE_DRAWING_CLI = """
import os, signal, sys
from builder import figure_drawing
real = figure_drawing._ScriptRunner.draw
def interrupted_while_drawing(self, *args):
    os.kill(os.getpid(), signal.SIGINT)
    return real(self, *args)
figure_drawing._ScriptRunner.draw = interrupted_while_drawing
from builder.cli import main
sys.argv = ["mathdeck", *sys.argv[1:]]
main()
"""


def test_ctrl_c_while_drawing_figures_leaves_no_drawing_folder(tmp_path):
    """The figure runners have sessions of their own: Ctrl-C ended mathdeck, the runner drew on
    into its .drawing-* folder, left in the cache until the next build."""
    assert run(tmp_path, "new", "deck").returncode == 0
    deck = tmp_path / "deck"

    result = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_WHILE_DRAWING_CLI, "build"],
        cwd=deck,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 130
    assert problem_lines(result) == ["interrupted"]
    assert leftovers(deck) == []
    assert run(deck, "build").returncode == 0


def test_lock_repair_names_the_key_of_each_dropped_value(released):
    """`dropped note X: is missing; is missing; is missing` named no key."""
    lock = json.loads((released / LOCK).read_text())
    first, second, *_ = lock["notes"]
    lock["notes"][first] = {}
    lock["notes"][second]["modified"] = "yesterday"
    (released / LOCK).write_text(json.dumps(lock))

    repair = run(released, "lock", "--repair")

    assert repair.returncode == 0, repair.stderr
    assert problem_lines(repair) == [
        f"dropped note {first}: 'id' is missing; 'content_hash' is missing; 'modified' is missing",
        f"dropped note {second}: 'modified' must be a whole number, not text",
    ]
    assert "1 note time kept, 2 read back from" in repair.stdout


def test_node_killed_while_running_from_the_snapshot_keeps_the_snapshot(monkeypatch, tmp_path):
    """A kill (or the out-of-memory killer) of node started from the snapshot: the check was run
    again without it, which worked, and the snapshot was blamed, deleted and not made again for
    a day (every node start the slower way meanwhile)."""
    from builder import mathjax

    killer = tmp_path / "killer.cjs"
    killer.write_text("process.kill(process.pid, 'SIGKILL');\n")

    distrusted: list[str] = []

    class Snapshot:  # started with these arguments, node is killed as it starts
        def arguments(self) -> list[str]:
            return ["--require", str(killer)]

        def distrust(self, why: str) -> None:
            distrusted.append(why)

    monkeypatch.setattr(mathjax, "usable_snapshot", lambda node, root: Snapshot())
    stream = mathjax.TexStream()
    stream.send([("x^{2}", False)])

    assert [error for error, *_ in stream.verdicts()] == [None]
    assert distrusted == []


# Runs `mathdeck ARGS...` as a user with no HOME and no entry in /etc/passwd (a container run
# with `-u 12345`, OpenShift's arbitrary user ids).
HOMELESS_CLI = """
import os, pwd, sys
def no_entry(uid):
    raise KeyError(f"getpwuid(): uid not found: {uid}")
pwd.getpwuid = no_entry
from builder.cli import main
sys.argv = ["mathdeck", *sys.argv[1:]]
main()
"""


def test_a_user_without_a_home_folder_is_told_to_set_home(released):
    """Path.home() raised RuntimeError: a traceback from the per-user cache's folder."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    for name in ("HOME", "XDG_CACHE_HOME", "MATHDECK_CACHE"):
        env.pop(name, None)

    result = subprocess.run(
        [sys.executable, "-c", HOMELESS_CLI, "build"],
        cwd=released,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert problem_lines(result) == [
        f"error: HOME is not set and user {os.getuid()} has no home folder: set HOME (or "
        "XDG_CACHE_HOME) to a folder mathdeck may keep its caches in"
    ]


@pytest.mark.parametrize("folder", ["dist", ".cache", "releases"])
def test_a_file_where_a_folder_goes_is_named(released, folder):
    """'.cache/figures: Not a directory (ENOTDIR)' named the folder it could not make, not the
    file in its way."""
    edit_and_bump(released)
    shutil.rmtree(released / folder, ignore_errors=True)
    (released / folder).write_text("")

    result = run(released, "release")

    assert result.returncode == 1
    assert problem_lines(result) == [
        f"error: {folder} is a file, not a folder (ENOTDIR); nothing was written."
    ]


def test_a_release_refuses_a_fifo_changelog_without_opening_it(released):
    """The release read CHANGELOG.md to add its entry: a FIFO there blocked it forever."""
    os.mkfifo(released / "CHANGELOG.md")

    result = run(released, "release", timeout=60)

    assert result.returncode == 1
    assert problem_lines(result) == [
        "CHANGELOG.md: MD100 not a regular file (a folder, FIFO or device is never read): remove "
        "it or rename it",
        "1 problem; nothing was written.",
    ]


def test_a_lock_with_every_time_wrong_is_reported_at_once(released):
    """A script that wrote every note's time as text in a 20,000-note lock: each problem's line
    was searched for from the top of the file, and `build` ran for hours. Every problem is
    reported at its own line (the timeout only stops a hang)."""
    notes = {
        f"guid{number:05d}": {"id": f"card-{number}", "content_hash": "0" * 16, "modified": "x"}
        for number in range(20_000)
    }
    (released / LOCK).write_text(json.dumps({"format": 1, "notes": notes}, indent=1))

    result = run(released, "build", timeout=120)

    assert result.returncode == 1
    lines = problem_lines(result)
    assert lines[-1] == "20,000 problems; nothing was written."
    assert lines[0] == (
        "cards/mathdeck.lock.json:7: MD132 'notes.guid00000.modified' must be a whole number, "
        "not text; run `mathdeck lock --repair` (or restore the file from git)"
    )
    assert lines[-2].startswith("cards/mathdeck.lock.json:100002: MD132 'notes.guid19999.")
