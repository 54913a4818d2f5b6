"""figure_drawing: figure scripts run in figure servers, their files checked and cached.

Each job is one long-lived figure server (`builder/figure_server.py`: `_run.py --serve` with
each script's output capped) that imports torch and matplotlib once and forks a fresh child per
script: isolated like a new process, ~2.5 s cheaper. A figure is drawn into a temporary folder
inside the cache and its files renamed into place only when both are whole, each with the
digest of its bytes beside it (is_intact checks both). The script contract is in figures.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .image_formats import format_problem

if TYPE_CHECKING:
    from .figures import FigurePlan

RUNNER = "_run.py"
FIGURE_SERVER = Path(__file__).resolve().parent / "figure_server.py"
TIMEOUT_SECONDS = 600


class FigureError(Exception):
    """A figure script failed (or cannot be planned); `traceback_text` is what it printed."""

    def __init__(self, name: str, traceback_text: str):
        super().__init__(f"figure '{name}' failed:\n{traceback_text}")
        self.name = name
        self.traceback_text = traceback_text


def draw_figures(
    plans: list[FigurePlan], cache_dir: Path, jobs: int, report: Callable[[FigurePlan, bool], None]
) -> None:
    """Draw every plan, `jobs` at a time, each figure's two files moved into `cache_dir` once both
    are drawn and whole; `report(plan, False)` for each, from this thread. The first failing
    script raises FigureError once running scripts end; no new one starts."""
    # One thread per job, each owning one preloaded runner process; results come back here so
    # `report` runs on the caller's thread. After a failure no new script is started.
    import queue  # here, as tempfile: a build with every figure cached draws nothing

    todo: queue.SimpleQueue = queue.SimpleQueue()
    for plan in plans:
        todo.put(plan)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    every_thread_runners: list[dict[Path, _ScriptRunner]] = []

    def work() -> None:
        runners: dict[Path, _ScriptRunner] = {}
        every_thread_runners.append(runners)
        try:
            while not stop.is_set():
                try:
                    plan = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    _draw_one(plan, cache_dir, runners)
                    results.put((plan, None))
                except BaseException as error:  # FigureError, or a bug to re-raise below
                    results.put((plan, error))
        finally:
            for runner in runners.values():
                runner.close()
            results.put(None)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(jobs, len(plans)))]
    for thread in threads:
        thread.start()
    failure, finished = None, 0
    try:
        while finished < len(threads):
            result = results.get()
            if result is None:
                finished += 1
            elif result[1] is None:
                report(result[0], False)
            elif failure is None:
                failure = result[1]
                stop.set()
    except BaseException:
        # Ctrl-C: the runners have sessions of their own, which it does not reach. Stopped, each
        # thread removes its drawing folder; left running, they drew on after `interrupted`.
        stop.set()
        for runners in every_thread_runners:
            for runner in list(runners.values()):
                runner.kill()
        for thread in threads:
            thread.join(timeout=10)
        raise
    if failure is not None:
        raise failure


def _draw_one(plan: FigurePlan, cache_dir: Path, runners: dict[Path, _ScriptRunner]) -> None:
    """Draw one figure into a temporary folder; move both files into `cache_dir` only if it
    succeeds."""
    script = plan.script.resolve()
    runner_path = script.parent / RUNNER
    if runner_path not in runners:
        runners[runner_path] = _ScriptRunner(runner_path)
    import tempfile

    # the pid lets a later build remove the folder if this process is killed (atomic.py)
    temp_dir = Path(
        tempfile.mkdtemp(prefix=f".drawing-{plan.name}-{os.getpid()}-", dir=cache_dir)
    ).resolve()
    try:
        light, dark = temp_dir / plan.light_name, temp_dir / plan.dark_name
        try:
            runners[runner_path].draw(plan.name, script, light, dark)
        except FigureError:
            if not runners[runner_path].alive:
                runners.pop(runner_path).close()
            raise
        for path in (light, dark):
            if not path.is_file():
                raise FigureError(plan.name, f"{plan.script} wrote no {path.name}")
            problem = format_problem(path.read_bytes(), plan.format)
            if problem:
                raise FigureError(plan.name, f"{plan.script} wrote a broken {path.name}: {problem}")
        # digests first, the light file last: the pair only counts as cached once all are there
        for path in (dark, light):
            _digest_path(path).write_text(_file_digest(path.read_bytes()))
        for path in (dark, light):
            os.replace(_digest_path(path), _digest_path(cache_dir / path.name))
            os.replace(path, cache_dir / path.name)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


def is_intact(path: Path, fmt: str) -> bool:
    """The file matches the digest written beside it when it was drawn and is a whole PNG or SVG:
    a damaged or foreign file is not (it is drawn again, never shipped)."""
    try:
        if not path.is_file():
            return False
        data = path.read_bytes()
        recorded = _digest_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False
    return recorded == _file_digest(data) and not format_problem(data, fmt)


DIGEST_SUFFIX = ".sha256"  # beside each drawn file: the digest of its bytes


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + DIGEST_SUFFIX)


def _file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _ScriptRunner:
    """One figure server (builder/figure_server.py, in the folder of `figures/_run.py`): torch and
    matplotlib imported once, each script drawn in a fresh fork of it (see figures/_run.py for
    the line protocol)."""

    def __init__(self, runner: Path):
        import tempfile

        # the server's own stderr, e.g. a broken _style.py; open as long as the server (close())
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        # builder/figure_server.py serves _run.py's drawing with each script's output capped
        self.process = subprocess.Popen(
            [sys.executable, str(FIGURE_SERVER)],
            cwd=runner.parent,
            env=_script_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,  # its own process group: a timeout kills it and its fork
        )
        # Popen gives both pipes (PIPE above), typed as optional
        self.requests: IO[str] = self.process.stdin  # type: ignore[assignment]
        self.replies: IO[str] = self.process.stdout  # type: ignore[assignment]
        self.alive = True
        self.ready = False

    def draw(self, name: str, script: Path, light: Path, dark: Path) -> None:
        if not self.ready:  # the imports are not part of any script's time limit
            self._reply(name, timeout=None)
            self.ready = True
        try:
            self.requests.write(json.dumps([str(script), str(light), str(dark)]) + "\n")
            self.requests.flush()
        except BrokenPipeError:
            raise FigureError(name, self._death_note()) from None
        reply = self._reply(name, timeout=TIMEOUT_SECONDS)
        if not reply["ok"]:
            raise FigureError(name, reply["output"])

    def _reply(self, name: str, timeout: float | None) -> dict:
        # one request at a time, one line per answer: nothing is buffered ahead of select
        ready, _, _ = select.select([self.replies], [], [], timeout)
        if not ready:
            self.kill()
            raise FigureError(name, f"figures/{name}.py did not finish in {timeout} s")
        line = self.replies.readline()
        if not line:
            raise FigureError(name, self._death_note())
        return json.loads(line)

    def _death_note(self) -> str:
        self.alive = False
        self.process.wait()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").strip() or (
            f"the figure runner exited with code {self.process.returncode}"
        )

    def kill(self) -> None:
        self.alive = False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.requests.close()  # the server's loop ends at end of input
                self.process.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.kill()
        for stream in (self.requests, self.replies, self.log):
            with contextlib.suppress(OSError):  # e.g. a broken pipe to a server that already died
                stream.close()


def _script_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "OMP_NUM_THREADS": "1",  # one core per script; fixed reduction order in torch
            "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",  # keep figures/ free of __pycache__
        }
    )
    return env
