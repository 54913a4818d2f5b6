"""package: deterministic bytes, atomic and versioned output that never clobbers a release."""

from __future__ import annotations

import zipfile

import pytest

from builder.problems import SourceError
from builds import MINIMAL, build_in, copy_sources, set_version


@pytest.fixture
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


def test_same_sources_and_epoch_give_identical_bytes(tmp_path, epoch):
    copy_sources(MINIMAL, tmp_path / "a")
    copy_sources(MINIMAL, tmp_path / "b")
    first, second = build_in(tmp_path / "a"), build_in(tmp_path / "b")
    assert first.path.name == second.path.name == "ml-math-cheatsheet-0.1.0.apkg"
    assert first.path.read_bytes() == second.path.read_bytes()


def test_zip_entries_carry_fixed_dates_and_modes(tmp_path, epoch):
    copy_sources(MINIMAL, tmp_path / "a")
    result = build_in(tmp_path / "a")
    with zipfile.ZipFile(result.path) as apkg:
        infos = apkg.infolist()
        assert infos[0].filename == "collection.anki2"
        assert {i.date_time for i in infos} == {(2025, 11, 24, 16, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o644}


def test_rebuilding_unchanged_sources_leaves_file_alone(tmp_path, epoch):
    copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a")
    before = first.path.stat().st_mtime_ns
    again = build_in(tmp_path / "a")
    assert again.status == "unchanged" and first.path.stat().st_mtime_ns == before


def test_changed_sources_under_same_version_are_refused_unless_forced(tmp_path, epoch, monkeypatch):
    cards = copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a")
    released = first.path.read_bytes()
    lock_before = (cards / "mathdeck.lock.json").read_text()
    (cards / "cards.yaml").write_text((cards / "cards.yaml").read_text().replace("Bayes' theorem", "Bayes' rule"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")

    with pytest.raises(SourceError) as error:
        build_in(tmp_path / "a")
    [problem] = error.value.problems
    assert problem.location.file.name == "deck.yaml" and problem.location.line == 6
    assert "already exists with different content: bump 'version'" in problem.message
    assert first.path.read_bytes() == released  # the release is untouched
    assert (cards / "mathdeck.lock.json").read_text() == lock_before  # and so is the lock
    assert not [p for p in first.path.parent.iterdir() if p.name.startswith(".")]  # no temp files left

    forced = build_in(tmp_path / "a", force=True)
    assert forced.status == "replaced" and forced.path.read_bytes() != released


def test_new_version_goes_to_a_new_file(tmp_path, epoch):
    cards = copy_sources(MINIMAL, tmp_path / "a")
    first = build_in(tmp_path / "a")
    set_version(cards, "1.0.0")
    second = build_in(tmp_path / "a")
    assert second.path.name == "ml-math-cheatsheet-1.0.0.apkg" and first.path.exists()
