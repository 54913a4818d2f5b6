"""figures: run `figures/*.py`, cache each figure's day and night files by a content hash.

The script contract
-------------------
- `figures/<name>.py` makes the figure a card names with `figure: <name>`; names are lowercase
  letters, digits and hyphens (`kl-fits.py` -> `kl-fits`), like card ids. Hyphenated files
  cannot be imported with `import`; tests load them by path (importlib). Files starting with
  `_` are shared helpers, not figures: `_style.py` (themes, rcParams, deterministic saving)
  and `_run.py` (draws one script in both themes; run by hand to preview a figure).
- A script defines `draw(theme) -> matplotlib.figure.Figure`, using the theme's colours. It
  seeds its own random generators and keeps costly numbers in a cached function, since `draw`
  runs once per theme. It may declare `FORMAT = "svg"` or `FORMAT = "png"` (default png, the
  smaller for our plots: glyphs as SVG paths cost more than a 64-colour PNG).

Planning vs drawing
-------------------
`plan_figures` only reads bytes and hashes them, so `check`, `render` and `preview` know every
media file name without importing torch or matplotlib. The key covers the script, every shared
`figures/_*.py`, the versions of the drawing libraries and FORMAT_VERSION; a media name carries
the key, so Anki never keeps a stale file under a reused name and a text-only edit redraws
nothing. `make_figures` runs each uncached script in its own subprocess (`jobs` at a time),
writes into a temporary folder inside the cache and renames the finished files into place.
Each job is one long-lived figure server (`builder/figure_server.py`: `_run.py --serve` with
each script's output capped) that imports torch and matplotlib once and forks a fresh child per
script: isolated like a new process, ~2.5 s cheaper.
"""

from __future__ import annotations

import ast

import hashlib
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Iterable

from .atomic import remove_stale_temporaries
from .versions import library_version  # reads versions without importing the libraries

# Bump when the runner's output changes in a way the hashed inputs do not show.
FORMAT_VERSION = 1
DRAWING_LIBRARIES = ("torch", "matplotlib", "numpy", "pillow")
FIGURE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DECLARED_FORMAT = re.compile(rb"""^FORMAT\s*=\s*["'](svg|png)["']""", re.MULTILINE)
DEFAULT_FORMAT = "png"
RUNNER = "_run.py"
FIGURE_SERVER = Path(__file__).resolve().parent / "figure_server.py"
TIMEOUT_SECONDS = 600


class FigureError(Exception):
    """A figure script failed (or cannot be planned); `traceback_text` is what it printed."""

    def __init__(self, name: str, traceback_text: str):
        super().__init__(f"figure '{name}' failed:\n{traceback_text}")
        self.name = name
        self.traceback_text = traceback_text


@dataclass(frozen=True)
class FigurePlan:
    name: str           # "kl-fits", from figures/kl-fits.py
    script: Path
    key: str            # sha256 of everything that can change the figure's bytes
    light_name: str     # flat media file names, e.g. "mathdeck-kl-fits-<key[:12]>-light.png"
    dark_name: str
    format: str         # "svg" or "png"
    alt: str = ""       # the script's docstring, first sentence: the figure's text alternative


def plan_figures(figures_dir: Path) -> dict[str, FigurePlan]:
    """Every figure in `figures_dir` by name, with its cache key and media names (nothing drawn)."""
    figures_dir = Path(figures_dir)
    if not figures_dir.is_dir():
        return {}
    scripts = sorted(p for p in figures_dir.glob("*.py") if not p.name.startswith("_"))
    shared = sorted(p for p in figures_dir.glob("_*.py"))
    shared_digest = _digest_files(shared)
    return {plan.name: plan for plan in (_plan(script, shared_digest) for script in scripts)}


