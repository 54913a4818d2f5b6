"""The notes of an Anki collection as `pull` reads them: from an exported .apkg or .colpkg, from a
profile's collection.anki2 (never written: a copy is opened), or from a running Anki through
AnkiConnect. Only what pull needs: note type name, fields, modification time, suspension.

Packages are read by importing them into a throwaway collection with the official `anki`
library, so every format its exporter writes (the zstd-compressed collection.anki21b of current
Anki, the legacy collection.anki2/anki21) is read by the code that wrote it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AnkiNote:
    note_type: str
    fields: dict[str, str]  # by field name, as Anki stores them (HTML)
    modified: int | None  # seconds since 1970; None when the source does not say (AnkiConnect)
    suspended: bool  # every card of the note is suspended


class UnreadableCollection(Exception):
    """The file is not a collection or package Anki wrote, or is open in Anki (the message says)."""


def read_notes(path: Path) -> list[AnkiNote]:
    """Every note of an .apkg, .colpkg or collection file (.anki2, .anki21)."""
    if not path.exists():
        raise UnreadableCollection(f"{path}: no such file")
    if not path.is_file():
        raise UnreadableCollection(
            f"{path}: not a file (a folder, FIFO or device is never read as a collection)"
        )
    suffix = path.suffix.lower()
    if suffix not in (".apkg", ".colpkg", ".anki2", ".anki21"):
        raise UnreadableCollection(
            f"{path}: not an Anki export (.apkg, .colpkg) or collection (collection.anki2)"
        )
    if suffix in (".anki2", ".anki21"):
        _refuse_open_collection(path)
    with _scratch_collection(path, suffix) as col:
        return [_note(col, col.get_note(note_id)) for note_id in col.find_notes("")]


def _refuse_open_collection(path: Path) -> None:
    """Anki keeps its collection in SQLite's WAL mode while it is open and folds the write-ahead
    log back in on closing: a `-wal` file beside it means Anki holds it (or crashed holding it),
    and the collection file alone is not what Anki shows."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        raise UnreadableCollection(
            f"{path} is open in Anki ({wal.name} exists): close Anki (or switch profile) and pull "
            "again, or pull a file exported from Anki (File → Export…, .apkg) or from the running "
            "Anki with --ankiconnect"
        )


@contextmanager
def _scratch_collection(path: Path, suffix: str) -> Iterator:
    from anki.collection import Collection

    with tempfile.TemporaryDirectory(prefix="mathdeck-pull-") as scratch:
        collection = Path(scratch) / "collection.anki2"
        try:
            if suffix in (".anki2", ".anki21"):
                shutil.copyfile(path, collection)  # the learner's file is only ever read
            elif suffix == ".colpkg":
                _restore_colpkg(path, collection)
            col = Collection(str(collection))
        except Exception as error:  # the anki library raises its own DBError, BackendError, ...
            raise UnreadableCollection(
                f"{path}: not a collection Anki can open ({_reason(error)})"
            ) from None
        try:
            if suffix == ".apkg":
                _import_apkg(col, path)
            yield col
        finally:
            col.close()


def _restore_colpkg(path: Path, collection: Path) -> None:
    from anki._backend import RustBackend

    media = collection.parent / "collection.media"
    media.mkdir()
    RustBackend().import_collection_package(
        col_path=str(collection),
        backup_path=str(path),
        media_folder=str(media),
        media_db=str(collection.parent / "collection.media.db2"),
    )


def _import_apkg(col, path: Path) -> None:
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    options = ImportAnkiPackageOptions(with_scheduling=True, merge_notetypes=True)
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options))
    except Exception as error:
        raise UnreadableCollection(
            f"{path}: not a package Anki can import ({_reason(error)})"
        ) from None


def _reason(error: Exception) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


def _note(col, note) -> AnkiNote:
    from anki.consts import QUEUE_TYPE_SUSPENDED

    cards = note.cards()
    return AnkiNote(
        note_type=note.note_type()["name"],
        fields=dict(note.items()),
        modified=note.mod,
        suspended=bool(cards) and all(card.queue == QUEUE_TYPE_SUSPENDED for card in cards),
    )


def read_ankiconnect(client, note_types: list[str]) -> list[AnkiNote]:
    """The notes of these note types in a running Anki (`client`: an ankiconnect.AnkiConnect).
    AnkiConnect does not report a note's modification time: `modified` is None."""
    client.require_version()  # an older add-on answers these actions in other shapes
    query = " OR ".join(f'"note:{name}"' for name in note_types)
    note_ids = client.call("findNotes", query=query) if note_types else []
    infos = client.call("notesInfo", notes=note_ids) if note_ids else []
    card_ids = [card for info in infos for card in info.get("cards", [])]
    suspended = (
        dict(zip(card_ids, client.call("areSuspended", cards=card_ids), strict=True))
        if card_ids
        else {}
    )
    return [
        AnkiNote(
            note_type=info["modelName"],
            fields={
                name: value["value"]
                for name, value in sorted(info["fields"].items(), key=lambda item: item[1]["order"])
            },
            modified=None,
            suspended=bool(info.get("cards"))
            and all(suspended.get(card) for card in info["cards"]),
        )
        for info in infos
        if info
    ]
