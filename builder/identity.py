"""Note identity and modification times: what lets a rebuild update learners' notes in place.

Anki matches notes by GUID only and, by default, updates a note only when the package's note is
*newer* than the collection's (anki-facts.md). So:
- a card's GUID derives from its id alone (from its first alias when it was renamed);
- each note carries the time its content last changed, remembered in cards/mathdeck.lock.json
  (commit it): an unchanged card keeps its old time, a changed or new card gets the build time,
  always later than its previous time. The build time is SOURCE_DATE_EPOCH when set, else now.
Same sources + same lock + same SOURCE_DATE_EPOCH → same times → byte-identical package.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Final

from .atomic import write_atomically
from .lockfile import REPAIR_HINT, parse_lock, time_problem
from .model import Card
from .problems import Location, Problem, SourceError
from .records import Record
from .render import RenderedNote

LOCK_FILE = "mathdeck.lock.json"
LOCK_FORMAT = 1


def guid_for_card(card: Card) -> str:
    guid = KNOWN_GUIDS.get(original_id(card))
    return guid if guid is not None else _guid_for_id(original_id(card))


def original_id(card: Card) -> str:
    """The id the card's GUID derives from: its first alias when it was renamed."""
    return card.aliases[0] if card.aliases else card.id


def guids_for_notes(notes: list[RenderedNote]) -> list[str]:
    """guid_for_card of each note's card: made once a build, for the lock, the package's key and
    its rows."""
    return [guid_for_card(note.card) for note in notes]


# original id -> GUID, filled as GUIDs are made and from the build's cache of parsed cards
# (parsed_cards.py keeps each card's GUID: 20,000 SHA-256s in base 91 cost 0.07 s of an edit)
KNOWN_GUIDS: dict[str, str] = {}


def _guid_for_id(original_id: str) -> str:
    """genanki.guid_for(original_id), several times faster (tests/test_package.py holds them
    equal): the first 8 bytes of the SHA-256 in Anki's base 91, two digits at a time (a 64-bit
    number has at most ten), the leading zeros ("a") dropped as genanki never writes them."""
    number = int.from_bytes(hashlib.sha256(original_id.encode("utf-8")).digest()[:8], "big")
    number, fifth = divmod(number, _PAIR)
    number, fourth = divmod(number, _PAIR)
    number, third = divmod(number, _PAIR)
    first, second = divmod(number, _PAIR)
    pairs = _BASE91_PAIRS
    guid = (pairs[first] + pairs[second] + pairs[third] + pairs[fourth] + pairs[fifth]).lstrip(
        _BASE91[0]
    )
    KNOWN_GUIDS[original_id] = guid
    return guid


# genanki.util.BASE91_TABLE (Anki's), written out so that finding a GUID does not import genanki
# (a no-op build never packages); tests/test_package.py holds the GUIDs equal to genanki's. The
# letters and digits are string.ascii_letters and string.digits, whose module compiles a regex
# when imported.
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
_PAIR = len(_BASE91) ** 2
_BASE91_PAIRS = [high + low for high in _BASE91 for low in _BASE91]


def build_time() -> int:
    """SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else the wall clock."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return int(time.time())
    problem = (
        None
        if re.fullmatch(r"[0-9]{1,12}", value)
        else "must be whole seconds since 1970 (digits only)"
    )
    problem = problem or time_problem(int(value))
    if problem:
        raise SourceError(
            [
                Problem(
                    Location(Path("SOURCE_DATE_EPOCH")),
                    f"'{value[:40]}' {problem}: unset it or set it to e.g. "
                    "`git log -1 --format=%ct` (the time of the last commit)",
                )
            ]
        )
    return int(value)


class LockEntry(Record):
    # no __slots__: the lock's own JSON dict becomes an entry's __dict__ (_lock_entry)
    field_names = ("id", "content_hash", "modified")
    id: Final[str]
    content_hash: Final[str]
    modified: Final[int]

    def __init__(self, id: str, content_hash: str, modified: int) -> None:
        self.id = id
        self.content_hash = content_hash
        self.modified = modified


class ReleasedCard(Record):
    __slots__ = field_names = ("title", "content_hash", "retired")
    title: Final[str]
    content_hash: Final[str]
    retired: Final[bool]

    def __init__(self, title: str, content_hash: str, retired: bool = False) -> None:
        self.title = title
        self.content_hash = content_hash
        self.retired = retired


class Release(Record):
    """What the last `mathdeck release` shipped: the base for the changelog and for refusing
    note-type changes and silently deleted cards."""

    __slots__ = field_names = ("version", "cards", "note_types", "changelog")
    version: Final[str]
    cards: Final[dict[str, ReleasedCard]]  # by card id
    # kind -> {"fields": [...], "templates": [...]}
    note_types: Final[dict[str, dict[str, list[str]]]]
    changelog: Final[str]  # the Markdown entry written for this release

    def __init__(
        self,
        version: str,
        cards: dict[str, ReleasedCard],
        note_types: dict[str, dict[str, list[str]]],
        changelog: str = "",
    ) -> None:
        self.version = version
        self.cards = cards
        self.note_types = note_types
        self.changelog = changelog


class Lock(Record):
    __slots__ = field_names = ("notes", "release")
    notes: dict[str, LockEntry]  # by GUID
    release: Release | None

    def __init__(
        self, notes: dict[str, LockEntry] | None = None, release: Release | None = None
    ) -> None:
        self.notes = {} if notes is None else notes
        self.release = release


def read_lock(cards_dir: Path) -> Lock:
    """The lock file, checked against its schema (builder/lockfile.py); SourceError at its line
    when git left a conflict in it, it is not JSON, or a value has the wrong type or an insane
    time."""
    path = cards_dir / LOCK_FILE
    require_regular_lock(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise SourceError(
            [Problem(Location(path), f"cannot read the lock file ({reason}); {REPAIR_HINT}")]
        ) from None
    return lock_from_data(parse_lock(path, text))


def require_regular_lock(path: Path) -> None:
    """SourceError unless the lock file is absent or a regular file: a FIFO would block its
    read forever."""
    if path.exists() and not path.is_file():
        message = "not a regular file (a folder, FIFO or device is never read): remove it"
        raise SourceError([Problem(Location(path), message)])


def lock_from_data(data: dict) -> Lock:
    """A Lock from JSON already checked by lockfile.parse_lock (or made by repair_lock)."""
    notes = {guid: _lock_entry(entry) for guid, entry in data.get("notes", {}).items()}
    release = data.get("release")
    if release:
        release = Release(
            version=release["version"],
            cards={card_id: ReleasedCard(**card) for card_id, card in release["cards"].items()},
            note_types=release["note_types"],
            changelog=release.get("changelog", ""),
        )
    return Lock(notes, release)


_ENTRY_KEYS = {"id", "content_hash", "modified"}
_new = object.__new__
_set_attribute = object.__setattr__


def _lock_entry(values: dict) -> LockEntry:
    """LockEntry(**values), where the JSON's own dict becomes the entry's attributes: the frozen
    __init__'s three object.__setattr__ calls took 0.05 s for a 20,000-note lock, this 0.01 s."""
    if values.keys() != _ENTRY_KEYS:
        return LockEntry(**values)  # which says what is wrong
    entry = _new(LockEntry)
    _set_attribute(entry, "__dict__", values)
    return entry


