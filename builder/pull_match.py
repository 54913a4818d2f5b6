"""Reading and matching a pull's edits: the notes in Anki matched to the cards by CardId (aliases
too), each field compared with what the sources render now and with the versions the deck's
packages shipped, and an edited field's Markdown found (kept only if it renders as edited).
What it finds goes into a pull_report.PullResult; pull.py writes the edits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .anki_notes import AnkiNote
from .field_edits import html_signature, minimal_edit
from .html_to_markdown import Unconvertible, html_to_markdown
from .identity import Lock, guid_for_card
from .kinds import KINDS, CardKind
from .lock_repair import package_notes
from .markdown_extensions import cloze_safe
from .markdown_math import formulas_in, markdown_to_html
from .model import Card, Deck
from .problems import Location
from .pull_report import Conflict, FieldEdit, PullResult, Unreadable, without_card_ids
from .render import RenderedNote

NEVER_PULLED = ("CardId", "Figure")  # identity and build output, never a learner's to change


@dataclass(frozen=True)
class SourceField:
    """One Anki field made from one source key."""

    field: str
    key: str
    inline: bool
    markdown: bool  # False for code: shown as it is, never converted


def source_fields(kind: CardKind) -> list[SourceField]:
    """Which source key each of the kind's note fields is made from, read from the kind's own
    `fields` function by rendering a card whose every text is its key's name."""
    probe = Card(
        id="probe",
        kind=kind.name,
        subdeck="",
        location=Location(Path(".")),
        text={key: f"\x00{key}\x00" for key in kind.required + kind.optional},
    )
    found = []
    for name, value in kind.fields(probe, _ProbeRenderer()).items():
        match = re.fullmatch(r"\x00(\w+)\x00\x01(\w+)", value)
        if match:
            found.append(
                SourceField(
                    name,
                    match.group(1),
                    match.group(2) == "inline",
                    match.group(1) not in kind.not_markdown,
                )
            )
    return [*found, SourceField("Zh", "zh", True, True)]


class _ProbeRenderer:
    def markdown(self, text: str, inline: bool = False) -> str:
        return f"{text}\x01{'inline' if inline else 'block'}"

    def code(self, code: str, language: str) -> str:
        return f"{code}\x01block"


# ---------------------------------------------------------------- what was shipped


@dataclass(frozen=True)
class Shipped:
    """One version of a note as a package built earlier carried it."""

    modified: int
    fields: tuple[str, ...]  # in the kind's note_fields order


def shipped_versions(folders: tuple[Path, ...], slug: str) -> dict[str, list[Shipped]]:
    """GUID → every distinct version of the note in the deck's packages in `folders` (kept
    releases, dev and English-only builds), oldest first: the versions a learner's notes can come
    from."""
    versions: dict[str, set[Shipped]] = {}
    packages = {p for folder in folders if folder.is_dir() for p in folder.glob(f"{slug}-*.apkg")}
    for package in sorted(packages):
        for guid, (modified, fields, _) in package_notes(package).items():
            versions.setdefault(guid, set()).add(Shipped(modified, tuple(fields.split("\x1f"))))
    return {
        guid: sorted(found, key=lambda shipped: shipped.modified)
        for guid, found in versions.items()
    }


class Comparison:
    """The notes in Anki matched to the cards by CardId, field by field."""

    def __init__(
        self, deck: Deck, notes: list[RenderedNote], lock: Lock, shipped: dict[str, list[Shipped]]
    ):
        self.deck, self.lock, self.shipped = deck, lock, shipped
        self.by_id = _cards_by_id(notes)
        self.note_types = {
            KINDS[kind].note_type_name: KINDS[kind] for kind in deck.config.note_type_ids
        }
        self.edits_by_card: dict[str, list[FieldEdit]] = {}

    def compare(
        self, anki_notes: list[AnkiNote], result: PullResult
    ) -> list[tuple[CardKind, AnkiNote]]:
        """Fills `result` with what the matched notes say; returns the notes without a CardId."""
        seen: set[str] = set()
        new_notes = []
        unmatched: set[str] = set()  # note types whose CardId field was removed in Anki
        for anki in anki_notes:
            kind = self.note_types.get(anki.note_type)
            card_id = plain_text(anki.fields.get("CardId", "")) if kind else None
            if kind is None:
                continue
            if "CardId" not in anki.fields:  # every note of it would come back as a new card
                if anki.note_type not in unmatched:
                    unmatched.add(anki.note_type)
                    result.unreadable.append(without_card_ids(anki.note_type))
                continue
            if not card_id:
                new_notes.append((kind, anki))
            elif card_id not in self.by_id:
                result.unknown.append(card_id)
            elif self.by_id[card_id].card.id in seen:
                result.unreadable.append(
                    Unreadable(
                        f"card '{self.by_id[card_id].card.id}'",
                        "CardId",
                        "two notes in Anki carry this card's id; only the first was "
                        "compared (delete the copy in Anki's browser)",
                    )
                )
            elif not self.by_id[card_id].card.retired:
                seen.add(self.by_id[card_id].card.id)
                self._compare_note(self.by_id[card_id], anki, result)
        if seen:  # the collection holds this deck: what it lacks was deleted there
            gone = [card for card in self.deck.cards if card.id not in seen and not card.retired]
            result.deleted = sorted(
                card.id for card in gone if KINDS[card.kind].note_type_name not in unmatched
            )
        return new_notes

    def _compare_note(self, note: RenderedNote, anki: AnkiNote, result: PullResult) -> None:
        if anki.suspended:
            result.suspended.append(note.card.id)
        history = _History(self.shipped.get(guid_for_card(note.card), []), self.lock, note, anki)
        edits, conflicts, unreadable = _field_edits(note, anki, self.deck, history)
        result.older += history.older
        result.conflicts += conflicts
        result.unreadable += unreadable
        if (
            edits and not unreadable
        ):  # nothing half-applied: a card with an unreadable field keeps all its fields
            self.edits_by_card[note.card.id] = edits


