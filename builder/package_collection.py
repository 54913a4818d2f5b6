"""package_collection: the SQLite collection inside an .apkg, as genanki writes it.

The collection is genanki's: its schema, its note type and deck JSON, its rows. They are written
here as genanki's Package.write_to_file writes them, statement for statement and in the same
order (the SQLite file's bytes depend on it; tests/test_package.py holds them equal), but
without a genanki.Note per note or re-reading the JSON after each deck. What it takes from
genanki comes as data (genanki_layout.py): genanki is imported only for a cloze note's cards or
a field it would warn about. A large development build is written in bulk (_write_in_bulk).
"""

from __future__ import annotations

import itertools
import json
import mmap
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .genanki_layout import GenankiLayout
from .model import KINDS

if TYPE_CHECKING:  # the collection only holds what render made
    import genanki

    from .render import RenderedNote


@contextmanager
def written_collection(
    layout: GenankiLayout,
    decks: dict[str, tuple[int, str, str]],
    notes_by_deck: dict,
    models: Callable[[], dict[str, genanki.Model]],
    timestamp: int,
    *,
    bulk: bool = False,
    rows_written: Callable[[], object] = lambda: None,
) -> Iterator[mmap.mmap]:
    """The SQLite collection genanki's Package.write_to_file(timestamp=...) writes, byte for
    byte, from genanki's layout; `models()` gives genanki's note types, made only if a note needs
    genanki itself (a cloze note, a field genanki would warn about). With `bulk`, the same rows
    and values written faster in another layout (_write_in_bulk). Mapped while the context
    lasts, not read: 30 MB at 20,000 notes cost 7,500 page faults and a copy. `rows_written()`
    is called once every row is in: SQLite's indexes and commit, then the deflate, let go of
    the GIL, so Python work started then runs beside them instead of between the rows."""
    writer = _NoteWriter(layout, models)
    id_gen = itertools.count(int(timestamp * 1000))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(path)
        # A scratch file: no journal, no waiting for the disk (the bytes are the same; the .apkg
        # itself is written atomically). Not SQLite's memdb VFS: no quicker here (bulk, 20,000
        # notes), and its image and serialize()'s copy took a cold build's peak RSS up 35 MB.
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA journal_mode = OFF")
        cursor = connection.cursor()
        write = _write_in_bulk if bulk else _write_as_genanki
        write(cursor, layout, decks, notes_by_deck, writer, id_gen, timestamp, rows_written)
        connection.commit()
        connection.close()
        with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as image:
            yield image


def _write_as_genanki(
    cursor,
    layout: GenankiLayout,
    decks: dict[str, tuple[int, str, str]],
    notes_by_deck: dict,
    writer: _NoteWriter,
    id_gen: Iterator[int],
    timestamp: int,
    rows_written: Callable[[], object],
) -> None:
    """genanki's statements in genanki's order: the deck and note-type JSON rewritten before
    each deck's notes, each note followed by its cards, into tables that have their indexes."""
    cursor.executescript(layout.schema)
    cursor.executescript(layout.col)
    decks_json, models_json = (
        json.loads(text) for text in cursor.execute("SELECT decks, models FROM col").fetchone()
    )
    encoder = _JsonEncoder()
    for subdeck, (deck_id, name, description) in decks.items():
        stamped = notes_by_deck[subdeck]
        # what genanki's Deck.to_json() gives, with this deck's values
        deck_json = {**layout.deck, "id": deck_id, "name": name, "desc": description}
        used = dict.fromkeys(note.card.kind for note, _, _ in stamped)
        written = (decks_json, models_json, timestamp, encoder)
        _write_deck_json(cursor, deck_id, deck_json, used, layout, *written)
        for note_row, card_rows in writer.rows(deck_id, stamped, id_gen):
            cursor.execute(INSERT_NOTE, note_row)
            for card_row in card_rows:
                cursor.execute(INSERT_CARD, card_row)
    rows_written()


