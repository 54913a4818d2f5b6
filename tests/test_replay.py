"""Command lines answered without Typer (builder/cli_replay.py, builder/build_stamp.py): `--help`
and a `build` with nothing changed print exactly what the full path prints, and any change to
what that output depends on takes the full path again.

Each run is a whole process, as `mathdeck` is, with its own per-user cache (MATHDECK_CACHE); it
writes down which modules it imported, so a test can tell a replayed answer from a full one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builds import MINIMAL, copy_sources

EPOCH = "1764000000"
# `mathdeck ARGS...` (through builder.cli.main), then the imported modules into $IMPORTED
RUN = """
import os, sys
sys.argv = ["mathdeck", *sys.argv[1:]]
from builder.cli import main

def write_imported():
    with open(os.environ["IMPORTED"], "w") as imported:
        imported.write("\\n".join(sorted(sys.modules)))

exit_now = os._exit  # how main ends an answered command line: no finally runs after it
os._exit = lambda code: (write_imported(), exit_now(code))
try:
    main()
finally:
    write_imported()
"""


class Ran:
    def __init__(self, done: subprocess.CompletedProcess, imported: set[str]):
        self.returncode, self.stdout, self.stderr = done.returncode, done.stdout, done.stderr
        self.replayed = "typer" not in imported
        self.built = "builder.build" in imported
        self.fast = self.built and "typer" not in imported  # built with the options kept


def run(folder: Path, cache: Path, *args: str, timeout: float | None = None, **env: str) -> Ran:
    imported = cache.parent / "imported.txt"
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            **os.environ,
            "SOURCE_DATE_EPOCH": EPOCH,
            "MATHDECK_CACHE": str(cache),
            "IMPORTED": str(imported),
            **env,
        },
    )
    return Ran(done, set(imported.read_text().split()))


def without_time(output: str) -> str:
    """The summary without its `time` row (each run's own)."""
    return "\n".join(line for line in output.splitlines() if "│ time " not in line)


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "user-cache"


@pytest.fixture
def settled(tmp_path) -> Path:
    """The minimal project, its files last modified a minute ago (a source modified just before
    a build started may have been read before or after the change: that build keeps no stamp)."""
    project = tmp_path / "project"
    copy_sources(MINIMAL, project)
    age(project)
    return project


def age(project: Path, seconds: float = 60) -> None:
    then = time.time() - seconds
    for path in project.rglob("*"):
        os.utime(path, (then, then))


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("args", [["--help"], ["build", "-h"], ["export", "csv", "--help"]])
def test_help_is_replayed_exactly_as_typer_printed_it(tmp_path, cache, args):
    first = run(tmp_path, cache, *args)
    second = run(tmp_path, cache, *args)
    assert first.returncode == second.returncode == 0
    assert not first.replayed and second.replayed
    assert second.stdout == first.stdout and "Usage:" in first.stdout
    assert second.stderr == first.stderr == ""


def test_help_for_another_width_is_rendered_afresh(tmp_path, cache):
    narrow = run(tmp_path, cache, "--help", COLUMNS="60")
    wide = run(tmp_path, cache, "--help", COLUMNS="120")
    assert not wide.replayed
    assert max(map(len, narrow.stdout.splitlines())) <= 60 < max(map(len, wide.stdout.splitlines()))
    assert run(tmp_path, cache, "--help", COLUMNS="60").stdout == narrow.stdout


def test_a_command_line_that_shows_no_help_is_never_kept(tmp_path, cache):
    # `-h` as the value of --title: the deck is made, and made again next time
    first = run(tmp_path, cache, "new", "deck", "--title", "-h")
    assert first.returncode == 0, first.stderr
    assert not (cache / "help").exists()


# ---------------------------------------------------------------- build


def test_a_noop_build_prints_what_the_full_build_prints(settled, cache):
    first = run(settled, cache, "build")
    assert first.returncode == 0 and first.built, first.stderr
    replayed = run(settled, cache, "build")
    assert replayed.returncode == 0
    assert replayed.replayed and not replayed.built
    full = run_full_again(settled, cache)
    assert "Unchanged: dist/" in full.stdout
    assert without_time(replayed.stdout) == without_time(full.stdout)
    assert replayed.stderr == full.stderr


def test_warnings_are_replayed_as_the_build_printed_them(settled, cache):
    cards = settled / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace("only normalises.", "normalises, see the cheat sheet.")
    )
    age(settled)
    first = run(settled, cache, "build")
    assert first.returncode == 0 and "warning: MD305" in first.stderr, first.stderr
    replayed = run(settled, cache, "build")
    assert replayed.replayed and replayed.stderr == run_full_again(settled, cache).stderr


