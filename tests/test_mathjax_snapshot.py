"""The MathJax checker started from a V8 startup snapshot (builder/mathjax_snapshot.py,
builder/mathjax/snapshot.cjs): the same answers as node without it, and a blob that is damaged,
stale, unbuildable or unusable is never what answers."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from builder import mathjax, mathjax_snapshot, user_cache
from builder.bench_decks import distinct_formulas
from builder.mathjax import TexStream, measure_tex, tex_names
from builder.mathjax_install import require_node_setup
from builder.mathjax_snapshot import (
    OTHER_BLOBS_KEPT,
    Snapshot,
    build_snapshot,
    snapshot_folder,
    usable_snapshot,
)
from builder.phone_budget import FITS_DEFAULT_PHONE_EM
from test_mathjax import BAD, GOOD, UNSAFE, _flagship_formulas


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Snapshot:
    """A snapshot built and checked in a folder of its own (MATHDECK_NODE_CODE_CACHE)."""
    folder = tmp_path_factory.mktemp("node-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATHDECK_NODE_CODE_CACHE", str(folder))
        patch.delenv("MATHDECK_NODE_SNAPSHOT", raising=False)
        snapshot = Snapshot(folder, *require_node_setup())
        assert build_snapshot(snapshot), snapshot.read_record()
    assert snapshot.verified()
    return snapshot


@pytest.fixture
def node_commands(monkeypatch) -> list[list[str]]:
    """Every check.mjs command line node is started with."""
    commands: list[list[str]] = []
    real_run, real_popen = subprocess.run, subprocess.Popen

    def seen(command):
        if any(str(part).endswith("check.mjs") for part in command):
            commands.append([str(part) for part in command])

    def run(command, *args, **kwargs):
        seen(command)
        return real_run(command, *args, **kwargs)

    class Popen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, command, *args, **kwargs):
            seen(command)
            super().__init__(command, *args, **kwargs)

    monkeypatch.setattr(mathjax.subprocess, "run", run)
    monkeypatch.setattr(mathjax.subprocess, "Popen", Popen)
    return commands


def _use(monkeypatch, snapshot: Snapshot | None) -> None:
    if snapshot is None:
        monkeypatch.setenv("MATHDECK_NODE_SNAPSHOT", "0")
    else:
        monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", str(snapshot.blob.parent))
        monkeypatch.delenv("MATHDECK_NODE_SNAPSHOT", raising=False)


def _streamed(items, tex_links="none", bound_limit_em=0.0):
    stream = TexStream(tex_links, bound_limit_em)
    third = len(items) // 3
    for batch in (items[:third], items[third : 2 * third], items[2 * third :]):
        stream.send(batch)
    return stream.verdicts()


LINKS = [(r"\href{https://example.org}{x}", False), (r"\href{http://example.org}{x}", False)]


def _answers():
    items = (
        _flagship_formulas()
        + distinct_formulas(1500)  # over 2,000 in all: the batch also takes a worker thread
        + [(tex, display) for tex in GOOD for display in (False, True)]
        + [(tex, False) for tex, _ in BAD]
        + [(tex, True) for tex in UNSAFE]
        + LINKS
    )
    return (
        measure_tex(items),
        _streamed(items),
        _streamed(LINKS + [(tex, False) for tex in UNSAFE], tex_links="https"),
        _streamed(items, bound_limit_em=FITS_DEFAULT_PHONE_EM),  # width bounds where they fit
        tex_names(),
    )


def test_the_snapshot_answers_as_node_without_it(monkeypatch, built, node_commands):
    # Every verdict and width of the flagship's formulas, 1,500 bench formulas, MathJax's errors and
    # the safety wall (with either links policy), in one batch and streamed, and the TeX names.
    _use(monkeypatch, built)
    from_snapshot = _answers()
    assert node_commands and all("--snapshot-blob" in command for command in node_commands)
    node_commands.clear()
    _use(monkeypatch, None)
    usual = _answers()
    assert node_commands and not any("--snapshot-blob" in command for command in node_commands)
    for snapshot_answer, usual_answer in zip(from_snapshot, usual, strict=True):
        if isinstance(usual_answer, list):  # name the formulas that differ, if any
            differ = [
                k
                for k, pair in enumerate(zip(snapshot_answer, usual_answer, strict=False))
                if len(set(pair)) > 1
            ]
            assert [(k, snapshot_answer[k], usual_answer[k]) for k in differ] == []
        assert snapshot_answer == usual_answer
    verdicts, streamed, links, bounded, names = usual
    assert streamed == verdicts
    assert sum(1 for error, *_ in verdicts if error is None) > 2000
    assert all(verdicts[-len(LINKS) - len(UNSAFE) + k][0] for k in range(len(UNSAFE) + 2))
    assert links[0] == (None, links[0][1], True) and links[1][0]  # https: allowed, http: not
    assert sum(1 for *_, exact in bounded if not exact) > 1000  # the snapshot's bounds compared
    assert "mathbb" in names["macros"] and "aligned" in names["environments"]


def _copy(built: Snapshot, folder) -> Snapshot:
    for path in (built.blob, built.record):
        (folder / path.name).write_bytes(path.read_bytes())
    return Snapshot(folder, built.node, built.root)


def _stamp(path) -> list[int]:
    found = path.stat()
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino]


def _wait_for_the_builder(snapshot: Snapshot) -> None:
    deadline = time.monotonic() + 180
    while snapshot.building.exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_a_damaged_blob_is_never_run_and_is_built_again(monkeypatch, built, tmp_path):
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", str(tmp_path))
    monkeypatch.delenv("MATHDECK_NODE_SNAPSHOT", raising=False)
    snapshot = _copy(built, tmp_path)
    damaged = bytearray(snapshot.blob.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    snapshot.blob.write_bytes(bytes(damaged))
    assert not snapshot.verified()
    assert usable_snapshot(built.node, built.root) is None  # and a builder is started
    _wait_for_the_builder(snapshot)
    assert snapshot.verified() and snapshot.blob.read_bytes() != bytes(damaged)
    assert usable_snapshot(built.node, built.root) is not None


def test_a_verified_blob_is_hashed_again_only_once_it_changes(monkeypatch, built, tmp_path):
    snapshot = _copy(built, tmp_path)
    hashed = []
    real_sha256 = mathjax_snapshot.hashlib.sha256

    def sha256(data=b""):
        hashed.append(len(data))
        return real_sha256(data)

    monkeypatch.setattr(mathjax_snapshot.hashlib, "sha256", sha256)
    monkeypatch.setattr(user_cache, "RACY_NS", 10**18)  # as if just written
    # The copied record may hold the original blob's size, times and inode: not this file's.
    assert snapshot.verified() and hashed
    assert snapshot.read_record().get("verified_as") != _stamp(snapshot.blob)  # too new
    monkeypatch.setattr(user_cache, "RACY_NS", 0)  # as it will be in two seconds
    assert snapshot.verified() and snapshot.read_record()["verified_as"] == _stamp(snapshot.blob)
    hashed.clear()
    assert snapshot.verified() and hashed == []  # its size, times and inode are as verified
    # A bit flipped in place, its time set back: its ctime still moved, so it is hashed again.
    before = snapshot.blob.stat()
    with snapshot.blob.open("r+b") as blob:
        blob.seek(before.st_size // 2)
        flipped = bytes([blob.read(1)[0] ^ 0xFF])
        blob.seek(before.st_size // 2)
        blob.write(flipped)
    os.utime(snapshot.blob, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not snapshot.verified() and hashed


def test_a_stale_record_is_not_trusted(monkeypatch, built, tmp_path):
    # The record is of another key (other node, MathJax or checker code): its blob is not used.
    snapshot = _copy(built, tmp_path)
    record = snapshot.record.read_text()
    snapshot.record.write_text(record.replace(snapshot.key, "0" * len(snapshot.key)))
    assert not snapshot.verified()


def test_a_blob_node_cannot_start_from_falls_back_and_is_dropped(
    monkeypatch, built, tmp_path, node_commands
):
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", str(tmp_path))
    monkeypatch.delenv("MATHDECK_NODE_SNAPSHOT", raising=False)
    snapshot = Snapshot(tmp_path, built.node, built.root)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"not a V8 snapshot" * 1000)
    snapshot.publish(garbage)  # its digest is right: only node can tell
    items = [(tex, False) for tex in GOOD] + [(tex, False) for tex, _ in BAD]
    expected = [(message, None, True) for _, message in BAD]
    streamed = _streamed(items)
    assert streamed[len(GOOD) :] == expected and all(
        error is None for error, *_ in streamed[: len(GOOD)]
    )
    assert [("--snapshot-blob" in command) for command in node_commands] == [True, False]
    assert not snapshot.blob.exists() and snapshot.recently_failed()
    assert usable_snapshot(built.node, built.root) is None
    assert not snapshot.building.exists()  # not rebuilt at once: it failed
    assert measure_tex(items) == streamed  # the usual way, every time


def test_an_unbuildable_snapshot_falls_back_without_trying_again(monkeypatch, built, tmp_path):
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", str(tmp_path))
    monkeypatch.delenv("MATHDECK_NODE_SNAPSHOT", raising=False)
    broken = tmp_path / "snapshot.cjs"
    broken.write_text("throw new Error('this node cannot build it');\n")
    monkeypatch.setattr(mathjax_snapshot, "SNAPSHOT_SCRIPT", broken)
    snapshot = Snapshot(tmp_path, built.node, built.root)
    assert not build_snapshot(snapshot)
    assert "this node cannot build it" in snapshot.read_record()["why"]
    assert not snapshot.blob.exists() and not snapshot.building.exists()
    assert usable_snapshot(built.node, built.root) is None
    assert not snapshot.building.exists()
    assert measure_tex([(r"\frac{a}", False)]) == [(r"Missing argument for \frac", None, True)]


@pytest.mark.parametrize(
    "name, value",
    [
        ("MATHDECK_NODE_SNAPSHOT", "0"),
        ("MATHDECK_NODE_CODE_CACHE", "0"),
        ("MATHDECK_MATHJAX_PLAIN", "1"),
    ],
)
def test_switches_turn_the_snapshot_off(monkeypatch, name, value):
    monkeypatch.delenv("MATHDECK_NODE_SNAPSHOT", raising=False)
    monkeypatch.delenv("MATHDECK_NODE_CODE_CACHE", raising=False)
    monkeypatch.delenv("MATHDECK_MATHJAX_PLAIN", raising=False)
    assert snapshot_folder() is not None
    monkeypatch.setenv(name, value)
    assert snapshot_folder() is None


def _other_blobs(folder, last_used: list[float]) -> list:
    """Blobs (and records) of other keys in `folder`, each last used at the given time."""
    blobs = [folder / f"mathjax-snapshot-{n:04}.blob" for n in range(len(last_used))]
    for blob, used in zip(blobs, last_used, strict=True):
        blob.write_bytes(b"an older snapshot")
        blob.with_suffix(".json").write_text("{}")
        os.utime(blob, (used, used))
    return blobs


def _publish_a_snapshot_in(folder, built: Snapshot) -> None:
    snapshot = Snapshot(folder, built.node, built.root)
    built_again = folder / "built"
    built_again.write_bytes(built.blob.read_bytes())
    snapshot.publish(built_again)
    assert snapshot.verified()


def _kept(blobs) -> list:
    return [blob for blob in blobs if blob.exists() and blob.with_suffix(".json").exists()]


def test_blobs_of_other_keys_unused_for_a_month_are_removed(built, tmp_path):
    recent, old = _other_blobs(tmp_path, [time.time(), time.time() - 31 * 24 * 3600])
    _publish_a_snapshot_in(tmp_path, built)
    assert _kept([recent, old]) == [recent]
    assert not old.exists() and not old.with_suffix(".json").exists()


def test_only_the_most_recently_used_blobs_of_other_keys_are_kept(built, tmp_path):
    hours_ago = [time.time() - (age + 1) * 3600 for age in range(OTHER_BLOBS_KEPT + 2)]
    others = _other_blobs(tmp_path, hours_ago)  # others[0] the most recently used
    _publish_a_snapshot_in(tmp_path, built)
    assert _kept(others) == others[:OTHER_BLOBS_KEPT]
    assert not any(blob.exists() for blob in others[OTHER_BLOBS_KEPT:])


def test_node_runs_the_checker_without_the_ca_bundle_but_with_everything_else(monkeypatch):
    # node parses NODE_EXTRA_CA_CERTS's whole bundle at every start (~80 ms), for a checker that
    # opens no connection; every other variable (PATH, the deck's settings) still reaches it
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("MATHDECK_SOMETHING_ELSE", "kept")
    environment = mathjax_snapshot.node_environment(MATHDECK_TEX_LINKS="https")
    assert "NODE_EXTRA_CA_CERTS" not in environment
    assert environment["MATHDECK_SOMETHING_ELSE"] == "kept"
    assert environment["MATHDECK_TEX_LINKS"] == "https"
    assert environment["PATH"] == os.environ["PATH"]
    # and a check still answers with the bundle named (here a file that does not exist)
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", "/nonexistent/bundle.pem")
    assert mathjax.check_tex([("x^2", False)]) == [None]
