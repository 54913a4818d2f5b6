"""A V8 startup snapshot of the MathJax checker, so that node answers an edit's new formula
without loading MathJax first.

Every node start of ``check.mjs`` evaluates MathJax's ~300 modules and configures the TeX input
(all its packages), the CommonHTML output and the safety wall: about 0.3 s of CPU, more than the
rest of a one-card edit. ``builder/mathjax/snapshot.cjs`` does that work once and node keeps the
resulting heap in a blob; ``node --snapshot-blob BLOB check.mjs ...`` starts from it (~0.1 s, node's
own start).

The blob is made once per node binary, node packages, checker code and node root (one key over
all of them), in the background: the build that finds none runs the usual way and starts a
process (``python -m builder.mathjax_snapshot``) that builds it, checks that it gives the
fallback's verdicts on a sample, and only then publishes it with its SHA-256. Before every use the
blob's bytes are hashed and compared (or found with the size, times and inode they had when they
last were): a damaged or half-written blob is rebuilt, never run; a
blob that cannot be built is noted and tried again a day later, the usual way meanwhile.

Where: next to node's code cache (codecache.mjs): MATHDECK_NODE_CODE_CACHE (a folder; "0" turns
both off), else $XDG_CACHE_HOME/mathdeck or ~/.cache/mathdeck. MATHDECK_NODE_SNAPSHOT=0 turns the
snapshot alone off, and MATHDECK_MATHJAX_PLAIN (MathJax without speedups.mjs) runs without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .atomic import write_atomically
from .user_cache import file_stamp, settled

NODE_SCRIPTS = Path(__file__).resolve().parent / "mathjax"
CHECK_SCRIPT = NODE_SCRIPTS / "check.mjs"
SNAPSHOT_SCRIPT = NODE_SCRIPTS / "snapshot.cjs"
FORMAT = "mathdeck-v8-snapshot-2"  # 2: built and run with V8_FLAGS
# V8 refuses a snapshot run with other flags than it was built with, so both use these.
# --no-rehash-snapshot: the blob's hash tables keep the hash seed they were built with instead of
# being rehashed under a new random one at every start (~12 ms of CPU of a one-formula check's
# ~70; that seed only guards against hash flooding, and the checker reads the deck's own files).
V8_FLAGS = ("--no-rehash-snapshot",)
# And at every start: V8's own checksum of the blob (adler32 over its ~8 MB, ~3% of a one-formula
# check's CPU in perf) is redundant once verified() has matched the blob with its SHA-256.
RUN_FLAGS = (*V8_FLAGS, "--no-verify-snapshot-checksum")
RETRY_FAILED_AFTER_SECONDS = 24 * 3600  # a snapshot that could not be built (a transient failure?)
BUILDING_FOR_AT_MOST_SECONDS = 300  # an older "building" mark is a builder that died
BUILD_TIMEOUT_SECONDS = 300
UNUSED_FOR_SECONDS = 30 * 24 * 3600  # another key's blob (older node, MathJax, code) then goes
# Every change to the checker's code or node is a new key: a contributor editing check.mjs made
# ~130 blobs (1 GB) in a day. The most recently used of the others stay (another checkout or
# installed version used alternately), the rest go whatever their age.
OTHER_BLOBS_KEPT = 3
# What the built snapshot must answer exactly as node without it does before it is used: good
# formulas (widths), errors, the safety wall, a definition that must not outlive its formula.
SELF_TEST = (
    (r"\frac{a}{b} + \sum_{i=1}^{n} x_i^2", True),
    (r"\text{if } e^{x} > 0", False),
    (r"\newcommand{\R}{\mathbb{R}} x \in \R", False),
    (r"\R", False),
    (r"\frac{a}", False),
    (r"\href{javascript:alert(1)}{x}", False),
    (r"\require{html}", False),
    (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True),
)


# Read by node at every start though the checker opens no connection: NODE_EXTRA_CA_CERTS makes
# node parse the whole bundle it names (here ~140 certificates, ~80 ms of CPU, more than the rest
# of a one-formula check from the snapshot).
UNUSED_BY_THE_CHECKER = ("NODE_EXTRA_CA_CERTS",)


def node_environment(**settings: str) -> dict[str, str]:
    """The environment node runs the checker in: ours with `settings`, less what it never uses."""
    environment = {**os.environ, **settings}
    for name in UNUSED_BY_THE_CHECKER:
        environment.pop(name, None)
    return environment


def snapshot_folder() -> Path | None:
    """Where the snapshot is kept; None when it is turned off."""
    setting = os.environ.get("MATHDECK_NODE_CODE_CACHE")
    if setting == "0" or os.environ.get("MATHDECK_NODE_SNAPSHOT") == "0":
        return None
    if os.environ.get("MATHDECK_MATHJAX_PLAIN"):
        return None  # the snapshot holds MathJax with the speedups
    if setting:
        return Path(setting)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mathdeck"


def snapshot_key(node: str, root: Path) -> str:
    """Everything the blob is made of: node (its binary, and NODE_OPTIONS, which node checks the
    blob's flags against), the node packages, the checker's code and where MathJax is."""
    digest = hashlib.sha256(FORMAT.encode())
    binary = Path(node).resolve()
    stat = binary.stat()
    for part in (binary, stat.st_size, stat.st_mtime_ns, os.environ.get("NODE_OPTIONS", ""), root):
        digest.update(f"{part}\0".encode())
    installed = [root / "node_modules" / ".package-lock.json"]
    installed.append(root / "node_modules" / "mathjax-full" / "package.json")
    for path in [*installed, *sorted(NODE_SCRIPTS.glob("*.[cm]js"))]:
        with contextlib.suppress(OSError):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Snapshot:
    """The blob for one key and its record (the blob's SHA-256, or why it could not be made)."""

    def __init__(self, folder: Path, node: str, root: Path):
        self.node, self.root = node, root
        self.key = snapshot_key(node, root)
        stem = f"mathjax-snapshot-{self.key[:16]}"
        self.blob = folder / f"{stem}.blob"
        self.record = folder / f"{stem}.json"
        self.building = folder / f"{stem}.building"

    def read_record(self) -> dict:
        try:
            record = json.loads(self.record.read_bytes())
        except (OSError, ValueError):
            return {}
        ok = isinstance(record, dict) and record.get("format") == FORMAT
        return record if ok and record.get("key") == self.key else {}

    def verified(self) -> bool:
        """The blob is there and its bytes are those its builder checked. Hashing its ~8 MB took
        ~10 ms of every node start: once its hash matched, the record keeps the blob's size,
        times and inode, and a blob that still has them is not read again (any write changes
        its ctime, which no one can set back)."""
        record = self.read_record()
        if "sha256" not in record:
            return False
        try:
            found = self.blob.stat()
            seen = file_stamp(found)
            if record.get("verified_as") == seen:
                return True
            data = self.blob.read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            return False
        if settled(found):  # kept only once a rewrite would show in them
            with contextlib.suppress(OSError):  # kept only to save time
                self._write_record({"sha256": record["sha256"], "verified_as": seen})
        return True

    def recently_failed(self) -> bool:
        failed = self.read_record().get("failed_at")
        return isinstance(failed, float) and time.time() - failed < RETRY_FAILED_AFTER_SECONDS

    def arguments(self) -> list[str]:
        """node's arguments that start it from this snapshot (before the script's)."""
        return [*RUN_FLAGS, "--snapshot-blob", str(self.blob)]

    def publish(self, built: Path) -> None:
        """Make the checked blob `built` this snapshot's, with its digest."""
        digest = hashlib.sha256(built.read_bytes()).hexdigest()
        os.replace(built, self.blob)
        self._write_record({"sha256": digest})
        self._remove_unused_others()

    def _remove_unused_others(self) -> None:
        """Each blob is ~8 MB: of the other keys' blobs, those nobody read for a month go, and
        all but the OTHER_BLOBS_KEPT most recently used."""
        now = time.time()
        others = []
        for other in self.blob.parent.glob("mathjax-snapshot-*.blob"):
            with contextlib.suppress(OSError):
                used = other.stat()
                others.append((max(used.st_atime, used.st_mtime), other))
        others = sorted((pair for pair in others if pair[1] != self.blob), reverse=True)
        for rank, (last_used, other) in enumerate(others):
            if rank >= OTHER_BLOBS_KEPT or now - last_used > UNUSED_FOR_SECONDS:
                with contextlib.suppress(OSError):
                    other.unlink()
                    other.with_suffix(".json").unlink(missing_ok=True)

    def distrust(self, why: str) -> None:
        """Never use this blob again (until the key changes or a day has passed)."""
        self._write_record({"failed_at": time.time(), "why": why[-2000:]})
        self.blob.unlink(missing_ok=True)

    def _write_record(self, fields: dict) -> None:
        record = {"format": FORMAT, "key": self.key, **fields}
        write_atomically(self.record, json.dumps(record).encode(), durable=False)


def usable_snapshot(node: str, root: Path) -> Snapshot | None:
    """The snapshot to start check.mjs from, when a verified one is there; else None, and one is
    built in the background for the next start."""
    folder = snapshot_folder()
    if folder is None:
        return None
    try:
        snapshot = Snapshot(folder, node, root)
        if snapshot.verified():
            return snapshot
        if not snapshot.recently_failed():
            _start_building(snapshot)
    except OSError:
        pass  # an unreadable cache folder or node: the usual start, which says what is wrong
    return None


def _start_building(snapshot: Snapshot) -> None:
    snapshot.building.parent.mkdir(parents=True, exist_ok=True)
    try:
        mark = os.open(snapshot.building, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        if time.time() - snapshot.building.stat().st_mtime < BUILDING_FOR_AT_MOST_SECONDS:
            return  # another process is building it
        snapshot.building.touch()
    else:
        os.close(mark)
    package_parent = Path(__file__).resolve().parent.parent
    subprocess.Popen(
        [sys.executable, "-m", "builder.mathjax_snapshot", snapshot.node, str(snapshot.root)],
        cwd=package_parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # it outlives this build, and a Ctrl-C of it
    )


def build_snapshot(snapshot: Snapshot) -> bool:
    """Build the blob, check it against node without it, publish it: whether it is usable."""
    temporary = snapshot.blob.with_name(f".{snapshot.blob.name}.{os.getpid()}.tmp")
    try:
        made = _node(
            snapshot,
            [
                *V8_FLAGS,
                "--snapshot-blob",
                str(temporary),
                "--build-snapshot",
                str(SNAPSHOT_SCRIPT),
            ],
        )
        if made.returncode != 0:
            raise RuntimeError(f"--build-snapshot failed ({made.returncode}): {made.stderr}")
        sample = json.dumps([{"tex": tex, "display": display} for tex, display in SELF_TEST])
        expected = _node(snapshot, [str(CHECK_SCRIPT)], sample)
        answered = _node(
            snapshot, [*V8_FLAGS, "--snapshot-blob", str(temporary), str(CHECK_SCRIPT)], sample
        )
        if expected.returncode != 0 or (answered.returncode, answered.stdout) != (
            0,
            expected.stdout,
        ):
            raise RuntimeError(
                f"the snapshot answers otherwise: {answered.stdout}{answered.stderr}"
            )
        snapshot.publish(temporary)
        return True
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        with contextlib.suppress(OSError):
            snapshot.distrust(str(err))
        return False
    finally:
        temporary.unlink(missing_ok=True)
        snapshot.building.unlink(missing_ok=True)


def _node(snapshot: Snapshot, arguments: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    environment = node_environment(MATHDECK_NODE_ROOT=str(snapshot.root))
    for name in ("MATHDECK_TEX_LINKS", "MATHDECK_MATHJAX_PLAIN"):
        environment.pop(name, None)  # the snapshot is of the checker as every deck starts it
    return subprocess.run(
        [snapshot.node, *arguments],
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        env=environment,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )


if __name__ == "__main__":  # the background build: python -m builder.mathjax_snapshot NODE ROOT
    folder = snapshot_folder()
    if folder is not None:
        build_snapshot(Snapshot(folder, sys.argv[1], Path(sys.argv[2])))