def lock_text(lock: Lock) -> str:
    data: dict = {"format": LOCK_FORMAT}
    if lock.release:
        data["release"] = {
            "version": lock.release.version,
            "changelog": lock.release.changelog,
            "note_types": lock.release.note_types,
            "cards": {
                card_id: card.as_dict() for card_id, card in sorted(lock.release.cards.items())
            },
        }
    if not lock.notes:
        data["notes"] = {}
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    # json.dumps(indent=1) would do, but in pure Python (the C encoder does no indent): the note
    # entries, thousands of them, are written here in exactly its layout.
    data["notes"] = None
    head = json.dumps(data, indent=1, ensure_ascii=False)
    assert head.endswith(' "notes": null\n}')
    notes = sorted(lock.notes.items(), key=lambda item: item[1].id)
    # GUIDs (base 91 without '"' or '\\'), ids (slugs) and hashes (hex) need no escape: one
    # search over all of them decides, instead of three a note
    everything = "".join(guid + entry.id + entry.content_hash for guid, entry in notes)
    quoted = _json_string if _JSON_ESCAPED.search(everything) else _quoted
    entries = ",\n".join(
        f"  {quoted(guid)}: {{\n"
        f'   "id": {quoted(entry.id)},\n'
        f'   "content_hash": {quoted(entry.content_hash)},\n'
        f'   "modified": {int(entry.modified)}\n  }}'  # a checked int: as json.dumps writes it
        for guid, entry in notes
    )
    return head[: -len("null\n}")] + "{\n" + entries + "\n }\n}\n"


_JSON_ESCAPED = re.compile(r'[\x00-\x1f"\\]')


def _quoted(text: str) -> str:
    return f'"{text}"'


def _json_string(text: str) -> str:
    """json.dumps(text, ensure_ascii=False), fast for the common text that needs no escape."""
    return json.dumps(text, ensure_ascii=False) if _JSON_ESCAPED.search(text) else f'"{text}"'


def write_lock(
    cards_dir: Path, lock: Lock, text: str | None = None, staged: Path | None = None
) -> None:
    """Write the lock file if its text changed; `text` is lock_text(lock) when already made,
    `staged` atomic.stage's copy of it."""
    text = text if text is not None else lock_text(lock)
    path = cards_dir / LOCK_FILE
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        write_atomically(path, text.encode("utf-8"), staged=staged)


def stamp_notes(
    notes: list[RenderedNote], previous: Lock, now: int, guids: list[str] | None = None
) -> Lock:
    """The lock after this build: every current note with the time its content last changed
    (`guids`: guids_for_notes(notes), when the build has them).

    Entries of cards no longer built stay, so their GUIDs keep their history.
    """
    stamped = dict(previous.notes)
    before_notes = previous.notes
    for note, guid in zip(notes, guids or guids_for_notes(notes), strict=True):
        digest = note.content_hash
        before = before_notes.get(guid)
        if before is not None and before.content_hash == digest:
            if before.id != note.card.id:  # renamed, an alias keeping the GUID
                stamped[guid] = LockEntry(note.card.id, digest, before.modified)
            # else the entry as it was (most notes: no new entry to make)
        else:
            modified = max(now, before.modified + 1) if before else now
            stamped[guid] = LockEntry(note.card.id, digest, modified)
    return Lock(stamped, previous.release)
