"""package: rendered notes + media → .apkg bytes, deterministic to the byte.

genanki stamps notes with one wall-clock time and writes zip entries with the current date and
file times (anki-facts.md, "Reproducible packages"). Here every note carries its own modification
time and the zip is written with fixed dates, permissions, order and compression. The SQLite
collection inside, written as genanki writes it, is package_collection.py's.

package_key hashes every input of the bytes (notes with their times, deck, description, note
types, media bytes, SQLite's and zlib's versions): a rebuild whose key is the last build's takes
that build's bytes instead of writing 20,000 rows and compressing 40 MB again (build.py keeps them).
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import time
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from .identity import Lock, guid_for_card
from .model import KINDS, Deck
from .package_collection import collection_bytes

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
PACKAGE_SOURCES = (
    "package.py",
    "package_collection.py",
    "identity.py",
    "kinds.py",
    "model.py",
)
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
        ("collection.anki2", collection_bytes(decks, notes_by_deck, models, newest)),
        # as genanki's write_to_file: the media map, then each file under its index
        (
            "media",
            json.dumps({index: path.name for index, path in enumerate(media)}).encode("utf-8"),
        ),
        *((str(index), path.read_bytes()) for index, path in enumerate(media)),
    ]
    return _deterministic_zip(entries, newest)


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
