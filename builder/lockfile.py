"""The lock file's schema (cards/mathdeck.lock.json): every way it can be wrong, at its line.

The lock is committed with the sources, so git merges it, and a laptop can truncate it. Every
way it can be wrong (a merge conflict, bad JSON, a wrong type, an insane time) is a problem at
its line with the way out, never a traceback: `mathdeck lock --repair` (lock_repair.py) merges
both sides of a conflict (each card keeps its later time) and drops what it cannot trust; a note
whose time is dropped gets the next build's time, which only makes Anki update that note once more.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from .fields import suggestion
from .problems import Location, Problem, SourceError

# Anki decks did not exist before 2000; a time after tomorrow comes from a wrong clock or a hand
# edit and would make every later build of that card look older to Anki (never updated again).
EARLIEST_TIME = 946684800  # 2000-01-01T00:00:00Z
FUTURE_SLACK_SECONDS = 86400
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
REPAIR_HINT = "run `mathdeck lock --repair` (or restore the file from git)"
_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")
LOCK_KEYS = ("format", "release", "notes")
# Codes of the lock's problems (README, "Problem codes").
LOCK_CONFLICT = "MD130"
LOCK_NOT_JSON = "MD131"
LOCK_SCHEMA = "MD132"


def latest_sane_time() -> int:
    return int(time.time()) + FUTURE_SLACK_SECONDS


def time_problem(value) -> str | None:
    """Why `value` cannot be a note's modification time, or None when it can."""
    if not isinstance(value, int) or isinstance(value, bool):
        return f"must be a whole number of seconds since 1970, not {_kind(value)}"
    if value < EARLIEST_TIME:
        return f"is {value} ({_date(value)}), before 2000"
    if value > latest_sane_time():
        return f"is {value} ({_date(value)}), more than a day in the future"
    return None


def parse_lock(path: Path, text: str) -> dict:
    """The lock's JSON, checked against its schema; SourceError with every problem otherwise."""
    conflict = conflict_line(text)
    if conflict:
        raise SourceError(
            [
                Problem(
                    Location(path, conflict),
                    "merge conflict in the lock file (a git conflict marker): "
                    "run `mathdeck lock --repair` to merge both sides (each card keeps its later "
                    "time), then commit it",
                    code=LOCK_CONFLICT,
                )
            ]
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            [
                Problem(
                    Location(path, error.lineno),
                    f"the lock file is not valid JSON ({error.msg}, "
                    f"column {error.colno}): it is damaged or truncated; {REPAIR_HINT}",
                    code=LOCK_NOT_JSON,
                )
            ]
        ) from None
    except RecursionError:
        raise SourceError(
            [
                Problem(
                    Location(path, 1),
                    "the lock file nests values thousands deep: it is not mathdeck's; "
                    + REPAIR_HINT,
                    code=LOCK_NOT_JSON,
                )
            ]
        ) from None
    found = schema_problems(data)
    if found:
        key_lines = _key_lines(text)
        raise SourceError(
            [
                Problem(
                    Location(path, _line_of(key_lines, where)),
                    f"{_dotted(where)} {message}; {REPAIR_HINT}",
                    code=LOCK_SCHEMA,
                )
                for where, message in found
            ]
        )
    return data


def schema_problems(data) -> list[tuple[tuple[str, ...], str]]:
    """(path of keys, what is wrong) for every value that breaks the schema."""
    if not isinstance(data, dict):
        return [((), f"must be a JSON object, not {_kind(data)}")]
    found: list[tuple[tuple[str, ...], str]] = [
        ((key,), "is not a key of the lock file" + suggestion(key, LOCK_KEYS))
        for key in data
        if key not in LOCK_KEYS
    ]
    if data.get("format", 1) != 1:
        found.append((("format",), f"is {data.get('format')!r}; this mathdeck reads format 1"))
    notes = data.get("notes", {})
    if not isinstance(notes, dict):
        found.append((("notes",), f"must be an object of GUID to note, not {_kind(notes)}"))
    else:
        latest = latest_sane_time()
        for guid, entry in notes.items():
            if not _sound_note(entry, latest):
                found += [
                    (("notes", guid, *where), message) for where, message in note_problems(entry)
                ]
    release = data.get("release")
    if release is not None:
        found += [(("release", *where), message) for where, message in release_problems(release)]
    return found


def note_problems(entry) -> list[tuple[tuple[str, ...], str]]:
    if not isinstance(entry, dict):
        return [((), f"must be an object with id, content_hash and modified, not {_kind(entry)}")]
    found = _unknown_and_missing(entry, {"id": str, "content_hash": str, "modified": int})
    if isinstance(entry.get("modified"), int):
        problem = time_problem(entry["modified"])
        if problem:
            found.append((("modified",), problem))
    return found