def _cards_by_id(notes: list[RenderedNote]) -> dict[str, RenderedNote]:
    by_id = {}
    for note in notes:
        for card_id in (note.card.id, *note.card.aliases):
            by_id[card_id] = note
    return by_id


def plain_text(html: str) -> str:
    """A field's text without tags or surrounding space (CardId as the editor may leave it)."""
    import html as entities

    return entities.unescape(re.sub(r"<[^>]*>", "", html)).replace("\xa0", " ").strip()


def _field_edits(note: RenderedNote, anki: AnkiNote, deck: Deck, history: _History):
    card, kind = note.card, KINDS[note.card.kind]
    edits, conflicts, unreadable = [], [], []
    current_fields = dict(zip(kind.note_fields, note.fields, strict=True))
    for source_field in source_fields(kind):
        if source_field.field in NEVER_PULLED or source_field.field not in anki.fields:
            continue
        current, edited = (
            current_fields.get(source_field.field, ""),
            anki.fields[source_field.field],
        )
        if html_signature(current) == html_signature(edited):
            continue
        if source_field.key == "zh" and not html_signature(edited):
            continue  # the learner's copy is an English-only build (`--lang en`), not an edit
        index = kind.note_fields.index(source_field.field)
        if history.shipped_as(index, edited):
            continue  # not an edit: the note in Anki is from an older build
        where = f"card '{card.id}'"
        if not source_field.markdown:
            unreadable.append(
                Unreadable(
                    where,
                    f"'{source_field.key}' ({source_field.field})",
                    "code is not pulled: edit it in the sources (or the card's code_file)",
                )
            )
            continue
        source = _source_text(card, source_field.key)
        try:
            markdown = pulled_markdown(source, current, edited, deck, kind, source_field.inline)
        except Unconvertible as error:
            unreadable.append(
                Unreadable(where, f"'{source_field.key}' ({source_field.field})", str(error))
            )
            continue
        if history.changed_in_sources_since_edit(index, current):
            conflicts.append(
                Conflict(card.id, source_field.key, source_field.field, source or "", markdown)
            )
            continue
        edits.append(FieldEdit(source_field.key, source_field.field, source, markdown))
    return edits, conflicts, unreadable


def _source_text(card: Card, key: str) -> str | None:
    return card.zh if key == "zh" else card.text.get(key)


def pulled_markdown(
    source: str | None,
    current_html: str,
    edited_html: str,
    deck: Deck,
    kind: CardKind,
    inline: bool,
) -> str:
    """The Markdown to write for an edited field: the author's own lines where the edit left them,
    the converter's where it changed; Unconvertible unless it renders to the edited HTML."""
    macros = deck.config.macros
    known_tex = _authored_tex(source or "", macros, kind.is_cloze)
    converted = html_to_markdown(edited_html, macros, known_tex)
    candidates = [converted]
    if source:
        candidates.insert(
            0,
            minimal_edit(
                source.rstrip("\n"), html_to_markdown(current_html, macros, known_tex), converted
            ),
        )
    target = html_signature(edited_html)
    for candidate in candidates:
        if html_signature(markdown_to_html(candidate, inline, macros, kind.is_cloze)) == target:
            return candidate + ("\n" if (source or "").endswith("\n") or "\n" in candidate else "")
    raise Unconvertible("its Markdown would not render as edited in Anki")


def _authored_tex(source: str, macros, cloze: bool) -> dict[str, str]:
    """TeX as the note carries it (macros expanded, `}}` spaced in a cloze) → TeX as written."""
    if not source or "$" not in source:
        return {}
    written, expanded = formulas_in(source), formulas_in(source, macros)
    as_noted = [(cloze_safe(tex) if cloze else tex) for tex, _ in expanded]
    return {
        note_tex: own
        for (own, _), note_tex in zip(written, as_noted, strict=True)
        if own != note_tex
    }


class _History:
    """What one note was in the packages built so far, to tell a learner's edit from an older
    version of the note, and to find the version an edit was made on."""

    def __init__(self, shipped: list[Shipped], lock: Lock, note: RenderedNote, anki: AnkiNote):
        self.shipped, self.lock, self.note, self.anki = shipped, lock, note, anki
        self.older = 0  # fields that are an older build's text, not edits

    def shipped_as(self, index: int, html: str) -> bool:
        signature = html_signature(html)
        if any(
            index < len(version.fields) and html_signature(version.fields[index]) == signature
            for version in self.shipped
        ):
            self.older += 1
            return True
        return False

    def changed_in_sources_since_edit(self, index: int, current_html: str) -> bool:
        """Whether the field changed in the sources after the version the learner edited: the
        newest package version older than the edit (the newest of all when Anki does not say
        when the note was edited). Without packages, the note as a whole: the lock's time."""
        edited_on = [
            version
            for version in self.shipped
            if self.anki.modified is None or version.modified <= self.anki.modified
        ]
        if edited_on and index < len(edited_on[-1].fields):
            return html_signature(edited_on[-1].fields[index]) != html_signature(current_html)
        entry = self.lock.notes.get(guid_for_card(self.note.card))
        if entry is None or entry.content_hash != self.note.content_hash:
            return (
                True  # changed since the last build (or never built): newer than any edit in Anki
            )
        return self.anki.modified is not None and entry.modified > self.anki.modified
