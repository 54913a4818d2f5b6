"""A large development build's collection written in bulk (package_collection._write_in_bulk):
genanki's rows and values in another layout, reproducible, and read by the official `anki`."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from builder import package
from builder.bench_decks import edit_one_card, write_synthetic_project
from builder.identity import read_lock
from builder.package import DEV_ZIP_LEVEL, package_bytes
from builder.package_collection import BULK_PAGE_SIZE
from builder.render import note_type_templates, render_description
from builds import build_in


@pytest.fixture(autouse=True)
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


@pytest.fixture
def bulk_from(monkeypatch):
    """Bulk from `n` notes, so that a small deck shows what a 20,000-card one does."""

    def set_to(n: int) -> None:
        monkeypatch.setattr(package, "BULK_FROM_NOTES", n)

    return set_to


def synthetic(tmp_path: Path, count: int = 60) -> Path:
    cards = write_synthetic_project(tmp_path / "synthetic", count, per_file=7)
    (cards / "cloze.yaml").write_text(
        "subdeck: Clozes\ncards:\n  - id: cloze-one\n    kind: cloze\n"
        "    text: 'The {{c1::mean}} of $X$ is {{c2::$\\mu$}}; "
        "its {{c3::variance}} is $\\sigma^2$.'\n"
    )
    return tmp_path / "synthetic"


def collection(apkg: bytes, folder: Path) -> sqlite3.Connection:
    path = folder / f"collection-{len(list(folder.iterdir()))}.anki2"
    with zipfile.ZipFile(io.BytesIO(apkg)) as archive:
        path.write_bytes(archive.read("collection.anki2"))
    return sqlite3.connect(path)


def what_anki_reads(connection: sqlite3.Connection) -> dict:
    """Every row, the col row's JSON as a parser reads it (genanki's repeated note-type keys: the
    last one counts), and the schema without where its tables sit in the file."""
    col = connection.execute("SELECT * FROM col").fetchone()
    return {
        "notes": connection.execute("SELECT * FROM notes ORDER BY id").fetchall(),
        "cards": connection.execute("SELECT * FROM cards ORDER BY id").fetchall(),
        "revlog": connection.execute("SELECT * FROM revlog").fetchall(),
        "graves": connection.execute("SELECT * FROM graves").fetchall(),
        "col": [
            json.loads(value) if index in (8, 9, 10, 11) else value
            for index, value in enumerate(col)
        ],
        "schema": sorted(
            connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        ),
    }


def test_a_bulk_collection_holds_genankis_rows(tmp_path, bulk_from):
    """Many subdecks (genanki rewrites the note-type JSON for each, repeating keys), every kind,
    cloze: the same rows, values, JSON and indexes, in 16 KiB pages."""
    project = synthetic(tmp_path)
    result = build_in(project)
    inputs = (
        result.deck,
        result.notes,
        read_lock(project / "cards"),
        result.media,
        render_description(result.deck),
        note_type_templates(),
    )
    bulk_from(10**9)
    as_genanki = collection(package_bytes(*inputs, level=DEV_ZIP_LEVEL), tmp_path)
    bulk_from(0)
    in_bulk = collection(package_bytes(*inputs, level=DEV_ZIP_LEVEL), tmp_path)
    assert as_genanki.execute("PRAGMA page_size").fetchone() == (4096,)
    assert in_bulk.execute("PRAGMA page_size").fetchone() == (BULK_PAGE_SIZE,)
    assert in_bulk.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    expected = what_anki_reads(as_genanki)
    # Default, the deck, 9 subdecks of 7 cards and the clozes'
    assert len(expected["notes"]) == 61 and len(expected["col"][10]) == 12
    assert what_anki_reads(in_bulk) == expected


def test_a_bulk_build_is_the_same_cold_edited_with_damaged_caches_and_without(tmp_path, bulk_from):
    bulk_from(10)
    project = synthetic(tmp_path)
    build_in(project)
    edit_one_card(project / "cards", 3)
    edited = build_in(project, force=True)
    warm = edited.path.read_bytes(), (project / "cards" / "mathdeck.lock.json").read_text()
    with zipfile.ZipFile(edited.path) as archive:
        assert archive.read("collection.anki2")[16:18] == BULK_PAGE_SIZE.to_bytes(2, "big")
    for number, shard in enumerate(sorted((project / ".cache" / "build").rglob("*.marshal"))):
        data = shard.read_bytes()
        shard.write_bytes([b"", b"\x00garbage", data[: len(data) // 2]][number % 3])
    edited.path.unlink()
    damaged = build_in(project, force=True)
    assert damaged.path.read_bytes() == warm[0]
    for folder in (project / ".cache" / "build", project / "dist"):
        shutil.rmtree(folder)
    again = build_in(project, force=True)
    assert (again.path.read_bytes(), warm[1]) == warm


def test_anki_imports_a_bulk_build_and_updates_the_edited_note(tmp_path, bulk_from, monkeypatch):
    from anki_collection import fresh_collection, import_package, notes_by_card_id

    bulk_from(10)
    project = synthetic(tmp_path)
    first = build_in(project)
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, first.path)
        notes = notes_by_card_id(col)
        assert len(notes) == 61 and col.card_count() == first.anki_cards
        assert {deck.name for deck in col.decks.all_names_and_ids()} >= {
            f"Synthetic Bench Deck::Synthetic {n:03d}" for n in range(9)
        }
        edit_one_card(project / "cards", 5)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000100")
        second = build_in(project, force=True)
        log = import_package(col, second.path)
        assert len(log.updated) == 1 and not log.new
        [edited] = [
            note for note in notes_by_card_id(col).values() if "Edit 5" in "".join(note.fields)
        ]
        assert "e^{5}" in edited["Explanation"]
    finally:
        col.close()
