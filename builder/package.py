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

import functools
import hashlib
import io
import itertools
import json
import re
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .genanki_layout import GenankiLayout, genanki_layout, note_models
from .identity import Lock, guid_for_card
from .model import KINDS, Deck

if TYPE_CHECKING:  # package only packs what render made
    import genanki

    from .render import NoteTypeTemplates, RenderedNote

ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest date a zip entry can hold
# zlib levels of the package's zip. A release's is fixed forever (releases/ is rebuilt byte for
# byte). A development build's: at 20,000 notes level 1 compresses the 37 MB collection in 0.16 s
# of CPU instead of 0.81 s, into a file 20% bigger (4.4 MB instead of 3.7 MB).
RELEASE_ZIP_LEVEL = 9
DEV_ZIP_LEVEL = 1


def subdeck_name(deck: Deck, subdeck: str) -> str:
    return f"{deck.config.title}::{subdeck}" if subdeck else deck.config.title


def subdeck_id(deck: Deck, subdeck: str) -> int:
    """A fixed id per subdeck name (Anki matches decks by name; the id only has to be stable)."""
    if not subdeck:
        return deck.config.deck_id
    digest = hashlib.sha256(f"{deck.config.deck_id}:{subdeck}".encode()).digest()
    return (1 << 50) + int.from_bytes(digest[:6], "big")


# What the bytes depend on besides package_key's inputs: this code and these libraries (with
# SQLite's and zlib's versions, in the key). A cache of packages is fingerprinted by them.
PACKAGE_SOURCES = ("package.py", "genanki_layout.py", "identity.py", "kinds.py", "model.py")
PACKAGE_LIBRARIES = ("genanki",)


def package_key(
    deck: Deck,
    notes: list[RenderedNote],
    lock: Lock,
    media: list[Path],
    description: str,
    note_types: dict[str, NoteTypeTemplates],
    *,
    level: int = RELEASE_ZIP_LEVEL,
) -> str:
    """A hash of everything package_bytes makes the .apkg of, media bytes included: the same key,
    the same bytes (for the same PACKAGE_SOURCES and PACKAGE_LIBRARIES)."""
    digest = hashlib.blake2b(digest_size=20)
    head = [
        sqlite3.sqlite_version,
        zlib.ZLIB_RUNTIME_VERSION,
        level,
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
    *,
    layout: GenankiLayout | None = None,
    level: int = RELEASE_ZIP_LEVEL,
) -> bytes:
    """The whole .apkg as bytes: `description` is the deck's overview HTML
    (render.render_description), `note_types` render.note_type_templates(), `layout`
    genanki_layout(deck, note_types) when the build has it, `level` zlib's for the zip. Note and
    card ids start from the newest note time, so they too depend only on the sources and the
    lock."""
    layout = layout or genanki_layout(deck, note_types)
    media = sorted(media, key=lambda p: p.name)
    decks: dict[str, tuple[int, str, str]] = {  # subdeck -> its id, name and description
        "": (deck.config.deck_id, deck.config.title, description)
    }
    notes_by_deck: dict[str, list[tuple[RenderedNote, str, int]]] = {"": []}
    for note in notes:
        if note.subdeck not in decks:
            decks[note.subdeck] = (
                subdeck_id(deck, note.subdeck),
                subdeck_name(deck, note.subdeck),
                "",
            )
            notes_by_deck[note.subdeck] = []
        guid = guid_for_card(note.card)
        notes_by_deck[note.subdeck].append((note, guid, lock.notes[guid].modified))
    newest = max(
        (modified for stamped in notes_by_deck.values() for _, _, modified in stamped),
        default=ZIP_EPOCH_MIN,
    )
    writer = _NoteWriter(layout, functools.cache(partial(note_models, deck, note_types)))
    entries = [
        ("collection.anki2", _collection(layout, decks, notes_by_deck, writer, newest)),
        # as genanki's write_to_file: the media map, then each file under its index
        (
            "media",
            json.dumps({index: path.name for index, path in enumerate(media)}).encode("utf-8"),
        ),
        *((str(index), path.read_bytes()) for index, path in enumerate(media)),
    ]
    return _deterministic_zip(entries, newest, level)


def _collection(
    layout: GenankiLayout,
    decks: dict[str, tuple[int, str, str]],
    notes_by_deck: dict,
    writer: _NoteWriter,
    timestamp: int,
) -> bytes:
    """The SQLite collection genanki's Package.write_to_file(timestamp=...) writes, byte for
    byte."""
    id_gen = itertools.count(int(timestamp * 1000))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(path)
        # A scratch file, read once complete: no journal, no waiting for the disk (the bytes are
        # the same; the .apkg itself is written atomically).
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA journal_mode = OFF")
        cursor = connection.cursor()
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
            _write_deck_json(
                cursor,
                deck_id,
                deck_json,
                used,
                layout,
                decks_json,
                models_json,
                timestamp,
                encoder,
            )
            writer.write_notes(cursor, deck_id, stamped, id_gen)
        connection.commit()
        connection.close()
        return path.read_bytes()


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


class _NoteWriter:
    """genanki's Note.write_to_db and Card.write_to_db, row for row, for notes of our own note
    types, from the layout's note-type JSON; genanki itself (`models()`, imported on first use)
    only for what it computes per note: the cards of a cloze note, and its warning about a
    field's invalid HTML."""

    def __init__(self, layout: GenankiLayout, models: Callable[[], dict[str, genanki.Model]]):
        self.note_types = {
            kind: (int(json["id"]), len(json["flds"]), json["sortf"], json["req"], json["type"])
            for kind, json in layout.note_types.items()
        }
        self.invalid_html = re.compile(layout.invalid_html)
        self.models = models

    def write_notes(
        self, cursor, deck_id: int, stamped: list[tuple[RenderedNote, str, int]], id_gen
    ) -> None:
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
            cursor.execute(
                "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);",
                (
                    note_id,
                    guid,
                    model_id,
                    modified,
                    -1,
                    " " + " ".join(note.tags) + " ",
                    "\x1f".join(fields),
                    fields[sort_field],
                    0,
                    0,
                    "",
                ),
            )
            for card_ord in self._card_ords(note, req, model_type):
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

    def _card_ords(self, note: RenderedNote, req: list, model_type: int) -> list[int]:
        """The cards genanki makes for a note (Note.cards): by the templates' required fields, or
        one per cloze number."""
        if model_type == CLOZE:
            return [card.ord for card in self._genanki_note(note).cards]
        fields = note.fields
        return [
            card_ord
            for card_ord, any_or_all, required in req
            if (any if any_or_all == "any" else all)(fields[i] for i in required)
        ]

    def _genanki_note(self, note: RenderedNote) -> genanki.Note:
        import genanki

        return genanki.Note(model=self.models()[note.card.kind], fields=list(note.fields))


CLOZE = 1  # genanki.Model.CLOZE, the JSON's "type" of a cloze note type


def _deterministic_zip(entries: list[tuple[str, bytes]], epoch: int, level: int) -> bytes:
    """Fixed entry dates (the newest note time), permissions, order and compression."""
    date_time = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, data, compresslevel=level)
    return out.getvalue()
