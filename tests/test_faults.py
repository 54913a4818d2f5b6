"""Faults as a laptop meets them: a build killed at any step, a full disk, read-only folders, a
lock file damaged by git or a crash, damaged caches, racing builds, pathological sources.

Each case checks the exact message, that nothing half-written is left, that the previous
release is untouched, and that running the same command again completes the work.
Kills are injected in a subprocess by wrapping one of mathdeck's own steps (KILLED_CLI below):
the process ends with os._exit, as under kill -9, with no cleanup of any kind.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from builds import MINIMAL, REPO, copy_sources, set_version

# Versions never released with `mathdeck release` build the development file (builder/commit.py).
RELEASED = "dist/ml-math-cheatsheet-0.1.0+dev.apkg"
NEXT = "dist/ml-math-cheatsheet-0.1.1+dev.apkg"
LOCK = "cards/mathdeck.lock.json"
EPOCH = "1764000000"
KILLED = 137

# Runs `mathdeck ARGS...` with one step wrapped: "before:NAME" or "after:NAME" ends the process
# right before or right after builder.commit.NAME (or os.replace / os.link for the temp files);
# "barrier:NAME" waits after NAME until every racer ($RACERS of them) has reached that point.
KILLED_CLI = """
import os, sys, time
point, args = sys.argv[1], sys.argv[2:]
import builder.commit as commit
when, name = point.split(":")
module = os if name in ("replace", "link") else commit
real = getattr(module, name)
def wrapped(*a, **k):
    if when == "before":
        os._exit(137)
    result = real(*a, **k)
    if when == "after":
        os._exit(137)
    if when == "barrier":
        folder = os.environ["BARRIER"]
        open(os.path.join(folder, str(os.getpid())), "w").close()
        deadline = time.monotonic() + 60  # a racer that died first must not hang the test
        while len(os.listdir(folder)) < int(os.environ["RACERS"]) and time.monotonic() < deadline:
            time.sleep(0.01)
    return result
