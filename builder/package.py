"""package: rendered notes + media → .apkg bytes, deterministic to the byte.

genanki stamps notes with one wall-clock time and writes zip entries with the current date and
file times (anki-facts.md, "Reproducible packages"). Here every note carries its own modification
time and the zip is rewritten with fixed dates, permissions, order and compression.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
import zipfile
from pathlib import Path

import genanki

from .identity import Lock, guid_for_card
from .model import KINDS, Deck
from .render import RenderedNote, render_description, render_note_type

ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest date a zip entry can hold


class StampedNote(genanki.Note):
    """A genanki note that carries its own modification time instead of the package's."""

    def __init__(self, modified: int, **kwargs):
        super().__init__(**kwargs)
        self.modified = modified

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):
        super().write_to_db(cursor, self.modified, deck_id, id_gen)


def subdeck_name(deck: Deck, subdeck: str) -> str:
    return f"{deck.config.title}::{subdeck}" if subdeck else deck.config.title


def subdeck_id(deck: Deck, subdeck: str) -> int:
    """A fixed id per subdeck name (Anki matches decks by name; the id only has to be stable)."""
    if not subdeck:
        return deck.config.deck_id
    digest = hashlib.sha256(f"{deck.config.deck_id}:{subdeck}".encode("utf-8")).digest()
    return (1 << 50) + int.from_bytes(digest[:6], "big")


def note_models(deck: Deck) -> dict[str, genanki.Model]:
    models = {}
    for kind in KINDS.values():
        rendered = render_note_type(kind.name)
        models[kind.name] = genanki.Model(
            deck.config.note_type_ids.for_kind(kind.name),
            f"mathdeck {kind.name}",
            fields=[{"name": name} for name in kind.note_fields],
            templates=[{"name": name, "qfmt": front, "afmt": back} for name, front, back in rendered.templates],
            css=rendered.css,
            sort_field_index=0,
            model_type=genanki.Model.CLOZE if kind.is_cloze else genanki.Model.FRONT_BACK,
        )
    return models


def package_bytes(deck: Deck, notes: list[RenderedNote], lock: Lock, media: list[Path], news: str = "") -> bytes:
    """The whole .apkg as bytes. Note and card ids start from the newest note time, so they too
    depend only on the sources and the lock."""
    models = note_models(deck)
    decks: dict[str, genanki.Deck] = {
        "": genanki.Deck(deck.config.deck_id, deck.config.title, description=render_description(deck, news))
    }
    newest = max((lock.notes[guid_for_card(n.card)].modified for n in notes), default=ZIP_EPOCH_MIN)
    for note in notes:
        card = note.card
        if note.subdeck not in decks:
            decks[note.subdeck] = genanki.Deck(subdeck_id(deck, note.subdeck), subdeck_name(deck, note.subdeck))
        guid = guid_for_card(card)
        decks[note.subdeck].add_note(
            StampedNote(
                lock.notes[guid].modified,
                model=models[card.kind],
                fields=list(note.fields),
                tags=list(note.tags),
                guid=guid,
            )
        )
    package = genanki.Package(list(decks.values()), media_files=[str(p) for p in sorted(media, key=lambda p: p.name)])
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.apkg"
        package.write_to_file(str(raw), timestamp=newest)
        return _normalised_zip(raw, newest)


def _normalised_zip(raw: Path, epoch: int) -> bytes:
    date_time = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            target.writestr(info, source.read(name), compresslevel=9)
    return out.getvalue()
