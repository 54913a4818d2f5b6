"""pull: fixes made in Anki brought back to the card sources.

The deck's notes are found in Anki by their CardId field (a renamed card's old ids through its
`aliases`). Each field whose HTML differs from what the current sources render (after
html_to_markdown.html_signature's normalisation) is converted back to Markdown, and kept only if
that Markdown renders to the edited field again. The result is a list of YAML edits, shown as a
diff and, with `apply`, written into the card files in place (card_yaml), after `check` passed
on a copy of the edited sources. Nothing is taken from Anki but field text: not scheduling, not
tags, never CardId or Figure.

Edits and conflicts, field by field, from the deck's packages built so far (dist/ beside the
cards folder, read as the lock's repair reads them): a field whose text one of them shipped is
an older version, not an edit. An edit was made on the newest package version older than the
note's time in Anki; if the sources changed that field since, the card is a conflict, reported
with both versions and left alone. Without packages, the note's time in the lock stands in for
the field's (a note changed in the sources after the edit, or not built since, is a conflict).
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .anki_notes import AnkiNote
from .atomic import write_atomically
from .build import BuildOptions, Progress, load_and_check, quiet
from .card_yaml import YamlEditError, append_cards, set_value
from .html_to_markdown import Unconvertible, html_signature, html_to_markdown, minimal_edit
from .identity import Lock, guid_for_card, read_lock
from .kinds import KINDS, CardKind
from .lock_repair import package_notes
from .markdown_math import cloze_safe, formulas_in, markdown_to_html
from .model import Card, Deck
from .prepare import prepare
from .problems import Location, Problem, SourceError
from .render import RenderedNote

PULLED_FILE = "pulled.yaml"
PULLED_SUBDECK = "Pulled from Anki"
NEVER_PULLED = ("CardId", "Figure")  # identity and build output, never a learner's to change


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


def shipped_versions(dist: Path, slug: str) -> dict[str, list[Shipped]]:
    """GUID → every distinct version of the note in the deck's packages in `dist` (releases, dev
    and English-only builds), oldest first: the versions a learner's notes can come from."""
    versions: dict[str, set[Shipped]] = {}
    for package in sorted(dist.glob(f"{slug}-*.apkg")) if dist.is_dir() else ():
        for guid, (modified, fields, _) in package_notes(package).items():
            versions.setdefault(guid, set()).add(Shipped(modified, tuple(fields.split("\x1f"))))
    return {
        guid: sorted(found, key=lambda shipped: shipped.modified)
        for guid, found in versions.items()
    }


# ---------------------------------------------------------------- the pull


def pull(
    options: BuildOptions,
    anki_notes: list[AnkiNote],
    apply: bool = False,
    progress: Progress = quiet,
) -> PullResult:
    """What the notes in Anki change in the sources; with `apply`, written once `check` passed."""
    prepared = prepare(options, progress=progress)
    progress("Comparing the notes in Anki with the sources")
    result = PullResult()
    comparison = _Comparison(
        prepared.deck,
        prepared.notes,
        read_lock(options.cards_dir),
        shipped_versions(options.cards_dir.resolve().parent / "dist", prepared.deck.config.slug),
    )
    new_notes = comparison.compare(anki_notes, result)
    files = _edited_files(prepared.deck, comparison.edits_by_card, result)
    _add_new_notes(prepared.deck, new_notes, files, result, options.cards_dir)
    if apply and files:
        _check_then_write(options, files, progress)
        result.written = sorted(files)
    return result


