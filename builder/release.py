"""Releases: version bumps, the changelog, and the guards that keep learners' collections whole.

The last release is remembered in cards/mathdeck.lock.json (card ids, titles, content hashes and
the note types' fields and templates), so a fresh clone knows what learners already have.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from .atomic import write_atomically
from .identity import LOCK_FILE, Lock, Release, ReleasedCard
from .model import KINDS, Deck
from .problems import Location, Problem
from .records import Record
from .render import RenderedNote

BUMPS = ("major", "minor", "patch")
CHANGELOG_FILE = "CHANGELOG.md"
CHANGELOG_HEADER = (
    "# Changelog\n\nWhat changed in each release of the deck, written by `mathdeck release`.\n"
)


class Changes(Record):
    __slots__ = field_names = ("added", "changed", "retired")
    added: list[tuple[str, str]]  # (card id, title)
    changed: list[tuple[str, str]]
    retired: list[tuple[str, str]]

    def __init__(
        self,
        added: list[tuple[str, str]] | None = None,
        changed: list[tuple[str, str]] | None = None,
        retired: list[tuple[str, str]] | None = None,
    ) -> None:
        self.added = [] if added is None else added
        self.changed = [] if changed is None else changed
        self.retired = [] if retired is None else retired

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.retired)


def bump_version(version: str, part: str) -> str:
    major, minor, patch = (int(n) for n in version.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def note_type_signature() -> dict[str, dict[str, list[str]]]:
    return {
        kind.name: {
            "fields": list(kind.note_fields),
            "templates": [name for name, _ in kind.templates],
        }
        for kind in KINDS.values()
    }


def compare_with_release(notes: list[RenderedNote], release: Release | None) -> Changes:
    changes = Changes()
    released = release.cards if release else {}
    for note in notes:
        card = note.card
        before_id = next((i for i in (card.id, *card.aliases) if i in released), None)
        # a title only for a card that changed: an edit's build compares every note, twice
        if before_id is None:
            if not card.retired:
                changes.added.append((card.id, card.title))
        elif card.retired and not released[before_id].retired:
            changes.retired.append((card.id, card.title))
        elif released[before_id].content_hash != note.content_hash and not card.retired:
            title = (
                card.title if before_id == card.id else f"{card.title} (renamed from {before_id})"
            )
            changes.changed.append((card.id, title))
    return changes


def release_manifest(version: str, notes: list[RenderedNote], changelog: str) -> Release:
    cards = {n.card.id: ReleasedCard(n.card.title, n.content_hash, n.card.retired) for n in notes}
    return Release(version, cards, note_type_signature(), changelog)


def changelog_entry(version: str, epoch: int, changes: Changes) -> str:
    date = time.strftime("%Y-%m-%d", time.gmtime(epoch))
    lines = [f"## {version} ({date})", ""]
    for label, entries in (
        ("Added", changes.added),
        ("Changed", changes.changed),
        ("Retired", changes.retired),
    ):
        if entries:
            lines.append(f"**{label}** ({len(entries)}):")
            lines.append("")
            lines += [f"- `{card_id}`: {title}" for card_id, title in entries]
            lines.append("")
    if not changes:
        lines += ["No card changed.", ""]
    return "\n".join(lines).rstrip() + "\n"


def deck_description_news(changes_entry: str, limit: int = 12) -> str:
    """The latest changelog entry, shortened for the deck's overview screen in Anki."""
    lines = changes_entry.splitlines()
    items = [line for line in lines if line.startswith("- ")]
    if len(items) > limit:
        kept, shown = [], 0
        for line in lines:
            if line.startswith("- "):
                shown += 1
                if shown > limit:
                    continue
            kept.append(line)
        kept.append(f"\n… and {len(items) - limit} more (see CHANGELOG.md).")
        lines = kept
    heading, rest = lines[0].removeprefix("## "), "\n".join(lines[1:])
    return f"**What changed in {heading}**\n{rest}"


def prepend_changelog(path: Path, entry: str) -> Path:
    """Put `entry` first in the deck's changelog (CHANGELOG.md), replacing an entry for the same
    version: a release run again after an interruption never lists itself twice."""
    old = path.read_text(encoding="utf-8") if path.exists() else CHANGELOG_HEADER
    head, *entries = old.split("\n## ")
    heading = entry.split("\n", 1)[0].removeprefix("## ").split(" (", 1)[0]
    kept = [e for e in entries if e.split("\n", 1)[0].split(" (", 1)[0] != heading]
    text = head.rstrip() + "\n\n" + entry + "".join("\n## " + e for e in kept)
    if text != old:
        write_atomically(path, text.encode("utf-8"))
    return path


def write_version(deck: Deck, version: str) -> None:
    """Change only the `version:` line of deck.yaml, keeping the author's comments and layout."""
    path = deck.config.location.file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = deck.config.version_location.line - 1
    lines[index] = re.sub(
        r"(version:\s*)['\"]?[0-9.]+['\"]?", lambda m: m.group(1) + version, lines[index], count=1
    )
    write_atomically(path, "".join(lines).encode("utf-8"))


# ---------------------------------------------------------------- guards


def release_problems(
    deck: Deck, lock: Lock, cards_dir: Path, allow_note_type_change: bool
) -> list[Problem]:
    if lock.release is None:
        return []
    return missing_released_cards(deck, lock.release, cards_dir) + note_type_changes(
        deck, lock.release, allow_note_type_change
    )


def missing_released_cards(deck: Deck, release: Release, cards_dir: Path) -> list[Problem]:
    present = {claimed for card in deck.cards for claimed in (card.id, *card.aliases)}
    lock_path = cards_dir / LOCK_FILE
    lock_lines = lock_path.read_text(encoding="utf-8").splitlines() if lock_path.exists() else []
    problems = []
    for card_id, card in sorted(release.cards.items()):
        if card_id not in present:
            line = next(
                (
                    n
                    for n, text in enumerate(lock_lines, 1)
                    if text.strip().startswith(f'"{card_id}": {{')
                ),
                0,
            )
            problems.append(
                Problem(
                    Location(lock_path, line),
                    f"card '{card_id}' ({card.title}) was in release {release.version} "
                    "but is gone from the sources. Anki never deletes notes on import, "
                    "so learners would keep it forever: put it back with 'retired: true' "
                    "(its note is then tagged 'retired' and moved to the Retired subdeck), "
                    "or rename it with 'aliases'",
                )
            )
    return problems


def note_type_changes(deck: Deck, release: Release, allowed: bool) -> list[Problem]:
    if allowed:
        return []
    problems = []
    current = note_type_signature()
    for kind, signature in sorted(current.items()):
        before = release.note_types.get(kind)
        if before is None or before == signature:
            continue  # a kind new since the release adds a note type: nothing for learners to sync
        what = "; ".join(
            f"{part} {before[part]} → {signature[part]}"
            for part in ("fields", "templates")
            if before[part] != signature[part]
        )
        problems.append(
            Problem(
                deck.config.location,
                f"note type '{KINDS[kind].note_type_name}' changed since release {release.version} "
                f"({what}). Adding, removing or renaming a field or template forces every learner "
                "to a full sync with AnkiWeb, and without 'merge note types' Anki imports a copy "
                "of the note type and stops updating their notes. "
                "Pass --allow-note-type-change to do it anyway",
            )
        )
    return problems