_NOTE_KEYS = {"id", "content_hash", "modified"}


def _sound_note(entry, latest: int) -> bool:
    """True only when note_problems(entry) finds nothing: the common case, told in a tenth of its
    time (a lock holds an entry per note, 20,000 of them in a big deck). JSON's values are exactly
    dict, str and int (a bool is not an int here)."""
    return (
        type(entry) is dict
        and entry.keys() == _NOTE_KEYS
        and type(entry["id"]) is str
        and type(entry["content_hash"]) is str
        and type(entry["modified"]) is int
        and EARLIEST_TIME <= entry["modified"] <= latest
    )


def release_problems(release) -> list[tuple[tuple[str, ...], str]]:
    if not isinstance(release, dict):
        return [((), f"must be an object, not {_kind(release)}")]
    found = _unknown_and_missing(
        release,
        {"version": str, "changelog": str, "note_types": dict, "cards": dict},
        optional=("changelog",),
    )
    if isinstance(release.get("version"), str) and not SEMVER.fullmatch(release["version"]):
        found.append((("version",), f"'{release['version']}' is not semver (MAJOR.MINOR.PATCH)"))
    for kind, signature in (
        (release.get("note_types") or {}).items()
        if isinstance(release.get("note_types"), dict)
        else ()
    ):
        if not (
            isinstance(signature, dict)
            and all(
                isinstance(signature.get(part), list)
                and all(isinstance(n, str) for n in signature[part])
                for part in ("fields", "templates")
            )
        ):
            found.append(
                (
                    ("note_types", kind),
                    "must be an object with lists of names 'fields' and 'templates'",
                )
            )
    for card_id, card in (
        (release.get("cards") or {}).items() if isinstance(release.get("cards"), dict) else ()
    ):
        if not isinstance(card, dict):
            found.append((("cards", card_id), f"must be an object, not {_kind(card)}"))
            continue
        found += [
            (("cards", card_id, *where), message)
            for where, message in _unknown_and_missing(
                card, {"title": str, "content_hash": str, "retired": bool}, optional=("retired",)
            )
        ]
    return found


def _unknown_and_missing(
    entry: dict, types: dict[str, type], optional: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    for key, expected in types.items():
        if key not in entry:
            if key not in optional:
                found.append(((key,), "is missing"))
        elif not isinstance(entry[key], expected) or (
            expected is int and isinstance(entry[key], bool)
        ):
            found.append(((key,), f"must be {_TYPE_NAMES[expected]}, not {_kind(entry[key])}"))
    found += [
        ((key,), "is not a key of the lock file" + suggestion(key, types))
        for key in entry
        if key not in types
    ]
    return found


_TYPE_NAMES = {
    str: "text",
    int: "a whole number",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[:60]
    names: dict[type, str] = {str: "text", dict: "an object", list: "a list"}
    return names.get(type(value), type(value).__name__)


def _date(epoch: int) -> str:
    try:
        return time.strftime("%Y-%m-%d", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return "far beyond any calendar"


def _dotted(where: tuple[str, ...]) -> str:
    return "'" + ".".join(where) + "'" if where else "the lock file"


def conflict_line(text: str) -> int:
    """The line of the first git conflict marker, 0 when there is none."""
    if not any(marker in text for marker in _CONFLICT_MARKERS):
        return 0  # the common case, without splitting 100,000 lines (a 20,000-note lock)
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(_CONFLICT_MARKERS):
            return number
    return 0


_DECODER = json.JSONDecoder()


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of each key in the lock's own layout (one key per line, an object's keys indented
    deeper than its own), by its path of keys; the first, for a key written twice. One pass for
    every problem: searched for each, a 20,000-note lock with every time wrong took hours."""
    found: dict[tuple[str, ...], int] = {}
    parents: list[tuple[int, str]] = []  # (indent, key) of the objects this line is inside
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped.startswith('"'):
            continue
        indent = len(line) - len(stripped)
        while parents and parents[-1][0] >= indent:
            parents.pop()
        try:
            key, end = _DECODER.raw_decode(stripped)  # the line's first value: a string
        except ValueError:
            continue
        value = stripped[end:].lstrip()
        if not value.startswith(":"):
            continue  # a string in a list, not a key
        path = (*(name for _, name in parents), key)
        found.setdefault(path, number)
        if value[1:].strip() in ("{", "["):
            parents.append((indent, key))
    return found


def _line_of(key_lines: dict[tuple[str, ...], int], where: tuple[str, ...]) -> int:
    """The line of the innermost key of `where` found inside its parent object (a key missing
    from one note is not looked for in the next), else of the parent."""
    for depth in range(len(where), 0, -1):
        if where[:depth] in key_lines:
            return key_lines[where[:depth]]
    return 1
