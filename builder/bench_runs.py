"""bench_runs: how `mathdeck bench` runs and measures a process, mathdeck's or the floor's.

Each run is a whole process: its wall-clock seconds, its CPU seconds (user + system, with the
processes it waited for, node included) and its peak RSS, all from wait4. The floor is
bench_floor.py writing the notes of a project's last built .apkg, read back from the package.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
FLOOR_SCRIPT = Path(__file__).resolve().parent / "bench_floor.py"
MB = 1 << 20


def compile_bytecode() -> None:
    """Write builder's bytecode (`__pycache__/`) before timing, as `pip install` does for a
    wheel and as Python does on a clone's first run. Without it, where PYTHONDONTWRITEBYTECODE is
    set (this machine sets it), every timed process compiles ~100 modules from source (~0.3 s
    of a full build), while the floor's genanki, installed by pip, has its bytecode: the ratio
    would measure the compiler, not the build."""
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent, quiet=1)


def build_run(project: Path, epoch: int, force: bool, replay: bool = True) -> Run:
    """`mathdeck build`; with `replay` False a no-op build is not answered from its stamp
    (builder/build_stamp.py): every stage runs, from the deck's caches."""
    more = {} if replay else {"MATHDECK_REPLAY": "0"}
    return run_cli(project, ["build", *(["--force"] if force else [])], epoch, more)


class RunFailed(Exception):
    """A timed process failed: nothing to time. `output`: what it printed, to show as it is."""

    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


class Run(NamedTuple):
    seconds: float  # wall clock
    cpu: float  # user + system seconds of the process and the processes it waited for (node)
    rss: float  # peak resident MB of the largest of them


def run_cli(project: Path, args: list[str], epoch: int, more: dict[str, str] | None = None) -> Run:
    """One whole `python -m builder.cli ...` process in `project` (`more`: its environment's
    additions)."""
    env = {
        **os.environ,
        "SOURCE_DATE_EPOCH": str(epoch),
        "PYTHONPATH": python_path(),
        **(more or {}),
    }
    return run_process([sys.executable, "-m", "builder.cli", *args], project, env)


def run_process(argv: list[str], cwd: Path, env: dict[str, str]) -> Run:
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        # wait4 gives the child's own resource use, which counts the processes it waited for (node)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stdout.seek(0)
            stderr.seek(0)
            raise RunFailed(
                f"{' '.join(argv)} failed (exit {process.returncode}) in {cwd}",
                (stdout.read() + stderr.read()).decode(errors="replace").strip(),
            )
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / MB)


def python_path() -> str:
    # the builder package being measured, whatever the current directory
    return os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))


class Floor:
    """The floor for a project: bench_floor.py writing the notes of its last built .apkg."""

    def __init__(self, project: Path):
        self.folder = project / "floor"
        self.folder.mkdir(exist_ok=True)
        [apkg] = (project / "dist").glob("*.apkg")
        data = floor_input(apkg, self.folder)
        self.notes = data["notes"]
        self.input = self.folder / "notes.json"
        self.input.write_text(json.dumps(data), encoding="utf-8")

    def run(self) -> Run:
        return run_process(
            [sys.executable, str(FLOOR_SCRIPT), str(self.input), str(self.folder / "floor.apkg")],
            self.folder,
            dict(os.environ),
        )


def floor_input(apkg: Path, folder: Path) -> dict:
    """What bench_floor.py needs to write the notes of `apkg` (note types, subdecks, notes, media),
    read back from the package itself; its media files are extracted into `folder`."""
    with zipfile.ZipFile(apkg) as package, tempfile.TemporaryDirectory() as scratch:
        collection = Path(scratch) / "collection.anki2"
        collection.write_bytes(package.read("collection.anki2"))
        media = []
        for index, name in json.loads(package.read("media")).items():
            (folder / name).write_bytes(package.read(index))
            media.append(str(folder / name))
        connection = sqlite3.connect(collection)
        try:
            decks_json, models_json = connection.execute("SELECT decks, models FROM col").fetchone()
            rows = connection.execute(
                "SELECT n.mid, min(c.did), n.guid, n.flds, n.tags "
                "FROM notes n JOIN cards c ON c.nid = n.id "
                "GROUP BY n.id ORDER BY n.id"
            ).fetchall()
        finally:
            connection.close()
    models = {
        mid: {
            "name": m["name"],
            "fields": [{"name": f["name"]} for f in m["flds"]],
            "css": m["css"],
            "type": m["type"],
            "templates": [
                {"name": t["name"], "qfmt": t["qfmt"], "afmt": t["afmt"]} for t in m["tmpls"]
            ],
        }
        for mid, m in json.loads(models_json).items()
    }
    decks = {did: deck["name"] for did, deck in json.loads(decks_json).items() if did != "1"}
    notes = [
        [str(mid), str(did), guid, fields.split("\x1f"), tags.split()]
        for mid, did, guid, fields, tags in rows
    ]
    return {"models": models, "decks": decks, "notes": notes, "media": media}
