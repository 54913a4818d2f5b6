"""The real Anki desktop (aqt 26.9.3, Qt WebEngine) with the real AnkiConnect add-on, for tests.

    with RealAnki(tmp_path / "anki") as anki:
        anki.url            # AnkiConnect on a free port (never 8765: nothing else may reach it)
        anki.driver(...)    # the test-only reviewer add-on (tests/anki_reviewer_addon.py)

Everything lives in a throwaway base folder: the profile (prefs21.db made by aqt's own
ProfileManager, so no first-run dialog blocks start-up), the AnkiConnect add-on copied from the
shared folder into BASE/addons21/2055492159/ (never into the project) and the test's reviewer
add-on. Anki runs under `xvfb-run -a` in its own process group, which is killed afterwards:
`guiExitAnki` does nothing in this Anki version.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANKICONNECT_ID = "2055492159"
REVIEWER_ADDON = Path(__file__).with_name("anki_reviewer_addon.py")
PROFILE = "mathdeck-test"
START_TIMEOUT = 180  # seconds: Qt WebEngine's first start on a busy 2-core machine is slow


def ankiconnect_source() -> Path | None:
    """The shared AnkiConnect folder: $MATHDECK_ANKICONNECT, ../shared/anki-connect beside the
    clone (as CI lays it out), or /work/shared/anki-connect."""
    candidates = [
        os.environ.get("MATHDECK_ANKICONNECT"),
        REPO.parent / "shared" / "anki-connect",
        "/work/shared/anki-connect",
    ]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "__init__.py").is_file():
            return Path(candidate)
    return None


def missing_requirement() -> str | None:
    """Why the real Anki cannot run here, or None."""
    if ankiconnect_source() is None:
        return (
            "the AnkiConnect add-on is missing "
            "(set MATHDECK_ANKICONNECT or put it in ../shared/anki-connect)"
        )
    if shutil.which("xvfb-run") is None:
        return "xvfb-run is missing (apt-get install xvfb xauth, or `make setup` as root)"
    try:
        import PyQt6  # noqa: F401  (aqt[qt])
    except ImportError:
        return "PyQt6 is missing (pip install 'aqt[qt]==26.9.3', the pyproject test extra)"
    qxcb = (
        Path(sys.modules["PyQt6"].__file__).parent / "Qt6" / "plugins" / "platforms" / "libqxcb.so"
    )
    ldd = subprocess.run(["ldd", str(qxcb)], capture_output=True, text=True, check=False)
    missing = sorted({line.split()[0] for line in ldd.stdout.splitlines() if "not found" in line})
    if missing:
        return (
            f"X libraries for Qt are missing ({', '.join(missing)}): "
            "`make setup` as root installs them"
        )
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Run in a child python: importing aqt here would load Qt into the test process.
MAKE_PROFILE = """
import sys
from pathlib import Path
from aqt.profiles import ProfileManager
manager = ProfileManager(Path(sys.argv[1]))
manager.setupMeta()
manager.meta["firstRun"] = False
manager.meta["defaultLang"] = "en_US"
manager.create(sys.argv[2])
manager.db.execute(
    "update profiles set data = ? where name = '_global'", manager._pickle(manager.meta))
manager.db.commit()
manager.db.close()
"""


class RealAnki:
    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "anki.log"
        self.driver_dir = base / "driver"
        self.process: subprocess.Popen | None = None
        self._requests = 0

    def __enter__(self) -> RealAnki:
        self._make_base()
        self._start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _make_base(self) -> None:
        addons = self.base / "addons21"
        shutil.copytree(
            ankiconnect_source(),
            addons / ANKICONNECT_ID,
            ignore=shutil.ignore_patterns("__pycache__", "meta.json"),
        )
        config = json.loads((addons / ANKICONNECT_ID / "config.json").read_text())
        (addons / ANKICONNECT_ID / "config.json").write_text(
            json.dumps({**config, "webBindPort": self.port})
        )
        (addons / "mathdeck_reviewer").mkdir()
        shutil.copy(REVIEWER_ADDON, addons / "mathdeck_reviewer" / "__init__.py")
        self.driver_dir.mkdir()
        subprocess.run(
            [sys.executable, "-c", MAKE_PROFILE, str(self.base), PROFILE],
            check=True,
            capture_output=True,
        )

    def _start(self) -> None:
        env = {
            **os.environ,
            "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
            "MATHDECK_DRIVER_DIR": str(self.driver_dir),
            "ANKI_NOHIGHDPI": "1",
            "QT_SCALE_FACTOR": "1",
            # Anki runs one instance per user and hands a second start to the first: a key of this
            # test's own keeps it clear of the developer's open Anki and of any other test run.
            "ANKI_SINGLE_INSTANCE_KEY": f"mathdeck-test-{os.getpid()}-{self.base.name}",
        }
        command = [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x1024x24",
            sys.executable,
            "-c",
            "import aqt; aqt.run()",
            "-b",
            str(self.base),
            "-p",
            PROFILE,
        ]
        with open(self.log_path, "wb") as log:
            # A session of its own: stop() kills xvfb-run, Xvfb and Anki together.
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Anki exited with {self.process.returncode}: {self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"AnkiConnect did not answer within {START_TIMEOUT} s: {self.log_tail()}"
        )

    def _answers(self) -> bool:
        request = json.dumps({"action": "version", "version": 6}).encode()
        try:
            with urllib.request.urlopen(
                urllib.request.Request(self.url, data=request), timeout=2
            ) as response:
                return json.loads(response.read()).get("result") == 6
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def call(self, action: str, **params):
        """One AnkiConnect action, for the test's own checks (push uses builder/ankiconnect.py)."""
        request = json.dumps({"action": action, "version": 6, "params": params}).encode()
        with urllib.request.urlopen(
            urllib.request.Request(self.url, data=request), timeout=120
        ) as response:
            answer = json.loads(response.read())
        if answer["error"] is not None:
            raise RuntimeError(f"{action}: {answer['error']}")
        return answer["result"]

    def driver(self, command: str, timeout: float = 600, **params) -> dict:
        """Run a command of the reviewer add-on inside Anki (its main thread) and return its
        answer."""
        self._requests += 1
        answer = self.driver_dir / f"answer-{self._requests}.json"
        request = self.driver_dir / f"request-{self._requests}.json"
        request.with_suffix(".tmp").write_text(
            json.dumps({"command": command, "answer": str(answer), **params})
        )
        request.with_suffix(".tmp").rename(request)  # the add-on never sees half a request
        deadline = time.monotonic() + timeout
        while not answer.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"Anki exited during '{command}': {self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the reviewer add-on did not answer '{command}' within {timeout} s: "
                    f"{self.log_tail()}"
                )
            time.sleep(0.2)
        result = json.loads(answer.read_text())
        if "error" in result:
            raise RuntimeError(f"reviewer add-on, '{command}': {result['error']}")
        return result