def _write_in_bulk(
    cursor,
    layout: GenankiLayout,
    decks: dict[str, tuple[int, str, str]],
    notes_by_deck: dict,
    writer: _NoteWriter,
    id_gen: Iterator[int],
    timestamp: int,
    rows_written: Callable[[], object],
) -> None:
    """genanki's rows and values (ids, fields, decks, note types) in a layout quicker to write:
    16 KiB pages; the col row once, with the JSON genanki's last rewrite means (each note type
    as the last deck using it left it); every note, then every card, each in one executemany;
    the indexes last. At 20,000 notes ~0.2 s less CPU, 30 MB not 37 (test_package_bulk.py)."""
    cursor.execute(f"PRAGMA page_size = {BULK_PAGE_SIZE}")
    statements = [text.strip() for text in layout.schema.split(";") if text.strip()]
    indexes = [text for text in statements if text.upper().startswith("CREATE INDEX")]
    cursor.executescript(";\n".join(text for text in statements if text not in indexes) + ";")
    cursor.executescript(layout.col)
    decks_json, models_json = (
        json.loads(text) for text in cursor.execute("SELECT decks, models FROM col").fetchone()
    )
    for subdeck, (deck_id, name, description) in decks.items():
        decks_json[str(deck_id)] = {**layout.deck, "id": deck_id, "name": name, "desc": description}
        for kind in dict.fromkeys(note.card.kind for note, _, _ in notes_by_deck[subdeck]):
            model = layout.note_types[kind]
            models_json[str(model["id"])] = {**model, "did": deck_id, "mod": int(timestamp)}
    cursor.execute(
        "UPDATE col SET decks = ?, models = ?", (json.dumps(decks_json), json.dumps(models_json))
    )
    cards: list[tuple] = []

    def note_rows() -> Iterator[tuple]:
        for subdeck, (deck_id, _, _) in decks.items():
            for note_row, card_rows in writer.rows(deck_id, notes_by_deck[subdeck], id_gen):
                cards.extend(card_rows)
                yield note_row

    cursor.executemany(INSERT_NOTE, note_rows())
    cursor.executemany(INSERT_CARD, cards)
    rows_written()
    cursor.executescript(";\n".join(indexes) + ";")


def _write_deck_json(
    cursor,
    deck_id: int,
    deck_json: dict,
    kinds: Iterable[str],
    layout: GenankiLayout,
    decks_json: dict,
    models_json: dict,
    timestamp: int,
    encoder: _JsonEncoder,
) -> None:
    """What genanki's Deck.write_to_db writes before its notes, value for value: the col row's
    decks JSON with this deck added, then its note types JSON with the deck's note types
    (`kinds`) added under integer ids. genanki re-reads that JSON for the next deck, which turns
    those ids into strings (so a note type used by several decks appears twice in the text
    written after the first); `models_json` is kept as that re-read would give it."""
    decks_json[str(deck_id)] = deck_json
    cursor.execute("UPDATE col SET decks = ?", (encoder.dumps(decks_json),))
    added = {}
    for kind in kinds:
        model = dict(layout.note_types[kind])  # genanki's Model.to_json(timestamp, deck_id)
        model["did"], model["mod"] = deck_id, int(timestamp)
        added[int(model["id"])] = model
    cursor.execute("UPDATE col SET models = ?", (encoder.dumps({**models_json, **added}),))
    models_json.update((str(model_id), value) for model_id, value in added.items())


class _JsonEncoder:
    """json.dumps for the col row's deck and note-type dicts, which genanki's order rewrites once
    per subdeck: each value is encoded once, the dict's text assembled. A dict with text keys is
    assembled the same way: a deck's copy of a note type (its own "did" and "mod") shares its
    templates, fields and CSS with every other copy, encoded once."""

    def __init__(self):
        self._encoded: dict[int, tuple] = {}  # id(value) -> (value, its JSON), kept alive
        self._keys: dict[str, str] = {}  # a key's text -> its JSON

    def dumps(self, mapping: dict) -> str:
        return (
            "{"
            + ", ".join(f"{self._key(key)}: {self._value(value)}" for key, value in mapping.items())
            + "}"
        )

    def _key(self, key) -> str:
        text = str(key)
        encoded = self._keys.get(text)
        if encoded is None:
            encoded = self._keys[text] = json.dumps(text)
        return encoded

    def _value(self, value) -> str:
        entry = self._encoded.get(id(value))
        if entry is None or entry[0] is not value:
            text_keyed = type(value) is dict and all(type(key) is str for key in value)
            text = self.dumps(value) if text_keyed else json.dumps(value)
            entry = self._encoded[id(value)] = (value, text)
        return entry[1]


