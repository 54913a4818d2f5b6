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

import functools
import hashlib
import json
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .genanki_layout import GenankiLayout, genanki_layout, note_models
from .identity import Lock, guids_for_notes
from .model import Deck
from .package_collection import written_collection
from .package_zip import ZIP_EPOCH_MIN, deflate, deterministic_zip

if TYPE_CHECKING:  # package only packs what render made
    import mmap

    from .render import NoteTypeTemplates, RenderedNote

# zlib levels of the package's zip. A release's is fixed forever (releases/ is rebuilt byte for
# byte), one stream an entry. A development build's: at 20,000 notes level 1 compresses the 37 MB
# collection in 0.16 s of CPU instead of 0.81 s, into a file 20% bigger (4.4 MB instead of
# 3.7 MB), in 1 MiB chunks on every core (package_zip.py).
RELEASE_ZIP_LEVEL = 9
DEV_ZIP_LEVEL = 1
# A development build of this many notes or more writes its collection in bulk
# (package_collection._write_in_bulk: genanki's rows in a layout quicker to write); smaller ones,
# the flagship's among them, and every release keep genanki's layout.
BULK_FROM_NOTES = 1000


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
PACKAGE_SOURCES = (
    "package.py",
    "package_collection.py",
    "package_zip.py",
    "genanki_layout.py",
    "identity.py",
    "kinds.py",
    "card_kind.py",
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
    *,
    level: int = RELEASE_ZIP_LEVEL,
    guids: list[str] | None = None,
) -> str:
    """A hash of everything package_bytes makes the .apkg of, media bytes included: the same key,
    the same bytes (for the same PACKAGE_SOURCES and PACKAGE_LIBRARIES). `guids`:
    identity.guids_for_notes(notes), when the build has them."""
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
    stamps = lock.notes
    # content_hash covers the kind, fields, tags and subdeck; one update for all notes is 3x
    # faster than one each
    digest.update(
        "".join(
            f"\x1e{guid}\x1f{stamps[guid].modified}\x1f{note.content_hash}"
            for guid, note in zip(guids or guids_for_notes(notes), notes, strict=True)
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
    guids: list[str] | None = None,
    rows_written: Callable[[], object] = lambda: None,
) -> bytes:
    """The whole .apkg as bytes: `description` is the deck's overview HTML
    (render.render_description), `note_types` render.note_type_templates(), `layout`
    genanki_layout(deck, note_types) when the build has it, `level` zlib's for the zip, `guids`
    identity.guids_for_notes(notes) when the build has them, `rows_written()` called once the
    collection's rows are in (package_collection.written_collection). Note and
    card ids start from the newest note time, so they too depend only on the sources and the
    lock."""
    layout = layout or genanki_layout(deck, note_types)
    media = sorted(media, key=lambda p: p.name)
    decks: dict[str, tuple[int, str, str]] = {  # subdeck -> its id, name and description
        "": (deck.config.deck_id, deck.config.title, description)
    }
    notes_by_deck: dict[str, list[tuple[RenderedNote, str, int]]] = {"": []}
    stamps = lock.notes
    for note, guid in zip(notes, guids or guids_for_notes(notes), strict=True):
        if note.subdeck not in decks:
            decks[note.subdeck] = (
                subdeck_id(deck, note.subdeck),
                subdeck_name(deck, note.subdeck),
                "",
            )
            notes_by_deck[note.subdeck] = []
        notes_by_deck[note.subdeck].append((note, guid, stamps[guid].modified))
    newest = max(
        (modified for stamped in notes_by_deck.values() for _, _, modified in stamped),
        default=ZIP_EPOCH_MIN,
    )
    models = functools.cache(functools.partial(note_models, deck, note_types))
    chunked = level != RELEASE_ZIP_LEVEL
    bulk = chunked and len(notes) >= BULK_FROM_NOTES
    media_entries = [
        # as genanki's write_to_file: the media map, then each file under its index
        (
            "media",
            json.dumps({index: path.name for index, path in enumerate(media)}).encode("utf-8"),
        ),
        *((str(index), path.read_bytes()) for index, path in enumerate(media)),
    ]
    with written_collection(
        layout, decks, notes_by_deck, models, newest, bulk=bulk, rows_written=rows_written
    ) as collection:
        entries: list[tuple[str, bytes | mmap.mmap]] = [
            ("collection.anki2", collection),
            *media_entries,
        ]
        return deterministic_zip(
            [(name, data, deflate(data, level, chunked)) for name, data in entries], newest
        )