def run_full_again(project: Path, cache: Path) -> Ran:
    """The same build, all of it (its stamp removed)."""
    for stamp in (cache / "builds").iterdir():
        stamp.unlink()
    again = run(project, cache, "build")
    assert again.built
    return again


def edit_a_card(project: Path) -> None:
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))


def add_a_figure_script(project: Path) -> None:
    (project / "figures" / "unused.py").write_text('"""A figure no card shows."""\n')


def delete_the_package(project: Path) -> None:
    for package in (project / "dist").glob("*.apkg"):
        package.unlink()


def damage_the_package(project: Path) -> None:
    for package in (project / "dist").glob("*.apkg"):
        data = bytearray(package.read_bytes())
        data[100] ^= 1
        package.write_bytes(bytes(data))


def edit_the_lock(project: Path) -> None:
    lock = project / "cards" / "mathdeck.lock.json"
    lock.write_text(lock.read_text().replace('"modified": 17', '"modified": 16', 1))


def remove_the_build_caches(project: Path) -> None:
    shutil.rmtree(project / ".cache" / "build")


def add_a_card_file(project: Path) -> None:
    (project / "cards" / "more.yaml").write_text(
        "subdeck: More\ncards:\n  - id: more-one\n    kind: qa\n    question: One?\n"
        "    answer: Two.\n"
    )


@pytest.mark.parametrize(
    "change",
    [
        edit_a_card,
        add_a_card_file,
        add_a_figure_script,
        delete_the_package,
        damage_the_package,
        edit_the_lock,
        remove_the_build_caches,
    ],
)
def test_any_change_takes_the_full_path(settled, cache, change):
    run(settled, cache, "build")
    assert run(settled, cache, "build").replayed
    change(settled)
    assert run(settled, cache, "build").built, change.__name__


def test_another_command_line_or_environment_takes_the_full_path(settled, cache):
    run(settled, cache, "build")
    assert run(settled, cache, "build").replayed
    assert run(settled, cache, "build", "--lang", "en").built
    assert run(settled, cache, "build", SOURCE_DATE_EPOCH="1764000001").built
    assert run(settled / "cards", cache, "build", "--cards", ".").built


def test_a_source_modified_as_the_build_started_leaves_no_stamp(settled, cache):
    # As if saved while the build ran: it may have read either version. Its time is set 30 s
    # ahead, not to now: on a loaded machine the build may start more than user_cache.RACY_NS
    # after now, and would rightly take a file that old as settled.
    age(settled, seconds=-30)
    assert run(settled, cache, "build").built
    assert not (cache / "builds").exists() or not list((cache / "builds").iterdir())
    assert run(settled, cache, "build").built