class _NoteWriter:
    """genanki's Note.write_to_db and Card.write_to_db, row for row, for notes of our own note
    types, from the layout's note-type JSON; genanki itself (`models()`, imported on first use)
    only for what it computes per note: the cards of a cloze note, and its warning about a
    field's invalid HTML."""

    def __init__(self, layout: GenankiLayout, models: Callable[[], dict[str, genanki.Model]]):
        self.note_types = {
            kind: (
                int(json["id"]),
                len(json["flds"]),
                json["sortf"],
                _tests(json["req"]),
                json["type"],
            )
            for kind, json in layout.note_types.items()
        }
        self.invalid_html = re.compile(layout.invalid_html)
        self.models = models
        # (kind, which fields are empty) -> the card ords a front/back note makes: genanki tests
        # only whether the required fields are empty, a few patterns for 20,000 notes
        self.ords_by_filled: dict[tuple[str, tuple[bool, ...]], list[int]] = {}

    def rows(
        self, deck_id: int, stamped: list[tuple[RenderedNote, str, int]], id_gen: Iterator[int]
    ) -> Iterator[tuple[tuple, list[tuple]]]:
        """Each note's row (INSERT_NOTE's values) and its cards' (INSERT_CARD's), with ids taken
        from `id_gen` as genanki takes them: the note's, then each of its cards'."""
        for note, guid, modified in stamped:
            model_id, field_count, sort_field, req, model_type = self.note_types[note.card.kind]
            fields = note.fields
            if len(fields) != field_count:
                raise ValueError(
                    f"note type {KINDS[note.card.kind].note_type_name} has {field_count} fields, "
                    f"card '{note.card.id}' {len(fields)}"
                )
            if not note.from_cache and any(map(self.invalid_html.search, fields)):
                # genanki warns (rendered in this build: cached notes were checked when they were
                # rendered), which the tests treat as a failure
                self._genanki_note(note)._check_invalid_html_tags_in_fields()
            note_id = next(id_gen)
            note_row = (
                note_id,
                guid,
                model_id,
                modified,
                " " + " ".join(note.tags) + " ",
                "\x1f".join(fields),
                fields[sort_field],
            )
            yield (
                note_row,
                [
                    (next(id_gen), note_id, deck_id, card_ord, modified)
                    for card_ord in self._card_ords(note, req, model_type)
                ],
            )

    def _card_ords(self, note: RenderedNote, req: tuple, model_type: int) -> list[int]:
        """The cards genanki makes for a note (Note.cards): by the templates' required fields, or
        one per cloze number."""
        if model_type == CLOZE:
            return [card.ord for card in self._genanki_note(note).cards]
        filled = (note.card.kind, tuple(map(bool, note.fields)))
        ords = self.ords_by_filled.get(filled)
        if ords is None:
            fields = note.fields
            ords = self.ords_by_filled[filled] = [
                card_ord for card_ord, test, required in req if test([fields[i] for i in required])
            ]
        return ords

    def _genanki_note(self, note: RenderedNote) -> genanki.Note:
        import genanki

        return genanki.Note(model=self.models()[note.card.kind], fields=list(note.fields))


def _tests(req: list) -> tuple[tuple[int, Callable, tuple[int, ...]], ...]:
    """A note type's "req" ([ord, "any" or "all", [field indexes]] per template), with the test
    as a function: decided once per note type instead of once per note."""
    return tuple(
        (card_ord, any if any_or_all == "any" else all, tuple(required))
        for card_ord, any_or_all, required in req
    )


BULK_PAGE_SIZE = 16384  # not SQLite's 4 KiB: a page holds several notes, splits a quarter as often
CLOZE = 1  # genanki.Model.CLOZE, the JSON's "type" of a cloze note type
# genanki's rows (Note.write_to_db, Card.write_to_db), the values it always writes the same
# (usn -1, flags, data; a new card's due, interval, reps...) in the statement: a third of the
# values to bind per row, the same record bytes
INSERT_NOTE = "INSERT INTO notes VALUES(?,?,?,?,-1,?,?,?,0,0,'');"
INSERT_CARD = "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,0,0,0,0,0,0,0,0,0,'');"