class _Comparison:
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
        for anki in anki_notes:
            kind = self.note_types.get(anki.note_type)
            card_id = _plain(anki.fields.get("CardId", "")) if kind else None
            if kind is None:
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
            result.deleted = sorted(
                card.id for card in self.deck.cards if not card.retired and card.id not in seen
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


def _plain(html: str) -> str:
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


def _indented(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").split("\n"))


# ---------------------------------------------------------------- the YAML


def _edited_files(
    deck: Deck, edits_by_card: dict[str, list[FieldEdit]], result: PullResult
) -> dict[Path, str]:
    """Each card file's edited text; one diff per card in `result.changed`."""
    cards = {card.id: card for card in deck.cards}
    files: dict[Path, str] = {}
    for card_id, edits in edits_by_card.items():
        path = cards[card_id].location.file
        original = path.read_text(encoding="utf-8")
        before = files.get(path, original)
        try:
            alone, together = original, before
            for edit in edits:
                alone = set_value(alone, card_id, edit.key, edit.after)
                together = set_value(together, card_id, edit.key, edit.after)
        except YamlEditError as error:
            result.unreadable.append(
                Unreadable(f"card '{card_id}'", ", ".join(edit.key for edit in edits), str(error))
            )
            continue
        files[path] = together
        result.changed.append(CardChange(card_id, path, tuple(edits), _diff(path, original, alone)))
    return files


def _diff(path: Path, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"
        )
    )


def _add_new_notes(
    deck: Deck,
    new_notes: list[tuple[CardKind, AnkiNote]],
    files: dict[Path, str],
    result: PullResult,
    cards_dir: Path,
) -> None:
    taken = {card_id for card in deck.cards for card_id in (card.id, *card.aliases)}
    cards = []
    for kind, anki in new_notes:
        text = _new_note_text(kind, anki, deck, result)
        if text is None:
            continue
        card_id = unique_slug(text[kind.required[0]], taken)
        taken.add(card_id)
        result.new_notes.append(NewNote(card_id, kind.name, text))
        cards.append({"id": card_id, "kind": kind.name, **text})
    if not cards:
        return
    path = cards_dir / PULLED_FILE
    original = path.read_text(encoding="utf-8") if path.exists() else None
    files[path] = append_cards(files.get(path, original), PULLED_SUBDECK, cards)
    result.new_notes_diff = _diff(path, original or "", files[path])


def _new_note_text(
    kind: CardKind, anki: AnkiNote, deck: Deck, result: PullResult
) -> dict[str, str] | None:
    text = {}
    label = f"new note '{_plain(anki.fields.get(kind.note_fields[0], ''))[:40]}'"
    for source_field in source_fields(kind):
        html = anki.fields.get(source_field.field, "")
        if not html_signature(html):
            continue
        try:
            if not source_field.markdown:
                raise Unconvertible("code is not pulled from Anki: add the card in the sources")
            text[source_field.key] = pulled_markdown(
                None, "", html, deck, kind, source_field.inline
            )
        except Unconvertible as error:
            result.unreadable.append(
                Unreadable(label, f"'{source_field.key}' ({source_field.field})", str(error))
            )
            return None
    missing = [key for key in kind.required if key not in text]
    if missing:
        result.unreadable.append(
            Unreadable(label, ", ".join(missing), f"a {kind.name} card needs {', '.join(missing)}")
        )
        return None
    return text


def unique_slug(markdown: str, taken: set[str]) -> str:
    """An id from a card's first field: lower-case words joined by hyphens, at most 40 characters,
    numbered when taken."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"\$[^$]*\$", " ", markdown).lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 40:
            break
        slug = f"{slug}-{word}" if slug else word
    slug = slug or "pulled-note"
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    return candidate


# ---------------------------------------------------------------- writing


def _check_then_write(options: BuildOptions, files: dict[Path, str], progress: Progress) -> None:
    """Run every check of `build` on a copy of the sources with the edits; write them only if it
    passes (a SourceError names the copy's problems at the real files' paths otherwise)."""
    cards_dir = options.cards_dir
    with tempfile.TemporaryDirectory(prefix="mathdeck-pull-") as scratch:
        copy = Path(scratch) / cards_dir.name
        shutil.copytree(cards_dir, copy)
        for path, text in files.items():
            (copy / path.resolve().relative_to(cards_dir.resolve())).write_text(
                text, encoding="utf-8"
            )
        progress("Checking the edited sources")
        try:
            load_and_check(replace(options, cards_dir=copy), progress)
        except SourceError as error:
            raise SourceError(
                [_at_real_file(problem, copy, cards_dir) for problem in error.problems]
            ) from None
    for path, text in sorted(files.items()):
        write_atomically(path, text.encode("utf-8"))


def _at_real_file(problem: Problem, copy: Path, cards_dir: Path) -> Problem:
    file = Path(problem.location.file)
    if copy != file and copy not in file.parents:
        return problem
    return replace(
        problem, location=replace(problem.location, file=cards_dir / file.relative_to(copy))
    )