def run_in_terminal(
    folder: Path,
    cache: Path,
    *args: str,
    columns: int = 100,
    errors: Path | None = None,
    **more: str,
) -> bytes:
    """`mathdeck ARGS` with its stdout on a pseudo-terminal `columns` wide: what it shows (its
    stderr into the file `errors`, if given: a terminal there would show the progress bar)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": EPOCH,
        "MATHDECK_CACHE": str(cache),
        "IMPORTED": str(folder / "imported.txt"),
    }
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        env.pop(name, None)
    stderr = errors.open("wb") if errors is not None else None
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, *args],
        cwd=folder,
        stdout=follower,
        stderr=stderr,
        env={**env, "TERM": "xterm", **more},
    )
    os.close(follower)
    if stderr is not None:
        stderr.close()
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    process.wait()
    os.close(leader)
    return shown


def test_help_on_a_terminal_is_replayed_with_its_colours_and_width(tmp_path, cache):
    first = run_in_terminal(tmp_path, cache, "build", "--help")
    second = run_in_terminal(tmp_path, cache, "build", "--help")
    assert "typer" not in (tmp_path / "imported.txt").read_text().split()
    assert second == first and b"\x1b[" in first  # coloured, as Rich colours a terminal
    narrow = run_in_terminal(tmp_path, cache, "build", "--help", columns=70)
    assert box_width(narrow) < 70 < box_width(first)


def box_width(shown: bytes) -> int:
    return max(line.count("─") for line in shown.decode().splitlines())


def test_a_fifo_in_place_of_a_card_file_is_never_opened(settled, cache):
    run(settled, cache, "build")
    os.mkfifo(settled / "cards" / "zz.yaml")  # opened for reading, it would block forever
    fifo = run(settled, cache, "build")
    assert fifo.built and fifo.returncode == 1
    assert "zz.yaml" in fifo.stderr and "not a regular file" in fifo.stderr


@pytest.mark.parametrize("args", [["build"], ["build", "--help"]], ids=["stamp", "help"])
def test_a_fifo_in_place_of_a_kept_answer_is_a_miss_not_a_hang(settled, cache, args):
    first = run(settled, cache, *args)
    assert first.returncode == 0, first.stderr
    [kept] = (cache / ("help" if "--help" in args else "builds")).iterdir()
    kept.unlink()
    os.mkfifo(kept)  # opened for reading, it would block forever
    again = run(settled, cache, *args, timeout=120)
    assert again.returncode == 0, again.stderr
    if "--help" in args:
        assert again.stdout == first.stdout
    else:
        assert "✓ Unchanged: dist/ml-math-cheatsheet-0.1.0+dev.apkg" in again.stdout
    assert kept.is_file()  # kept again, as a file


def test_a_replayed_build_removes_what_killed_builds_left(settled, cache):
    run(settled, cache, "build")
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    stale = settled / "dist" / f".x.apkg.{dead}.abc123.tmp"
    stale.write_bytes(b"half")
    assert run(settled, cache, "build").replayed
    assert not stale.exists()


def test_an_edit_that_keeps_the_size_and_time_is_still_seen(settled, cache):
    run(settled, cache, "build")
    assert run(settled, cache, "build").replayed
    cards = settled / "cards" / "cards.yaml"
    before = cards.stat()
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' theorex"))
    os.utime(cards, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert cards.stat().st_size == before.st_size
    after = run(settled, cache, "build")
    assert after.built and "changed: bayes-theorem" in after.stdout


# ---------------------------------------------------------------- an edit, with the options kept


def snapshot(project: Path, into: Path) -> None:
    """The project as it is (sources, lock, caches, package), to build again from the same start."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(project, into, symlinks=True)


def restore(project: Path, saved: Path) -> None:
    shutil.rmtree(project)
    shutil.copytree(saved, project, symlinks=True)


def break_a_card(project: Path) -> None:
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("    reverse: true\n", "    reverse: maybe\n"))


@pytest.mark.parametrize("change", [edit_a_card, break_a_card])
@pytest.mark.parametrize("args", [["build"], ["build", "--lang", "en", "--out", "elsewhere"]])
def test_an_edit_built_without_typer_prints_what_the_full_path_prints(
    settled, cache, tmp_path, change, args
):
    assert run(settled, cache, *args).built  # Typer reads the command line; its options are kept
    change(settled)
    snapshot(settled, tmp_path / "before")
    fast = run(settled, cache, *args)
    restore(settled, tmp_path / "before")
    full = run(settled, cache, *args, MATHDECK_REPLAY="0")
    assert fast.fast and full.built and not full.fast
    assert fast.returncode == full.returncode == (0 if change is edit_a_card else 1)
    assert without_time(fast.stdout) == without_time(full.stdout)
    assert fast.stderr == full.stderr
    assert ("changed: bayes-theorem" in fast.stdout) == (change is edit_a_card)
    assert change is edit_a_card or (
        "cards.yaml:" in fast.stderr and "Traceback" not in fast.stderr
    )


