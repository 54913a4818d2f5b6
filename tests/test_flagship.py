"""The flagship deck, built from the real sources and imported into the real Anki library."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from builds import REPO, build_in


@pytest.fixture
def flagship(imported_flagship):
    return imported_flagship


def test_every_note_imports_once(flagship):
    result, col, log = flagship
    assert len(log.new) == len(result.notes) == len(col.find_notes(""))
    assert not log.duplicate and not log.conflicting
    assert col.card_count() == result.anki_cards


def test_every_card_renders_with_content_and_no_template_leftovers(flagship):
    result, col, _ = flagship
    card_ids = col.find_cards("")
    assert len(card_ids) == result.anki_cards > 0  # the loop below checks every card, not none
    for card_id in card_ids:
        card = col.get_card(card_id)
        question, answer = card.question(), card.answer()
        body = re.sub(r"<style>.*?</style>", "", answer, flags=re.S)
        assert "{{" not in question + answer, card.note()["CardId"]
        assert len(re.sub(r"<[^>]+>", "", body).strip()) > 20, card.note()["CardId"]


def test_parts_are_subdecks_so_interview_questions_can_be_studied_alone(flagship):
    _, col, _ = flagship
    names = {d.name for d in col.decks.all_names_and_ids()}
    for part in ("Part 1", "Part 2", "Part 3"):
        assert any(name.startswith(f"ML Math Cheat Sheet::{part}") for name in names), part
    interview = [n for n in names if n.startswith("ML Math Cheat Sheet::Part 3")]
    assert col.find_cards(f'"deck:{interview[0]}"')


def test_levels_and_parts_are_tags(flagship):
    _, col, _ = flagship
    for tag in ("L1", "L2", "L3", "part1", "part2", "part3"):
        assert col.find_notes(f"tag:{tag}"), tag


def _sources_of(kept: Path) -> str | None:
    """The commit that added a released file: its sources are that release's."""
    found = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "log",
            "--diff-filter=A",
            "-1",
            "--format=%H",
            "--",
            str(kept.relative_to(REPO)),
        ],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() or None if found.returncode == 0 else None


@pytest.mark.parametrize(
    "kept", sorted((REPO / "releases").glob("*.apkg")), ids=lambda path: path.name
)
def test_every_kept_release_is_a_byte_identical_rebuild_of_its_sources(kept, tmp_path, monkeypatch):
    """What a learner downloads from releases/ is what the sources of that commit build."""
    from builder import figures

    commit = _sources_of(kept)
    if commit is None:
        pytest.skip("not a git checkout with the release committed")
    project = tmp_path / "project"
    project.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", commit, "cards", "figures"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(project, filter="data")
    cache = (
        REPO / ".cache" / "figures"
    )  # drawn once, as copy_flagship does; a cached file's name is its inputs' hash
    figures.make_figures(figures.plan_figures(project / "figures").values(), cache)
    shutil.copytree(
        cache, project / ".cache" / "figures", ignore=shutil.ignore_patterns(".drawing-*")
    )
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)  # a release's times are all in its lock

    result = build_in(project)
    assert result.path.name == kept.name and result.path.read_bytes() == kept.read_bytes()
