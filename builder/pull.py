"""pull: fixes made in Anki brought back to the card sources.

The deck's notes are found in Anki by their CardId field (a renamed card's old ids through its
`aliases`). Each field whose HTML differs from what the current sources render (after
field_edits.html_signature's normalisation) is converted back to Markdown, and kept only if
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

This module turns the edits into YAML and writes them; pull_match.py reads and matches the
notes, pull_report.py holds what a pull found (PullResult) and how it is printed.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from pathlib import Path

from .anki_notes import AnkiNote
from .build import BuildOptions, Progress, load_and_check, quiet
from .card_yaml import YamlEditError, append_cards, set_value
from .commit import write_in_order
from .field_edits import html_signature
from .html_to_markdown import Unconvertible
from .identity import read_lock
from .kinds import CardKind
from .model import Deck
from .prepare import prepare
from .problems import Location, Problem, SourceError
from .pull_match import Comparison, plain_text, pulled_markdown, shipped_versions, source_fields
from .pull_report import CardChange, FieldEdit, NewNote, PullResult, Unreadable

PULLED_FILE = "pulled.yaml"
PULLED_SUBDECK = "Pulled from Anki"


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
    comparison = Comparison(
        prepared.deck,
        prepared.notes,
        read_lock(options.cards_dir),
        # what learners can hold: the committed releases and the builds in the deck's dist/
        shipped_versions((options.releases, options.out_dir), prepared.deck.config.slug),
    )
    new_notes = comparison.compare(anki_notes, result)
    files = _edited_files(prepared.deck, comparison.edits_by_card, result)
    _add_new_notes(prepared.deck, new_notes, files, result, options.cards_dir)
    if apply and files:
        _check_then_write(options, files, {path: _text_now(path) for path in files}, progress)
        result.written = sorted(files)
    return result


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
    label = f"new note '{plain_text(anki.fields.get(kind.note_fields[0], ''))[:40]}'"
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


def _check_then_write(
    options: BuildOptions,
    files: dict[Path, str],
    edited_from: dict[Path, str | None],
    progress: Progress,
) -> None:
    """Run every check of `build` on a copy of the sources with the edits; write them only if it
    passes (a SourceError names the copy's problems at the real files' paths otherwise), and
    only over the texts they were made from (`edited_from`): a file saved in an editor while
    the check ran is never overwritten."""
    cards_dir = options.cards_dir
    with tempfile.TemporaryDirectory(prefix="mathdeck-pull-") as scratch:
        copy = Path(scratch) / cards_dir.name
        shutil.copytree(cards_dir, copy)
        for path, text in files.items():
            # absolute(), not resolve(): a symlinked card file's copy is under its link's name
            (copy / path.absolute().relative_to(cards_dir.absolute())).write_text(
                text, encoding="utf-8"
            )
        progress("Checking the edited sources")
        try:
            load_and_check(options.replace(cards_dir=copy), progress)
        except SourceError as error:
            raise SourceError(
                [_at_real_file(problem, copy, cards_dir) for problem in error.problems]
            ) from None
    saved_since = [path for path, text in edited_from.items() if _text_now(path) != text]
    if saved_since:
        raise SourceError(
            [
                Problem(Location(path), "changed while pull ran (saved in an editor?): pull again")
                for path in sorted(saved_since)
            ]
        )
    write_in_order([(path, text.encode("utf-8")) for path, text in sorted(files.items())])


def _text_now(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _at_real_file(problem: Problem, copy: Path, cards_dir: Path) -> Problem:
    file = Path(problem.location.file)
    if copy != file and copy not in file.parents:
        return problem
    return problem.replace(
        location=problem.location.replace(file=cards_dir / file.relative_to(copy))
    )
