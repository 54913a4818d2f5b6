"""package: rendered notes + media → .apkg bytes, deterministic to the byte.

genanki stamps notes with one wall-clock time and writes zip entries with the current date and
file times (anki-facts.md, "Reproducible packages"). Here every note carries its own modification
time and the zip is written with fixed dates, permissions, order and compression.

The collection is genanki's: its schema, its note type and deck JSON, its rows. They are written
here as genanki's Package.write_to_file writes them, statement for statement and in the same
order (the SQLite file's bytes depend on it), but without a genanki.Note per note and without
re-reading the JSON after each deck: for 20,000 notes that halves the time.
tests/test_package.py holds the bytes equal to genanki's own write_to_file.

package_key hashes every input of the bytes (notes with their times, deck, description, note
types, media bytes, SQLite's and zlib's versions): a rebuild whose key is the last build's takes
that build's bytes instead of writing 20,000 rows and compressing 40 MB again (build.py keeps them).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .identity import Lock, guid_for_card
from .model import KINDS, Deck

if TYPE_CHECKING:  # package only packs what render made
    import genanki

    from .render import NoteTypeTemplates, RenderedNote

ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest date a zip entry can hold


def subdeck_name(deck: Deck, subdeck: str) -> str:
    return f"{deck.config.title}::{subdeck}" if subdeck else deck.config.title


def subdeck_id(deck: Deck, subdeck: str) -> int:
    """A fixed id per subdeck name (Anki matches decks by name; the id only has to be stable)."""
    if not subdeck:
        return deck.config.deck_id
    digest = hashlib.sha256(f"{deck.config.deck_id}:{subdeck}".encode()).digest()
    return (1 << 50) + int.from_bytes(digest[:6], "big")


def note_models(deck: Deck, templates: dict[str, NoteTypeTemplates]) -> dict[str, genanki.Model]:
    """The note type of every kind deck.yaml gives an id (load makes sure each kind in use has
    one), with the templates and CSS render.note_type_templates made."""
    import genanki  # only when the package is written: a no-op build takes it from the cache

    models = {}
    for kind in KINDS.values():
        if kind.name not in deck.config.note_type_ids:
            continue
        rendered = templates[kind.name]
        models[kind.name] = genanki.Model(
            deck.config.note_type_ids[kind.name],
            kind.note_type_name,
            fields=[{"name": name} for name in kind.note_fields],
            templates=[
                {"name": name, "qfmt": front, "afmt": back}
                for name, front, back in rendered.templates
            ],
            css=rendered.css,
            sort_field_index=0,
            model_type=genanki.Model.CLOZE if kind.is_cloze else genanki.Model.FRONT_BACK,
        )
    return models


# What the bytes depend on besides package_key's inputs: this code and these libraries (with
# SQLite's and zlib's versions, in the key). A cache of packages is fingerprinted by them.
PACKAGE_SOURCES = ("package.py", "identity.py", "kinds.py", "model.py")
PACKAGE_LIBRARIES = ("genanki",)


def package_key(
    deck: Deck,
    notes: list[RenderedNote],
    lock: Lock,
    media: list[Path],
    description: str,
    note_types: dict[str, NoteTypeTemplates],
) -> str:
    """A hash of everything package_bytes makes the .apkg of, media bytes included: the same key,
    the same bytes (for the same PACKAGE_SOURCES and PACKAGE_LIBRARIES)."""
    digest = hashlib.blake2b(digest_size=20)
    head = [
        sqlite3.sqlite_version,
        zlib.ZLIB_RUNTIME_VERSION,
        deck.config.deck_id,
        deck.config.title,
        description,
        sorted(deck.config.note_type_ids.items()),
        sorted(
            (kind, templates.css, templates.templates) for kind, templates in note_types.items()
        ),
    ]
    digest.update(json.dumps(head, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    guids = [guid_for_card(note.card) for note in notes]
    # content_hash covers the kind, fields, tags and subdeck; one update for all notes is 3x
    # faster than one each
    digest.update(
        "".join(
            f"\x1e{guid}\x1f{lock.notes[guid].modified}\x1f{note.content_hash}"
            for guid, note in zip(guids, notes, strict=True)
        ).encode("utf-8", "surrogatepass")
    )
    for path in sorted(media, key=lambda p: p.name):
        digest.update(
            f"\x1d{path.name}\x1f".encode("utf-8", "surrogatepass")
            + hashlib.blake2b(path.read_bytes(), digest_size=20).digest()
        )
    return digest.hexdigest()


def package_bytes(
    deck: Deck,
    notes: list[RenderedNote],
    lock: Lock,
    media: list[Path],
    description: str,
    note_types: dict[str, NoteTypeTemplates],
) -> bytes:
    """The whole .apkg as bytes: `description` is the deck's overview HTML
    (render.render_description), `note_types` render.note_type_templates(). Note and card ids
    start from the newest note time, so they too depend only on the sources and the lock."""
    import genanki  # only when a package is written: a no-op build takes the last one's bytes

    media = sorted(media, key=lambda p: p.name)
    models = note_models(deck, note_types)
    decks: dict[str, genanki.Deck] = {
        "": genanki.Deck(deck.config.deck_id, deck.config.title, description=description)
    }
    notes_by_deck: dict[str, list[tuple[RenderedNote, str, int]]] = {"": []}
    for note in notes:
        if note.subdeck not in decks:
            decks[note.subdeck] = genanki.Deck(
                subdeck_id(deck, note.subdeck), subdeck_name(deck, note.subdeck)
            )
            notes_by_deck[note.subdeck] = []
        guid = guid_for_card(note.card)
        notes_by_deck[note.subdeck].append((note, guid, lock.notes[guid].modified))
    newest = max(
        (modified for stamped in notes_by_deck.values() for _, _, modified in stamped),
        default=ZIP_EPOCH_MIN,
    )
    entries = [
        ("collection.anki2", _collection(decks, notes_by_deck, models, newest)),
        # as genanki's write_to_file: the media map, then each file under its index
        (
            "media",
            json.dumps({index: path.name for index, path in enumerate(media)}).encode("utf-8"),
        ),
        *((str(index), path.read_bytes()) for index, path in enumerate(media)),
    ]
    return _deterministic_zip(entries, newest)


def _collection(
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


def _deterministic_zip(entries: list[tuple[str, bytes]], epoch: int) -> bytes:
    """Fixed entry dates (the newest note time), permissions, order and compression."""
    date_time = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, data, compresslevel=9)
    return out.getvalue()
