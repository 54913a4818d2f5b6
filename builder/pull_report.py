"""What a pull found, as `mathdeck pull` reports it: the edits per card (with their diffs), the
conflicts, unreadable fields, new notes, and the notes deleted, suspended or unknown in Anki.
Plain data and its printed lines; pull_match.py fills it, pull.py writes from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FieldEdit:
    key: str  # the source key (answer, explanation, ...)
    field: str  # the Anki field it renders to
    before: str | None  # the source text, None when the card had no such key
    after: str


@dataclass(frozen=True)
class CardChange:
    card_id: str
    path: Path
    edits: tuple[FieldEdit, ...]
    diff: str  # unified diff of the card file for this card's edits alone


@dataclass(frozen=True)
class Conflict:
    card_id: str
    key: str
    field: str
    sources: str  # the field's Markdown in the sources now
    anki: str  # the field's Markdown as edited in Anki

    def message(self) -> str:
        return (
            f"conflict: card '{self.card_id}', field '{self.key}' ({self.field}) was edited in "
            "Anki and also changed in the sources since that note's version; left as it is in "
            "the sources."
        )


@dataclass(frozen=True)
class Unreadable:
    card_id: str  # or "new note '<first field>'"
    field: str
    reason: str

    def message(self) -> str:
        return (
            f"unreadable: {self.card_id}, field {self.field}: {self.reason}; "
            "the card is left unchanged."
        )


def without_card_ids(note_type: str) -> Unreadable:
    """A note type of the deck whose CardId field was removed in Anki: none of its notes can be
    matched, and taking them as new notes would copy every card."""
    return Unreadable(
        f"every note of '{note_type}'",
        "CardId",
        "the note type in Anki has no CardId field, so its notes match no card (add the field "
        "back in Tools ▸ Manage Note Types ▸ Fields, or import the .apkg again)",
    )


@dataclass(frozen=True)
class NewNote:
    card_id: str
    kind: str
    text: dict[str, str]


@dataclass
class PullResult:
    changed: list[CardChange] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    new_notes: list[NewNote] = field(default_factory=list)
    new_notes_diff: str = ""
    unreadable: list[Unreadable] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # card ids with no note in Anki
    suspended: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # CardIds in Anki that no card has
    older: int = 0  # fields in Anki that are an older build's text (not edits, skipped)
    written: list[Path] = field(default_factory=list)

    def report(self, applied: bool) -> list[str]:
        """What `mathdeck pull` prints: the diffs, conflicts with both versions, what could not be
        read, the notes deleted or suspended in Anki, and the summary."""
        lines = [change.diff for change in self.changed]
        lines += [self.new_notes_diff] if self.new_notes_diff else []
        for conflict in self.conflicts:
            sources, anki = _indented(conflict.sources), _indented(conflict.anki)
            lines += [conflict.message(), f"  in the sources:\n{sources}\n  in Anki:\n{anki}"]
        lines += [item.message() for item in self.unreadable]
        for label, ids in (
            (
                "deleted in Anki (kept in the sources; retire a card with `retired: true`)",
                self.deleted,
            ),
            ("suspended in Anki", self.suspended),
            ("in Anki with a CardId no card has", self.unknown),
        ):
            lines += [f"{label}: {', '.join(ids)}"] if ids else []
        if self.older:
            fields = (
                "1 field in Anki holds" if self.older == 1 else f"{self.older} fields in Anki hold"
            )
            lines.append(f"{fields} an older build's text, not edits: left alone.")
        if self.written:
            return [
                *lines,
                f"{self.summary()}; wrote {', '.join(map(str, self.written))} (checked)",
            ]
        pending = (self.changed or self.new_notes) and not applied
        return [
            *lines,
            self.summary() + ("; run again with --apply to write them" if pending else ""),
        ]

    def summary(self) -> str:
        def count(number: int, word: str, plural: str | None = None) -> str:
            return f"{number} {word if number == 1 else plural or word + 's'}"

        return (
            f"{count(len(self.changed), 'card')} changed, "
            f"{count(len(self.conflicts), 'conflict')}, "
            f"{count(len(self.new_notes), 'new note')}, "
            f"{len({item.card_id for item in self.unreadable})} unreadable"
        )


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").split("\n"))