def _plan(script: Path, shared_digest: bytes) -> FigurePlan:
    name = script.stem
    if not FIGURE_NAME.fullmatch(name):
        raise FigureError(name, f"{script}: figure file names use only a-z, 0-9 and single "
                                f"hyphens (the name cards use after `figure:`)")
    if not script.is_file():  # a FIFO would block the read forever
        raise FigureError(name, f"{script}: not a regular file (a folder, FIFO or device is never read)")
    source = script.read_bytes()
    declared = DECLARED_FORMAT.search(source)
    fmt = declared.group(1).decode() if declared else DEFAULT_FORMAT
    key = hashlib.sha256(b"".join([
        f"mathdeck figures v{FORMAT_VERSION} {fmt}\n".encode(),
        _library_versions().encode(),
        shared_digest,
        hashlib.sha256(source).digest(),
    ])).hexdigest()
    stem = f"mathdeck-{name}-{key[:12]}"
    return FigurePlan(name, script, key, f"{stem}-light.{fmt}", f"{stem}-dark.{fmt}", fmt, _description(source))


def _description(source: bytes) -> str:
    """The first sentence of the script's docstring (read, never run: no torch needed), as plain
    text for screen readers."""
    try:
        docstring = ast.get_docstring(ast.parse(source)) or ""
    except (SyntaxError, ValueError):
        return ""
    paragraph = " ".join(docstring.split("\n\n", 1)[0].split())
    return paragraph


def _digest_files(paths: list[Path]) -> bytes:
    digest = hashlib.sha256()
    for path in paths:
        if not path.is_file():
            raise FigureError(path.stem, f"{path}: not a regular file (a folder, FIFO or device is never read)")
        data = path.read_bytes()
        digest.update(f"{path.name} {len(data)}\n".encode())
        digest.update(data)
    return digest.digest()


@cache
def _library_versions() -> str:
    return "".join(f"{library}=={library_version(library)}\n" for library in DRAWING_LIBRARIES)


def make_figures(
    plans: Iterable[FigurePlan],
    cache_dir: Path,
    jobs: int = os.cpu_count() or 1,
    on_done: Callable[[FigurePlan, bool], None] | None = None,
) -> dict[str, tuple[Path, Path]]:
    """name -> (light file, dark file) in `cache_dir`, drawing only the figures not cached yet.

    `on_done(plan, was_cached)` is called once per figure, from this thread. The first failing
    script raises FigureError once running scripts end; no new one starts, finished ones stay cached.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(cache_dir, ".drawing-*")  # what killed runs left (a pid in each name)
    plans = sorted(plans, key=lambda plan: plan.name)
    outputs = {plan.name: (cache_dir / plan.light_name, cache_dir / plan.dark_name) for plan in plans}
    report = on_done or (lambda plan, was_cached: None)
    missing = []
    for plan in plans:
        if is_cached(plan, cache_dir):
            report(plan, True)
        else:
            missing.append(plan)
    if missing:
        _draw_all(missing, cache_dir, max(1, jobs), report)
    return outputs


def _draw_all(plans: list[FigurePlan], cache_dir: Path, jobs: int, report) -> None:
    # One thread per job, each owning one preloaded runner process; results come back here so
    # `report` runs on the caller's thread. After a failure no new script is started.
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for plan in plans:
        todo.put(plan)
    results: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        runners: dict[Path, _ScriptRunner] = {}
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
    while finished < len(threads):
        result = results.get()
        if result is None:
            finished += 1
        elif result[1] is None:
            report(result[0], False)
        elif failure is None:
            failure = result[1]
            stop.set()
    if failure is not None:
        raise failure


def _draw_one(plan: FigurePlan, cache_dir: Path, runners: dict[Path, _ScriptRunner]) -> None:
    """Draw one figure into a temporary folder; move both files into `cache_dir` only if it succeeds."""
    script = plan.script.resolve()
    runner_path = script.parent / RUNNER
    if runner_path not in runners:
        runners[runner_path] = _ScriptRunner(runner_path)
    # the pid lets a later build remove the folder if this process is killed (atomic.py)
    temp_dir = Path(tempfile.mkdtemp(prefix=f".drawing-{plan.name}-{os.getpid()}-", dir=cache_dir)).resolve()
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
            problem = _format_problem(path.read_bytes(), plan.format)
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


def is_cached(plan: FigurePlan, cache_dir: Path) -> bool:
    """Both files of the figure are in the cache, each matching the digest written beside it when
    it was drawn and a well-formed PNG or SVG: a damaged or foreign file is a miss (drawn again),
    never shipped."""
    for name in (plan.light_name, plan.dark_name):
        path = Path(cache_dir) / name
        try:
            if not path.is_file():
                return False
            data = path.read_bytes()
            recorded = _digest_path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return False
        if recorded != _file_digest(data) or _format_problem(data, plan.format):
            return False
    return True


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _format_problem(data: bytes, fmt: str) -> str | None:
    """Why `data` is not a whole file of format `fmt`, or None."""
    if fmt == "svg":
        head = data[:512].lstrip()
        return None if (head.startswith((b"<?xml", b"<svg")) and data.rstrip().endswith(b"</svg>")) else "not an SVG document"
    return _png_problem(data)


def _png_problem(data: bytes) -> str | None:
    """Walk the PNG's chunks, checking each CRC, up to IEND (no decoding: stdlib only)."""
    import struct
    import zlib

    if not data.startswith(PNG_SIGNATURE):
        return "not a PNG file (bad signature)"
    at = len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 12 + length
        if end > len(data):
            return f"PNG chunk {kind!r} is cut short"
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[at + 4:end - 4]) != crc:
            return f"PNG chunk {kind!r} fails its CRC"
        if kind == b"IEND":
            return None if end == len(data) else "bytes after the PNG's end"
        at = end
    return "PNG file is truncated (no IEND chunk)"


