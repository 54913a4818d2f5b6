"""package_collection: the SQLite collection inside an .apkg, as genanki writes it.

The collection is genanki's: its schema, its note type and deck JSON, its rows. They are written
here as genanki's Package.write_to_file writes them, statement for statement and in the same
order (the SQLite file's bytes depend on it), but without a genanki.Note per note and without
re-reading the JSON after each deck: for 20,000 notes that halves the time.
tests/test_package.py holds the bytes equal to genanki's own write_to_file.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the collection only holds what render made
    import genanki

    from .render import RenderedNote


def collection_bytes(
    decks: dict[str, genanki.Deck],
    notes_by_deck: dict,
    models: dict[str, genanki.Model],
    timestamp: int,
) -> bytes:
    """The SQLite collection genanki's Package.write_to_file(timestamp=...) writes, byte for
    byte."""
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    id_gen = itertools.count(int(timestamp * 1000))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(path)
        # A scratch file, read once complete: no journal, no waiting for the disk (the bytes are
        # the same; the .apkg itself is written atomically).
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA journal_mode = OFF")
        cursor = connection.cursor()
        cursor.executescript(APKG_SCHEMA)
        cursor.executescript(APKG_COL)
        decks_json, models_json = (
            json.loads(text) for text in cursor.execute("SELECT decks, models FROM col").fetchone()
        )
        encoder = _JsonEncoder()
        for subdeck, genanki_deck in decks.items():
            stamped = notes_by_deck[subdeck]
            used = {
                models[note.card.kind].model_id: models[note.card.kind] for note, _, _ in stamped
            }
            _write_deck_json(
                cursor, genanki_deck, used.values(), decks_json, models_json, timestamp, encoder
            )
            _write_notes(cursor, genanki_deck.deck_id, stamped, models, id_gen)
        connection.commit()
        connection.close()
        return path.read_bytes()


def _write_deck_json(
    cursor,
    deck: genanki.Deck,
    used: Iterable[genanki.Model],
    decks_json: dict,
    models_json: dict,
    timestamp: int,
    encoder: _JsonEncoder,
) -> None:
    """What genanki's Deck.write_to_db writes before its notes, value for value: the col row's
    decks JSON with this deck added, then its note types JSON with the deck's note types added
    under integer ids. genanki re-reads that JSON for the next deck, which turns those ids into
    strings (so a note type used by several decks appears twice in the text written after the
    first); `models_json` is kept as that re-read would give it."""
    decks_json[str(deck.deck_id)] = deck.to_json()
    cursor.execute("UPDATE col SET decks = ?", (encoder.dumps(decks_json),))
    added = {model.model_id: model.to_json(timestamp, deck.deck_id) for model in used}
    cursor.execute("UPDATE col SET models = ?", (encoder.dumps({**models_json, **added}),))
    models_json.update((str(model_id), value) for model_id, value in added.items())


class _JsonEncoder:
    """json.dumps for the col row's deck and note-type dicts, which are rewritten once per
    subdeck (hundreds of times): each value is encoded once, the dict's text assembled."""

    def __init__(self):
        self._encoded: dict[
            int, tuple
        ] = {}  # id(value) -> (value, its JSON); the value is kept alive

    def dumps(self, mapping: dict) -> str:
        return (
            "{"
            + ", ".join(
                f"{json.dumps(str(key))}: {self._value(value)}" for key, value in mapping.items()
            )
            + "}"
        )

    def _value(self, value) -> str:
        entry = self._encoded.get(id(value))
        if entry is None or entry[0] is not value:
            entry = self._encoded[id(value)] = (value, json.dumps(value))
        return entry[1]


def _write_notes(
    cursor,
    deck_id: int,
    stamped: list[tuple[RenderedNote, str, int]],
    models: dict[str, genanki.Model],
    id_gen,
) -> None:
    """genanki's Note.write_to_db and Card.write_to_db, row for row, for notes of our own note
    types."""
    import genanki

    for note, guid, modified in stamped:
        model = models[note.card.kind]
        fields = note.fields
        if len(fields) != len(model.fields):
            raise ValueError(
                f"note type {model.name} has {len(model.fields)} fields, card "
                f"'{note.card.id}' {len(fields)}"
            )
        if not note.from_cache:
            # rendered in this build (cached notes were checked when they were rendered): genanki
            # warns about invalid HTML, which the tests treat as a failure
            genanki.Note(model=model, fields=list(fields))._check_invalid_html_tags_in_fields()
        note_id = next(id_gen)
        cursor.execute(
            "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);",
            (
                note_id,
                guid,
                model.model_id,
                modified,
                -1,
                " " + " ".join(note.tags) + " ",
                "\x1f".join(fields),
                fields[model.sort_field_index],
                0,
                0,
                "",
            ),
        )
        for card_ord in _card_ords(model, fields):
            cursor.execute(
                "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);",
                (
                    next(id_gen),
                    note_id,
                    deck_id,
                    card_ord,
                    modified,
                    -1,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    "",
                ),
            )


def _card_ords(model: genanki.Model, fields: tuple[str, ...]) -> list[int]:
    """The cards genanki makes for a note (Note.cards): by the templates' required fields, or one
    per cloze number."""
    import genanki

    if model.model_type == genanki.Model.CLOZE:
        return [card.ord for card in genanki.Note(model=model, fields=list(fields)).cards]
    return [
        card_ord
        for card_ord, any_or_all, required in model._req
        if (any if any_or_all == "any" else all)(fields[i] for i in required)
    ]