setattr(module, name, wrapped)
from builder.cli import main
sys.argv = ["mathdeck", *args]
main()
"""


def run(
    project: Path,
    *args: str,
    epoch: str | None = EPOCH,
    point: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
    **more_env: str,
):
    """`mathdeck ARGS` in `project`; with `timeout`, a command that hangs is killed and the test
    fails with subprocess.TimeoutExpired."""
    env = {**os.environ, "COLUMNS": "200", **more_env}
    env.pop("SOURCE_DATE_EPOCH", None)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    command = (
        [sys.executable, "-c", KILLED_CLI, point, *args]
        if point
        else [sys.executable, "-m", "builder.cli", *args]
    )
    if not wait:
        return subprocess.Popen(
            command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, timeout=timeout
    )


def problem_lines(result) -> list[str]:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result.stderr.splitlines()


def leftovers(project: Path) -> list[str]:
    """Temporary files and drawing folders anywhere in the project."""
    return sorted(
        str(p.relative_to(project))
        for p in project.rglob("*")
        if p.name.endswith(".tmp") or p.name.startswith(".drawing-")
    )


@pytest.fixture(scope="module")
def released_project(tmp_path_factory) -> Path:
    """The minimal project with 0.1.0 built (`mathdeck build`): the previous release, with its
    lock."""
    project = tmp_path_factory.mktemp("released") / "project"
    copy_sources(MINIMAL, project)
    result = run(project, "build")
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def released(released_project, tmp_path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(released_project, project)
    return project


def edit_and_bump(project: Path, version: str = "0.1.1") -> None:
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))
    set_version(project / "cards", version)


# ---------------------------------------------------------------- kills


BUILD_KILL_POINTS = [
    "before:write_lock",  # nothing written yet
    "before:replace",  # the lock's temp file written, not renamed
    "after:write_lock",  # the lock written, the .apkg not
    "before:link",  # the .apkg's temp file written, not linked into place
    "after:_write_package",  # both written, the caches not saved
]


@pytest.mark.parametrize("point", BUILD_KILL_POINTS)
def test_a_build_killed_at_any_step_never_blocks_the_next(released, point):
    good = (released / RELEASED).read_bytes()
    edit_and_bump(released)

    killed = run(released, "build", epoch=None, point=point)  # the wall clock, as on a laptop
    assert killed.returncode == KILLED, killed.stderr
    assert (released / RELEASED).read_bytes() == good

    again = run(released, "build", epoch=None)
    assert again.returncode == 0, again.stderr
    assert f"Wrote {NEXT}" in again.stdout or f"Unchanged: {NEXT}" in again.stdout
    assert leftovers(released) == []  # the killed build's temp files are cleaned on start
    time.sleep(1.1)  # a later wall-clock second: an unchanged rebuild must still be unchanged
    third = run(released, "build", epoch=None)
    assert third.returncode == 0, third.stderr
    assert f"Unchanged: {NEXT}" in third.stdout
    assert (released / RELEASED).read_bytes() == good


RELEASE_KILL_POINTS = [
    "after:write_lock",
    "after:_write_package",
    "after:prepend_changelog",
    "before:write_version",
]


@pytest.mark.parametrize("point", RELEASE_KILL_POINTS)
def test_a_killed_release_is_finished_by_running_release_again(released, point):
    good = (released / RELEASED).read_bytes()
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))

    killed = run(released, "release", epoch=None, point=point)
    assert killed.returncode == KILLED, killed.stderr
    build = run(released, "build")
    assert build.returncode == 1
    assert problem_lines(build) == [
        "cards/deck.yaml:6: release 0.1.1 was interrupted (the lock records it; deck.yaml still "
        "says 0.1.0): run `mathdeck release` to finish it",
        "1 problem; nothing was written.",
    ]

    again = run(released, "release", epoch=None)
    assert again.returncode == 0, again.stderr
    assert "Finished the interrupted release 0.1.1; CHANGELOG.md updated." in again.stdout
    assert "version: 0.1.1" in (released / "cards" / "deck.yaml").read_text()
    changelog = (released / "CHANGELOG.md").read_text()
    assert changelog.count("## 0.1.1 (") == 1
    assert "`bayes-theorem`: Bayes' rule" in changelog
    assert json.loads((released / LOCK).read_text())["release"]["version"] == "0.1.1"
    assert (released / RELEASED).read_bytes() == good
    assert (released / "releases" / "ml-math-cheatsheet-0.1.1.apkg").read_bytes() == (
        released / "dist/ml-math-cheatsheet-0.1.1.apkg"
    ).read_bytes()
    assert leftovers(released) == []
    assert run(released, "build").returncode == 0


def test_a_release_run_twice_after_it_finished_bumps_again_with_one_entry_each(released):
    assert run(released, "release").returncode == 0
    assert run(released, "release").returncode == 0
    changelog = (released / "CHANGELOG.md").read_text()
    assert (changelog.count("## 0.1.1 ("), changelog.count("## 0.1.2 (")) == (1, 1)


def test_stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept(released):
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    stale = [
        released / f"dist/.x.apkg.{dead}.abc123.tmp",
        released / f"cards/.mathdeck.lock.json.{dead}.q1.tmp",
    ]
    for path in stale:
        path.write_bytes(b"half")
    drawing = released / f".cache/figures/.drawing-kl-fits-{dead}-zz9"
    drawing.mkdir(parents=True)
    live = released / f"dist/.y.apkg.{os.getpid()}.def456.tmp"
    live.write_bytes(b"a running build's")

    assert run(released, "build").returncode == 0
    assert [p for p in [*stale, drawing] if p.exists()] == []
    assert live.exists()


# ---------------------------------------------------------------- lock file

CONFLICTED = "<<<<<<< HEAD\n"


def damage_lock(project: Path, how: str) -> None:
    path = project / LOCK
    text = path.read_text()
    data = json.loads(text)
    guid = next(iter(data["notes"]))
    if how == "truncated":
        path.write_text(text[: len(text) // 2])
    elif how == "merge conflict":
        lines = text.splitlines(keepends=True)
        at = next(n for n, line in enumerate(lines) if '"modified"' in line)
        lines[at : at + 1] = [
            CONFLICTED,
            lines[at],
            "=======\n",
            '   "modified": 1764000500\n',
            ">>>>>>> other\n",
        ]
        path.write_text("".join(lines))
    elif how == "not an object":
        path.write_text("[1, 2]\n")
    elif how == "nested 200,000 deep":
        path.write_text("[" * 200_000)
    else:
        data["notes"][guid]["modified"] = {
            "text": "yesterday",
            "float": 1.5e9,
            "huge": 10**30,
            "negative": -5,
            "future": int(time.time()) + 7 * 86400,
        }[how]
        path.write_text(json.dumps(data, indent=1))


LOCK_CASES = {
    "truncated": (
        "cards/mathdeck.lock.json:{line}: MD131 the lock file is not valid JSON (Unterminated "
        "string starting at, column {col}): it is damaged or truncated; run `mathdeck lock "
        "--repair` (or restore the file from git)"
    ),
    "merge conflict": (
        "cards/mathdeck.lock.json:{line}: MD130 merge conflict in the lock file (a git conflict "
        "marker): run `mathdeck lock --repair` to merge both sides (each card keeps its later "
        "time), then commit it"
    ),
    "not an object": (
        "cards/mathdeck.lock.json:1: MD132 the lock file must be a JSON object, not a list; run "
        "`mathdeck lock --repair` (or restore the file from git)"
    ),
    "nested 200,000 deep": (
        "cards/mathdeck.lock.json:1: MD131 the lock file nests values thousands deep: it is not "
        "mathdeck's; run `mathdeck lock --repair` (or restore the file from git)"
    ),
    "text": (
        "cards/mathdeck.lock.json:{line}: MD132 'notes.{guid}.modified' must be a whole number, "
        "not text; run `mathdeck lock --repair` (or restore the file from git)"
    ),
    "float": (
        "cards/mathdeck.lock.json:{line}: MD132 'notes.{guid}.modified' must be a whole number, "
        "not the number 1500000000.0; run `mathdeck lock --repair` (or restore the file from git)"
    ),
    "huge": (
        "cards/mathdeck.lock.json:{line}: MD132 'notes.{guid}.modified' is "
        "1000000000000000000000000000000 (far beyond any calendar), more than a day in the "
        "future; run `mathdeck lock --repair` (or restore the file from git)"
    ),
    "negative": (
        "cards/mathdeck.lock.json:{line}: MD132 'notes.{guid}.modified' is -5 (1969-12-31), "
        "before 2000; run `mathdeck lock --repair` (or restore the file from git)"
    ),
    "future": (
        "cards/mathdeck.lock.json:{line}: MD132 'notes.{guid}.modified' is {value} ({date}), "
        "more than a day in the future; run `mathdeck lock --repair` (or restore the file from "
        "git)"
    ),
}


def expected_lock_message(project: Path, how: str) -> str:
    text = (project / LOCK).read_text()
    lines = text.splitlines()
    if how == "truncated":
        error = None
        try:
            json.loads(text)
        except json.JSONDecodeError as caught:
            error = caught
        return LOCK_CASES[how].format(line=error.lineno, col=error.colno)
    if how == "merge conflict":
        return LOCK_CASES[how].format(line=lines.index(CONFLICTED.strip()) + 1)
    if how in ("not an object", "nested 200,000 deep"):
        return LOCK_CASES[how]
    data = json.loads(text)
    guid, entry = next(iter(data["notes"].items()))
    line = next(n for n, text in enumerate(lines, 1) if '"modified"' in text)
    value = entry["modified"]
    date = (
        time.strftime("%Y-%m-%d", time.gmtime(value))
        if isinstance(value, int) and value < 2**40
        else ""
    )
    return LOCK_CASES[how].format(line=line, guid=guid, value=value, date=date)


@pytest.mark.parametrize("how", list(LOCK_CASES))
def test_a_damaged_lock_is_one_message_at_its_line_and_nothing_is_written(released, how):
    good = (released / RELEASED).read_bytes()
    damage_lock(released, how)
    damaged = (released / LOCK).read_bytes()
    message = expected_lock_message(released, how)

    result = run(released, "build")

    assert result.returncode == 1
    assert problem_lines(result) == [message, "1 problem; nothing was written."]
    assert (released / LOCK).read_bytes() == damaged
    assert (released / RELEASED).read_bytes() == good


@pytest.mark.parametrize("how", ["merge conflict", "truncated", "text", "future"])
def test_lock_repair_makes_the_lock_valid_and_the_build_work(released, how):
    good_lock = json.loads((released / LOCK).read_text())
    damage_lock(released, how)

    repair = run(released, "lock", "--repair")

    assert repair.returncode == 0, repair.stderr
    assert "Repaired cards/mathdeck.lock.json" in repair.stdout
    assert run(released, "lock").returncode == 0
    repaired = json.loads((released / LOCK).read_text())
    if how == "merge conflict":  # both sides merged: each note keeps its later time
        first = next(iter(good_lock["notes"]))
        good_lock["notes"][first]["modified"] = 1764000500  # "theirs", later than "ours" (EPOCH)
        assert repaired == good_lock
        result = run(released, "build", "--out", "dist-repaired")
        assert result.returncode == 0, result.stderr
    else:
        # the untrusted entries were dropped, then read back from the released .apkg, which
        # the sources still match: the lock is whole again and the release builds unchanged
        assert ", 3 note times kept" not in repair.stdout
        assert f"read back from {RELEASED}" in repair.stdout
        assert repaired == good_lock
        result = run(released, "build")
        assert result.returncode == 0, result.stderr
        assert f"Unchanged: {RELEASED}" in result.stdout


def test_lock_repair_leaves_out_a_card_edited_since_the_last_package(released):
    good_lock = json.loads((released / LOCK).read_text())
    damage_lock(released, "text")  # the time of the first note, bayes-theorem's, is unreadable
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule"))

    assert run(released, "lock", "--repair").returncode == 0

    repaired = json.loads((released / LOCK).read_text())
    edited = next(
        guid for guid, entry in good_lock["notes"].items() if entry["id"] == "bayes-theorem"
    )
    assert repaired["notes"] == {
        guid: entry for guid, entry in good_lock["notes"].items() if guid != edited
    }
    result = run(
        released, "build", "--out", "dist-repaired"
    )  # the edited card gets this build's time
    assert result.returncode == 0, result.stderr
    assert json.loads((released / LOCK).read_text())["notes"][edited]["modified"] == int(EPOCH)


def test_lock_repair_keeps_the_release_record_of_a_lock_cut_short_in_its_notes(released):
    assert run(released, "release").returncode == 0
    good_lock = json.loads((released / LOCK).read_text())
    text = (released / LOCK).read_text()
    (released / LOCK).write_text(
        text[: text.index('"notes"') + 200]
    )  # a kill or a full disk mid-write

    repair = run(released, "lock", "--repair")

    assert repair.returncode == 0, repair.stderr
    assert "read back from dist/ml-math-cheatsheet-0.1.1.apkg" in repair.stdout
    assert json.loads((released / LOCK).read_text()) == good_lock
    assert (
        "Unchanged: dist/ml-math-cheatsheet-0.1.1.apkg" in run(released, "build").stdout
    )  # the release itself


def test_bad_source_date_epoch_is_one_line(released):
    for value in ("abc", "1e9", "-1"):
        result = run(released, "build", epoch=value)
        assert result.returncode == 1
        assert problem_lines(result) == [
            f"SOURCE_DATE_EPOCH: '{value}' must be whole seconds since 1970 (digits only): unset "
            "it or set it to e.g. `git log -1 --format=%ct` (the time of the last commit)",
            "1 problem; nothing was written.",
        ]


def test_build_lang_en_twice_is_unchanged_without_source_date_epoch(released):
    edit_and_bump(released)
    first = run(released, "build", "--lang", "en", epoch=None)
    assert first.returncode == 0, first.stderr
    time.sleep(1.1)
    second = run(released, "build", "--lang", "en", epoch=None)
    assert second.returncode == 0, second.stderr
    assert "Unchanged: dist/ml-math-cheatsheet-0.1.1-en+dev.apkg" in second.stdout


# ---------------------------------------------------------------- caches


def build_bytes(project: Path) -> bytes:
    from builds import build_in

    return build_in(project, force=True).path.read_bytes()


def test_every_flipped_bit_in_a_cache_shard_is_a_miss_never_output(project):
    clean = build_bytes(project)
    shards = sorted((project / ".cache" / "build").rglob("*.marshal"))
    assert shards
    originals = {shard: shard.read_bytes() for shard in shards}
    for step in range(8):
        for shard, data in originals.items():
            damaged = bytearray(data)
            at = (len(data) * (2 * step + 1)) // 16
            damaged[at] ^= 1 << (step % 8)
            shard.write_bytes(bytes(damaged))
        assert build_bytes(project) == clean, f"flip {step}"


def test_an_edited_string_inside_a_valid_shard_is_a_miss(project):
    clean = build_bytes(project)
    edited = 0
    for shard in (project / ".cache" / "build" / "notes").glob("*.marshal"):
        header, generation, entries = marshal.loads(shard.read_bytes())
        for key, (used, digest, data) in entries.items():
            if b"\\mid" in data:  # a rendered Bayes formula: its digest stays, its text changes
                entries[key] = (used, digest, data.replace(b"\\mid", b"z   "))
                edited += 1
        shard.write_bytes(marshal.dumps((header, generation, entries)))
    assert edited
    assert build_bytes(project) == clean


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped bit", "another png"])
def test_a_damaged_figure_in_the_cache_is_drawn_again_never_shipped(released, damage):
    from builder import figures
    from builds import build_in

    shutil.copy(REPO / "figures" / "_run.py", released / "figures" / "_run.py")
    shutil.copy(REPO / "figures" / "_style.py", released / "figures" / "_style.py")
    shutil.copy(REPO / "figures" / "normal-rule.py", released / "figures" / "tiny.py")
    cards = released / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace(
            "    level: L1\n    tags: [probability]",
            "    level: L1\n    figure: tiny\n    tags: [probability]",
        )
    )
    set_version(released / "cards", "0.1.1")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    try:
        first = build_in(released)
        clean = first.path.read_bytes()
        light = sorted((released / ".cache" / "figures").glob("mathdeck-tiny-*-light.png"))[0]
        data = light.read_bytes()
        light.write_bytes(
            {
                "garbage": b"not a png at all",
                "truncated": data[: len(data) // 2],
                "flipped bit": data[:100] + bytes([data[100] ^ 4]) + data[101:],
                "another png": sorted(
                    (released / ".cache" / "figures").glob("mathdeck-tiny-*-dark.png")
                )[0].read_bytes(),
            }[damage]
        )
        plan = figures.plan_figures(released / "figures")["tiny"]
        assert not figures.is_cached(plan, released / ".cache" / "figures")

        again = build_in(released)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    assert again.figures_drawn == 1
    assert again.path.read_bytes() == clean


def test_a_figure_script_printing_100_mb_then_failing_keeps_only_the_end_of_it(tmp_path):
    import re

    from builder import figures
    from builder.figure_server import OUTPUT_LIMIT

    folder = tmp_path / "figures"
    folder.mkdir()
    for shared in ("_run.py", "_style.py"):
        shutil.copy(REPO / "figures" / shared, folder / shared)
    (folder / "loud.py").write_text(
        "import sys\n\ndef draw(theme):\n    sys.stdout.write('x' * 100_000_000)\n    raise "
        "ValueError('the end of a loud script')\n"
    )

    with pytest.raises(figures.FigureError) as caught:
        figures.make_figures(figures.plan_figures(folder).values(), tmp_path / "cache", jobs=1)

    text = caught.value.traceback_text
    cut = re.match(r"\[([\d,]+) bytes of output cut; the last 65,536 follow\]\n", text)
    assert cut and int(cut.group(1).replace(",", "")) > 99_900_000
    assert text.endswith("ValueError: the end of a loud script")
    assert len(text) <= OUTPUT_LIMIT + len(cut.group(0))


# ---------------------------------------------------------------- OS errors


@contextmanager
def mounted(target: Path, how: str):
    """`target` made read-only (a bind mount) or a tiny tmpfs; skips where mounting is not allowed
    (tests run as root, where chmod does not stop writes)."""
    target.mkdir(parents=True, exist_ok=True)
    if how == "read-only":
        commands = [
            ["mount", "--bind", str(target), str(target)],
            ["mount", "-o", "remount,bind,ro", str(target)],
        ]
    else:
        commands = [["mount", "-t", "tmpfs", "-o", f"size={how}", "tmpfs", str(target)]]
    done = 0
    try:
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"cannot mount here ({' '.join(command)}: {result.stderr.strip()})")
            done += 1
        yield target
    finally:
        if done:
            subprocess.run(["umount", str(target)], check=True)


def test_read_only_cards_folder_writes_nothing_and_says_so(released):
    good = (released / RELEASED).read_bytes()
    edit_and_bump(released)
    with mounted(released / "cards", "read-only"):
        result = run(released, "build")
    assert result.returncode == 1
    assert problem_lines(result) == [
        "error: cannot write cards/mathdeck.lock.json: Read-only file system (EROFS)",
        "Written: nothing. Not written: cards/mathdeck.lock.json, "
        "dist/ml-math-cheatsheet-0.1.1+dev.apkg (files already there are untouched). Fix the "
        "cause and run the same command again: it completes what is missing.",
    ]
    assert not (released / NEXT).exists()
    assert (released / RELEASED).read_bytes() == good
    assert run(released, "build").returncode == 0  # writable again: the build completes


def test_read_only_dist_writes_the_lock_and_the_next_build_completes(released):
    good = (released / RELEASED).read_bytes()
    edit_and_bump(released)
    with mounted(released / "dist", "read-only"):
        result = run(released, "build", epoch=None)
    assert result.returncode == 1
    assert problem_lines(result) == [
        "error: cannot write dist/ml-math-cheatsheet-0.1.1+dev.apkg: Read-only file system (EROFS)",
        "Written: cards/mathdeck.lock.json. Not written: dist/ml-math-cheatsheet-0.1.1+dev.apkg "
        "(files already there are untouched). Fix the cause and run the same command again: it "
        "completes what is missing.",
    ]
    assert (released / RELEASED).read_bytes() == good
    again = run(released, "build", epoch=None)
    assert again.returncode == 0, again.stderr
    assert f"Wrote {NEXT}" in again.stdout
    assert leftovers(released) == []


def test_read_only_build_cache_is_a_warning_not_a_failure(released):
    edit_and_bump(released)
    with mounted(released / ".cache" / "build", "read-only"):
        result = run(released, "build")
    assert result.returncode == 0, result.stderr
    assert f"Wrote {NEXT}" in result.stdout
    assert "warning: the build cache was not saved (" in result.stderr
    assert "Read-only file system (EROFS)); the next build will be slower" in result.stderr


def test_a_full_disk_leaves_no_partial_file(released):
    edit_and_bump(released)
    out = released / "tiny-out"
    with mounted(out, "8k"):
        result = run(released, "build", "--out", "tiny-out")
        left = sorted(p.name for p in out.iterdir())
    assert result.returncode == 1
    assert problem_lines(result) == [
        "error: cannot write tiny-out/ml-math-cheatsheet-0.1.1+dev.apkg: No space left on device "
        "(ENOSPC)",
        "Written: cards/mathdeck.lock.json. Not written: "
        "tiny-out/ml-math-cheatsheet-0.1.1+dev.apkg (files already there are untouched). Fix the "
        "cause and run the same command again: it completes what is missing.",
    ]
    assert left == []


# ---------------------------------------------------------------- races


def test_racing_builds_of_different_content_never_both_write_one_version(released):
    other = released.parent / "other"
    shutil.copytree(released, other)
    edit_and_bump(released)
    edit_and_bump(other)
    cards = other / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' rule", "Bayes' law"))
    shared_out = str(released / "dist")
    barrier = released.parent / "barrier"
    barrier.mkdir()
    # Both find no file, wait for each other, then both write it.
    racers = [
        run(
            project,
            "build",
            "--out",
            shared_out,
            point="barrier:_package_status",
            wait=False,
            BARRIER=str(barrier),
            RACERS="2",
        )
        for project in (released, other)
    ]
    results = [(racer.wait(), *racer.communicate()) for racer in racers]

    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(stderr for code, _, stderr in results if code == 1)
    assert "Traceback" not in loser
    assert f"{NEXT} was just written by another build with different content" in loser.replace(
        shared_out, "dist"
    )
    winner = next(
        project
        for project, (code, _, _) in zip((released, other), results, strict=True)
        if code == 0
    )
    assert run(winner, "build", "--out", shared_out).stdout.count("Unchanged:") == 1


# ---------------------------------------------------------------- hostile sources


def card_file(body: str) -> str:
    return (
        "subdeck: S\ntags: [t]\ncards:\n  - id: a\n    kind: qa\n    question: Q?\n    answer: |\n"
        + body
    )


LONG_LINE = "cards/bad.yaml:7:13: MD115 'answer' has a line of {:,} characters; the limit is 10,000"
PATHOLOGICAL = {
    "200,000 [": (
        card_file("      " + "[" * 200_000 + "\n"),
        [
            LONG_LINE.format(200_000),
            "cards/bad.yaml:7:13: MD115 'answer' has 200,000 '['; the limit is 500 in one field "
            "(Markdown's link parser slows down quadratically)",
        ],
    ),
    "[ on short lines": (
        card_file("      [a\n" * 20_000),
        [
            "cards/bad.yaml:7:13: MD115 'answer' has 20,000 '['; the limit is 500 in one field "
            "(Markdown's link parser slows down quadratically)"
        ],
    ),
    "500,000 backslashes": (
        card_file("      " + "\\" * 500_000 + "\n"),
        [
            LONG_LINE.format(500_000),
            "cards/bad.yaml:7:13: MD115 'answer' has 500,000 backslashes in a row; the limit is 64",
        ],
    ),
    "600-deep list": (
        card_file("".join("      " + "    " * depth + "- x\n" for depth in range(600))),
        ["cards/bad.yaml:7:13: MD115 'answer' nests lists or quotes more than 32 levels deep"],
    ),
    "600-deep quote": (
        card_file("".join("      " + "> " * depth + "x\n" for depth in range(600))),
        ["cards/bad.yaml:7:13: MD115 'answer' nests lists or quotes more than 32 levels deep"],
    ),
    "50,000 nested braces": (
        card_file("      $" + "{" * 50_000 + "x" + "}" * 50_000 + "$\n"),
        [
            LONG_LINE.format(100_003),
            "cards/bad.yaml:7:13: MD115 'answer' nests braces {...} 50,000 levels deep; the "
            "limit is 100",
        ],
    ),
    "nested braces on short lines": (
        card_file("      $\n" + "      {\n" * 5000 + "      x$\n"),
        [
            "cards/bad.yaml:7:13: MD115 'answer' nests braces {...} 5,000 levels deep; the limit "
            "is 100"
        ],
    ),
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_sources_fail_fast_with_a_source_error(released, name):
    source, messages = PATHOLOGICAL[name]
    (released / "cards" / "bad.yaml").write_text(source)
    good = (released / RELEASED).read_bytes()

    started = time.perf_counter()
    result = run(released, "build")
    seconds = time.perf_counter() - started

    assert result.returncode == 1
    count = len(messages)
    assert problem_lines(result) == [
        *sorted(messages),
        f"{count} problem{'s' if count > 1 else ''}; nothing was written.",
    ]
    assert seconds < 5
    assert (released / RELEASED).read_bytes() == good


def test_a_fifo_code_file_is_refused_without_opening_it(released):
    os.mkfifo(released / "cards" / "snippets" / "pipe.py")
    (released / "cards" / "bad.yaml").write_text(
        "subdeck: S\ncards:\n  - id: a\n    kind: code\n    task: T\n    code_file: "
        "snippets/pipe.py\n"
    )
    result = run(released, "build")  # would hang forever if the FIFO were opened
    assert result.returncode == 1
    assert problem_lines(result) == [
        "cards/bad.yaml:6:16: MD116 card 'a': code_file 'snippets/pipe.py' is not a regular file "
        "(a folder, FIFO or device is never read)",
        "1 problem; nothing was written.",
    ]


@pytest.mark.parametrize(
    "make",
    [os.mkfifo, lambda path: path.symlink_to(path.name)],
    ids=["a FIFO", "a symbolic link to itself (its loop was a traceback)"],
)
def test_a_card_file_that_is_no_regular_file_is_refused_without_opening_it(released, make):
    make(released / "cards" / "odd.yaml")
    result = run(released, "build")
    assert result.returncode == 1
    assert problem_lines(result) == [
        "cards/odd.yaml: MD100 not a regular file (a folder, FIFO or device is never read): "
        "remove it or rename it",
        "1 problem; nothing was written.",
    ]


def test_a_backtick_line_inside_a_code_card_stays_inside_the_markdown_fence(released):
    from markdown_it import MarkdownIt

    snippet = released / "cards" / "snippets" / "softmax.py"
    code = snippet.read_text().rstrip() + '\n\nDOC = """\n````\n```` still code\n`````\n"""\n'
    snippet.write_text(code)

    result = run(released, "export", "markdown", "--out", "out")

    assert result.returncode == 0, result.stderr
    exported = (released / "out" / "ml-math-cheatsheet-0.1.0.md").read_text()
    fences = [token for token in MarkdownIt("commonmark").parse(exported) if token.type == "fence"]
    assert [token.content for token in fences] == [code]
    assert [token.markup for token in fences] == ["``````"]


# ---------------------------------------------------------------- watch


def test_watch_survives_any_exception_in_a_build(project, monkeypatch):
    from builder import watch
    from builder.build import BuildOptions
    from builder.cli_report import error_line

    def broken_build(options):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(watch, "build", broken_build)
    options = BuildOptions(
        project / "cards", project / "dist", project / "figures", project / ".cache" / "figures"
    )
    outcome = watch.rebuild(options, None)
    assert outcome.result is None
    assert (
        error_line(outcome.error)
        == "RecursionError: maximum recursion depth exceeded (a bug in mathdeck: please report it)"
    )


def test_the_lock_schemas_fast_path_agrees_with_its_checks(monkeypatch):
    """lockfile._sound_note (the fast check of a lock's note entry) is true exactly when
    note_problems finds nothing, for every JSON value."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    import builder.lockfile
    from builder.lockfile import EARLIEST_TIME, _sound_note, note_problems

    now = builder.lockfile.latest_sane_time()
    monkeypatch.setattr(builder.lockfile, "latest_sane_time", lambda: now)  # no tick between

    times = st.one_of(
        st.sampled_from([EARLIEST_TIME - 1, EARLIEST_TIME, now, now + 1]),
        st.integers(-(2**40), 2**40),
    )
    values = st.one_of(
        st.none(), st.booleans(), times, st.floats(allow_nan=False), st.text(max_size=3)
    )
    keys = st.sampled_from(["id", "content_hash", "modified", "extra", "Id"])
    entries = st.one_of(
        st.dictionaries(keys, values),
        st.fixed_dictionaries({"id": st.text(), "content_hash": st.text(), "modified": times}),
        values,
        st.lists(values, max_size=2),
    )

    @settings(max_examples=500, deadline=None)
    @given(entries)
    def same(entry):
        assert _sound_note(entry, now) == (note_problems(entry) == [])

    same()


def test_a_node_that_cannot_start_is_one_message_and_nothing_is_written(released):
    """node refusing its NODE_OPTIONS (or killed, or out of memory) ends the build with what node
    said, no traceback, and the previous build untouched."""
    cards = released / "cards" / "cards.yaml"
    cards.write_text(cards.read_text().replace("Bayes' theorem", "Bayes' rule $x^{2}_{new}$"))
    before = (released / RELEASED).read_bytes()
    shutil.rmtree(released / ".cache", ignore_errors=True)  # every formula goes to node
    result = run(released, "build", NODE_OPTIONS="--no-such-option")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    [message] = [line for line in problem_lines(result) if "MathJax's checker failed" in line]
    assert message.startswith("error: MathJax's checker failed; nothing was written. node said:")
    assert "--no-such-option is not allowed in NODE_OPTIONS" in message
    assert (released / RELEASED).read_bytes() == before