@pytest.mark.parametrize("change", [edit_a_card, break_a_card])
def test_an_edit_on_a_terminal_shows_what_the_full_path_shows(settled, cache, tmp_path, change):
    run_in_terminal(settled, cache, "build")
    change(settled)
    snapshot(settled, tmp_path / "before")
    fast = run_in_terminal(settled, cache, "build", errors=tmp_path / "fast.err")
    assert "typer" not in (settled / "imported.txt").read_text().split()
    restore(settled, tmp_path / "before")
    full = run_in_terminal(
        settled, cache, "build", errors=tmp_path / "full.err", MATHDECK_REPLAY="0"
    )
    assert "typer" in (settled / "imported.txt").read_text().split()
    assert without_time_row(fast) == without_time_row(full)
    assert (tmp_path / "fast.err").read_bytes() == (tmp_path / "full.err").read_bytes()
    if change is edit_a_card:
        assert b"\x1b[" in fast and b"changed: bayes-theorem" in fast
    else:
        assert fast == b"" and b"cards.yaml:" in (tmp_path / "fast.err").read_bytes()


def without_time_row(shown: bytes) -> bytes:
    return b"\n".join(line for line in shown.split(b"\n") if b" time " not in line)


def test_options_whose_meaning_changed_are_read_by_typer_again(settled, cache):
    run(settled, cache, "build", "--out", "elsewhere")
    edit_a_card(settled)
    assert run(settled, cache, "build", "--out", "elsewhere").fast
    shutil.rmtree(settled / "elsewhere")
    (settled / "elsewhere").write_text("a file where the folder was")
    edit_a_card(settled)
    refused = run(settled, cache, "build", "--out", "elsewhere")
    assert not refused.fast and refused.returncode == 2 and "is a file" in refused.stderr


def test_the_kept_options_serve_another_source_date_epoch_not_another_environment(settled, cache):
    run(settled, cache, "build")
    # SOURCE_DATE_EPOCH is the build's to judge (its stamp misses), not Typer's
    assert run(settled, cache, "build", SOURCE_DATE_EPOCH="1764000001").fast
    edit_a_card(settled)
    elsewhere = run(settled, cache, "build", MATHDECK_TEST_VARIABLE="1")
    assert elsewhere.built and not elsewhere.fast


def test_the_default_deck_folder_is_found_again_each_time(settled, cache):
    run(settled, cache, "build")
    # the deck moves up: `--cards` by default is now the project folder itself
    for path in (settled / "cards").iterdir():
        path.rename(settled / path.name)
    (settled / "cards").rmdir()
    moved = run(settled, cache, "build")
    assert moved.fast and moved.returncode == 0, moved.stderr


def test_mathdeck_replay_0_always_takes_the_full_path(settled, cache):
    run(settled, cache, "build")
    assert run(settled, cache, "build").replayed
    assert run(settled, cache, "build", MATHDECK_REPLAY="0").built
    run(settled, cache, "--help", MATHDECK_REPLAY="0")
    assert not run(settled, cache, "--help", MATHDECK_REPLAY="0").replayed


def test_kept_options_used_again_are_kept_newest(tmp_path, monkeypatch):
    """The options kept for a command line are the newest once used: the edit loop's command line
    never ages out of the kept STAMPS_KEPT behind others written since (into Typer's path)."""
    import json
    import os

    from builder import cli_replay
    from builder.build_stamp import Invocation

    monkeypatch.setenv("MATHDECK_CACHE", str(tmp_path / "user-cache"))
    monkeypatch.chdir(tmp_path)
    invocation = Invocation.current(["build", "--force"])
    path = cli_replay._arguments_path(invocation)
    path.parent.mkdir(parents=True)
    kept = {"cards": None, "out_dir": None, "figures": None, "force": True}
    path.write_text(
        json.dumps({**kept, "allow_note_type_change": False, "lang": "en+zh"} | {"strict": False})
    )
    os.utime(path, ns=(0, 0))
    assert cli_replay._kept_arguments(invocation) is not None
    assert path.stat().st_mtime_ns > 0
