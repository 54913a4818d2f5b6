"""The lock file's repair (`mathdeck lock --repair`): a damaged or conflicted lock, merged.

Both sides of a git merge conflict are read (each card keeps its later valid time, the release is
the newest valid one); what cannot be read as JSON is salvaged entry by entry in the lock's own
layout; what cannot be trusted is dropped, and a dropped note time can be read back from the last
.apkg built (`restore_times`) when the note did not change since. The schema it repairs against is
lockfile.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .lockfile import conflict_line, note_problems, release_problems, time_problem


@dataclass
class Repair:
    data: dict
    kept: int = 0
    dropped: list[str] = field(default_factory=list)  # why each dropped piece went
    sides: int = 1
    restored: int = 0  # note times read back from the last package built (restore_times)
    package: Path | None = None  # that package


@dataclass(frozen=True)
class CurrentNote:
    """A note as the sources make it now, as restore_times compares it with a built package."""

    guid: str
    card_id: str
    content_hash: str
    fields: str  # joined by \x1f, as a collection stores them
    tags: str  # joined by spaces


def _said(problems: list[tuple[tuple[str, ...], str]]) -> str:
    """`'modified' must be a whole number, not text; 'id' is missing`: each with its key."""
    return "; ".join(
        f"'{'.'.join(key)}' {message}" if key else message for key, message in problems
    )


def repair_lock(text: str) -> Repair:
    """Both sides of any merge conflict, merged: each note keeps its later valid time, the
    release is the newest valid one; entries that cannot be read or trusted are dropped."""
    sides = conflict_sides(text)
    notes: dict[str, dict] = {}
    releases: list[dict] = []
    repair = Repair({}, sides=len(sides))
    for side in sides:
        data = _salvage(side, repair)
        for guid, entry in data.get("notes", {}).items():
            if note_problems(entry):
                repair.dropped.append(f"note {guid}: {_said(note_problems(entry))}")
            elif guid not in notes or entry["modified"] > notes[guid]["modified"]:
                notes[guid] = entry
        release = data.get("release")
        if release is not None:
            if release_problems(release):
                repair.dropped.append(f"a release record: {_said(release_problems(release))}")
            else:
                releases.append(release)
    repair.data = {"format": 1, "notes": notes}
    if releases:
        repair.data["release"] = max(
            releases, key=lambda release: tuple(int(n) for n in release["version"].split("."))
        )
    repair.kept = len(notes)
    return repair


def conflict_sides(text: str) -> list[str]:
    """The file as each side of a git merge conflict had it (the text itself when none)."""
    if not conflict_line(text):
        return [text]
    ours, theirs, state = [], [], "both"
    for line in text.splitlines(keepends=True):
        if line.startswith("<<<<<<<"):
            state = "ours"
        elif line.startswith("=======") and state in ("ours", "base"):
            state = "theirs"
        elif line.startswith("|||||||") and state == "ours":
            state = "base"  # diff3 style: the common ancestor is neither side
        elif line.startswith(">>>>>>>") and state == "theirs":
            state = "both"
        elif state != "base":
            if state in ("both", "ours"):
                ours.append(line)
            if state in ("both", "theirs"):
                theirs.append(line)
    return ["".join(ours), "".join(theirs)]


_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_NOTE_ENTRY = re.compile(
    rf'"((?:[^"\\]|\\.)+)": \{{\s*"id": ({_JSON_STRING}),\s*"content_hash": ({_JSON_STRING}),'
    r'\s*"modified": (-?\d+)\s*\}'
)


def _salvage(text: str, repair: Repair) -> dict:
    """The JSON of one side, or what can be read of it: note entries in the lock's own layout."""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            if not isinstance(data.get("notes", {}), dict):
                repair.dropped.append("'notes' was not an object")
                data["notes"] = {}
            return data
    except (json.JSONDecodeError, RecursionError):
        pass
    notes = {}
    for match in _NOTE_ENTRY.finditer(text):
        guid = json.loads(f'"{match.group(1)}"')
        notes[guid] = {
            "id": json.loads(match.group(2)),
            "content_hash": json.loads(match.group(3)),
            "modified": int(match.group(4)),
        }
    salvaged = {"notes": notes}
    release = _salvage_release(text)
    if release is not None:
        salvaged["release"] = release
    elif '"release"' in text:
        repair.dropped.append(
            "the release record (unreadable JSON): "
            "the next release's changelog lists every card as added"
        )
    return salvaged


def _salvage_release(text: str) -> dict | None:
    """The release record when it is whole: it comes before the notes, so a file cut short in
    its notes (a kill, a full disk) still has it."""
    start = text.find('"release": {')
    if start < 0:
        return None
    try:
        release, _ = json.JSONDecoder().raw_decode(text, start + len('"release": '))
    except (json.JSONDecodeError, RecursionError):
        return None
    return release if isinstance(release, dict) else None


def restore_times(repair: Repair, notes: list[CurrentNote], package: Path) -> None:
    """Give each current note that the repaired lock lacks the time it has in `package`, the last
    .apkg built, when its fields and tags there are exactly the sources' (the note did not change
    since): learners' copies then
    stay as they are. A note that changed since keeps no time: the next build stamps it."""
    shipped = package_notes(package)
    kept = repair.data["notes"]
    repair.package = package
    for note in notes:
        if note.guid in kept or note.guid not in shipped:
            continue
        modified, shipped_fields, shipped_tags = shipped[note.guid]
        if (shipped_fields, shipped_tags.split()) == (
            note.fields,
            note.tags.split(),
        ) and time_problem(modified) is None:
            kept[note.guid] = {
                "id": note.card_id,
                "content_hash": note.content_hash,
                "modified": modified,
            }
            repair.restored += 1


def package_notes(package: Path) -> dict[str, tuple[int, str, str]]:
    """guid -> (modified, fields, tags) of the notes in an .apkg; empty when it cannot be read."""
    import sqlite3
    import tempfile
    import zipfile

    try:
        with zipfile.ZipFile(package) as archive, tempfile.TemporaryDirectory() as scratch:
            collection = Path(scratch) / "collection.anki2"
            collection.write_bytes(archive.read("collection.anki2"))
            connection = sqlite3.connect(collection)
            try:
                rows = connection.execute("SELECT guid, mod, flds, tags FROM notes").fetchall()
            finally:
                connection.close()
    except (OSError, KeyError, zipfile.BadZipFile, sqlite3.DatabaseError):
        return {}
    return {guid: (modified, fields, tags) for guid, modified, fields, tags in rows}
