"""`mathdeck push` against a real AnkiConnect-protocol server over a real `anki` collection
(tests/ankiconnect_server.py): notes land once, a second push duplicates nothing, an edited card
updates its note in place, and a missing Anki is a one-line message with exit 1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ankiconnect_server import AnkiConnectServer
from builds import copy_flagship

RUNNER = CliRunner()


def push_app() -> typer.Typer:
    """`mathdeck` itself, whose `push` command is tested here."""
    from builder.cli import app

    return app


def push(project: Path, url: str, *args: str):
    return RUNNER.invoke(
        push_app(), ["push", "--cards", str(project / "cards"), "--url", url, *args]
    )


def options(project: Path):
    from builder.build import BuildOptions

    return BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_flagship(tmp_path_factory.mktemp("push"))


@pytest.fixture
def anki(tmp_path):
    with AnkiConnectServer(tmp_path / "anki") as server:
        yield server


def card_ids(col) -> list[str]:
    return sorted(col.get_note(note_id)["CardId"] for note_id in col.find_notes(""))


def test_push_twice_adds_every_note_once(project, anki):
    first = push(project, anki.url)
    assert first.exit_code == 0, first.output + repr(first.exception)
    col = anki.col
    ids = card_ids(col)
    assert len(ids) == len(set(ids)) > 200
    assert f"{len(ids)} added, 0 updated, 0 unchanged" in " ".join(first.output.split())
    names = {entry.name for entry in col.models.all_names_and_ids()}
    assert {"mathdeck formula", "mathdeck qa", "mathdeck code"} <= names  # the kinds the deck uses
    assert any(
        name.startswith("ML Math Cheat Sheet::Part 3")
        for name in (d.name for d in col.decks.all_names_and_ids())
    )
    media = sorted(path.name for path in Path(col.media.dir()).iterdir())
    assert media and all(name.startswith("mathdeck-") for name in media)
    modified = {note_id: col.get_note(note_id).mod for note_id in col.find_notes("")}

    second = push(project, anki.url)
    assert second.exit_code == 0, second.output
    assert f"0 added, 0 updated, {len(ids)} unchanged; 0 media files stored" in " ".join(
        second.output.split()
    )
    assert card_ids(col) == ids
    assert {
        note_id: col.get_note(note_id).mod for note_id in col.find_notes("")
    } == modified  # nothing rewritten


def test_push_updates_an_edited_card_in_place_and_keeps_learner_tags(project, anki, tmp_path):
    from builder.ankiconnect import AnkiConnect
    from builder.prepare import prepare
    from builder.push_notes import push_notes

    client = AnkiConnect(anki.url)
    prepared = prepare(options(project), "en+zh")
    push_notes(client, prepared.deck, prepared.notes, prepared.media)
    col = anki.col
    (note_id,) = col.find_notes('"CardId:p1-bayes-theorem"')
    col.tags.bulk_add([note_id], "my-own-tag")
    count = col.note_count()

    edited = copy_flagship(tmp_path / "edited")
    card_file = edited / "cards" / "part1-probability.yaml"
    text = card_file.read_text(encoding="utf-8")
    card_file.write_text(
        text.replace("    concept: Bayes' theorem\n", "    concept: Bayes' theorem (edited)\n", 1),
        encoding="utf-8",
    )
    result = push(edited, anki.url, "--lang", "en")

    assert result.exit_code == 0, result.output + repr(result.exception)
    assert col.note_count() == count
    note = col.get_note(note_id)
    assert note["Concept"] == "Bayes' theorem (edited)" and "my-own-tag" in note.tags
    assert all(col.get_note(other)["Zh"] == "" for other in col.find_notes(""))  # --lang en


def test_push_without_anki_says_so_and_exits_1(project):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = push(project, f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert "Anki is not running" in result.output and "AnkiConnect" in result.output
    assert "Traceback" not in result.output and isinstance(
        result.exception, SystemExit
    )  # typer.Exit, no crash