class _ScriptRunner:
    """One figure server (builder/figure_server.py, in the folder of `figures/_run.py`): torch and
    matplotlib imported once, each script drawn in a fresh fork of it (see figures/_run.py for
    the line protocol)."""

    def __init__(self, runner: Path):
        self.log = tempfile.TemporaryFile()  # the server's own stderr, e.g. a broken _style.py
        # builder/figure_server.py serves _run.py's drawing with each script's output capped
        self.process = subprocess.Popen(
            [sys.executable, str(FIGURE_SERVER)], cwd=runner.parent, env=_script_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            start_new_session=True,  # its own process group: a timeout kills it and its fork
        )
        self.alive = True
        self.ready = False

    def draw(self, name: str, script: Path, light: Path, dark: Path) -> None:
        if not self.ready:  # the imports are not part of any script's time limit
            self._reply(name, timeout=None)
            self.ready = True
        try:
            self.process.stdin.write(json.dumps([str(script), str(light), str(dark)]) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise FigureError(name, self._death_note()) from None
        reply = self._reply(name, timeout=TIMEOUT_SECONDS)
        if not reply["ok"]:
            raise FigureError(name, reply["output"])

    def _reply(self, name: str, timeout: float | None) -> dict:
        # one request at a time, one line per answer: nothing is buffered ahead of select
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.kill()
            raise FigureError(name, f"figures/{name}.py did not finish in {timeout} s")
        line = self.process.stdout.readline()
        if not line:
            raise FigureError(name, self._death_note())
        return json.loads(line)

    def _death_note(self) -> str:
        self.alive = False
        self.process.wait()
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace").strip() or (
            f"the figure runner exited with code {self.process.returncode}")

    def kill(self) -> None:
        self.alive = False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.close()  # the server's loop ends at end of input
                self.process.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.kill()
        for stream in (self.process.stdin, self.process.stdout, self.log):
            try:
                stream.close()
            except OSError:  # e.g. a broken pipe to a server that already died
                pass


def _script_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "OMP_NUM_THREADS": "1",        # one core per script; fixed reduction order in torch
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",  # keep figures/ free of __pycache__
    })
    return env


def remove_stale_figures(cache_dir: Path, plans: Iterable[FigurePlan]) -> list[Path]:
    """Delete cached media no current plan names (old keys); returns what was removed."""
    keep = {name + suffix for plan in plans for name in (plan.light_name, plan.dark_name) for suffix in ("", ".sha256")}
    stale = [path for path in Path(cache_dir).glob("mathdeck-*") if path.name not in keep]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
