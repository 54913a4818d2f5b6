"""push: the built notes into a running Anki through AnkiConnect (builder/ankiconnect.py).

A push first reads everything it needs and decides what to write (`plan_push`); only then does it
write (`apply_push`), so a refusal writes nothing, and an unchanged push writes nothing at all:
note types, decks, media, fields and tags are each compared first and written only when they
differ (AnkiConnect's updateModelTemplates/updateModelStyling mark a note type modified even when
the text is the same).

A note is found by its CardId field (the card's id, or an old id listed under `aliases`); every
value searched for is a slug, quoted and escaped for Anki's search syntax. A card that matches
several notes, or a note matched by several cards, is refused. A retired card updates its note
but never adds one. A learner's existing cards never change deck; a *new* note's cards are moved
to their subdeck, because AnkiConnect's addNote files every card in Default whatever deckName
says (FooSoft/anki-connect#385). Nothing is deleted, no learner's tag removed, no schedule touched.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .ankiconnect import BATCH, AnkiConnect, AnkiConnectError, AnkiNotRunning, field_search
from .model import KINDS, Deck
from .schema import ID_PATTERN

if TYPE_CHECKING:  # cli.py imports push.py: keep `mathdeck --help` quick
    from .render import RenderedNote

CARD_ID_FIELD = "CardId"


class PushConflict(AnkiConnectError):
    """Notes in Anki do not match cards one to one: nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class PushInterrupted(Exception):
    """A write failed or the connection dropped after the push had started writing."""

    def __init__(self, cause: Exception, written: PushResult, unanswered: int = 0):
        super().__init__(str(cause))
        self.cause, self.written, self.unanswered = cause, written, unanswered


@dataclass
class PushResult:
    """What was written (so far): card ids per outcome, names of what was created or stored."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    note_types_created: list[str] = field(default_factory=list)
    note_types_updated: list[str] = field(default_factory=list)
    decks_created: list[str] = field(default_factory=list)
    media_stored: list[str] = field(default_factory=list)
    cards_moved: int = 0

    def written(self) -> str:
        """One line: everything this push wrote to Anki, or 'nothing'."""
        parts = [
            f"note types created: {', '.join(self.note_types_created)}"
            if self.note_types_created
            else "",
            f"note types updated: {', '.join(self.note_types_updated)}"
            if self.note_types_updated
            else "",
            f"{len(self.decks_created)} decks created" if self.decks_created else "",
            f"{len(self.media_stored)} media files stored" if self.media_stored else "",
            f"{len(self.updated)} notes updated" if self.updated else "",
            f"{len(self.added)} notes added" if self.added else "",
            f"{self.cards_moved} new cards moved to their subdecks" if self.cards_moved else "",
        ]
        return "; ".join(part for part in parts if part) or "nothing"


def _record(names: list[str], name: str, _reply: object) -> None:
    """A Write's record: Anki did it, so the result names it."""
    names.append(name)


def _count_moves_reply(result, count: int, _reply: object) -> None:
    _count_moves(result, count)


@dataclass
class Write:
    """One AnkiConnect action to send, and what to record in the result once Anki has done it."""

    action: str
    params: dict
    record: Callable[[object], None] = lambda _: None


@dataclass
class PushPlan:
    note_types: list[Write] = field(default_factory=list)
    decks: list[Write] = field(default_factory=list)
    media: list[Write] = field(default_factory=list)
    updates: list[Write] = field(default_factory=list)
    additions: list[tuple[RenderedNote, Write]] = field(default_factory=list)
    result: PushResult = field(default_factory=PushResult)
    added: list[tuple[RenderedNote, int]] = field(
        default_factory=list
    )  # notes Anki confirmed, with their ids


def push_notes(
    client: AnkiConnect, deck: Deck, notes: list[RenderedNote], media: list[Path]
) -> PushResult:
    client.require_version()
    plan = plan_push(client, deck, notes, media)
    apply_push(client, deck, plan)
    return plan.result


# ---------------------------------------------------------------- reading and deciding


def plan_push(
    client: AnkiConnect, deck: Deck, notes: list[RenderedNote], media: list[Path]
) -> PushPlan:
    """Everything to write, decided from what Anki holds now; raises PushConflict before any
    write."""
    from .package import note_models, subdeck_name
    from .render import note_type_templates

    plan = PushPlan()
    used = {note.card.kind for note in notes}
    models = {
        kind: model
        for kind, model in note_models(deck, note_type_templates()).items()
        if kind in used
    }
    plan.note_types = _note_type_writes(client, models, plan.result)
    existing = _find_existing(client, notes)
    for note, matches in zip(notes, existing, strict=True):
        if matches:
            _plan_update(note, matches[0], plan)
        elif (
            not note.card.retired
        ):  # a retired card's note only exists to be deleted: never add one
            plan.additions.append((note, _addition(deck, note, models[note.card.kind].name, plan)))
    new_decks = {subdeck_name(deck, note.subdeck) for note, _ in plan.additions}
    present = set(client.call("deckNames"))
    plan.decks = [
        Write(
            "createDeck",
            {"deck": name},
            partial(_record, plan.result.decks_created, name),
        )
        for name in sorted(new_decks - present)
    ]
    plan.media = _media_writes(client, media, plan.result)
    return plan


def _note_type_writes(client: AnkiConnect, models: dict, result: PushResult) -> list[Write]:
    present = set(client.call("modelNames"))
    writes = []
    for kind_name, model in models.items():
        templates = {t["name"]: {"Front": t["qfmt"], "Back": t["afmt"]} for t in model.templates}
        fields = [f["name"] for f in model.fields]
        if model.name not in present:
            writes.append(
                Write(
                    "createModel",
                    {
                        "modelName": model.name,
                        "inOrderFields": fields,
                        "css": model.css,
                        "isCloze": KINDS[kind_name].is_cloze,
                        "cardTemplates": [
                            {"Name": name, **sides} for name, sides in templates.items()
                        ],
                    },
                    partial(_record, result.note_types_created, model.name),
                )
            )
            continue
        anki_fields, anki_templates, anki_styling = client.multi(
            [
                ("modelFieldNames", {"modelName": model.name}),
                ("modelTemplates", {"modelName": model.name}),
                ("modelStyling", {"modelName": model.name}),
            ]
        )
        _require_same_shape(model.name, "fields", anki_fields, fields)
        _require_same_shape(model.name, "card templates", sorted(anki_templates), sorted(templates))
        changed = []
        if anki_templates != templates:
            changed.append(
                Write(
                    "updateModelTemplates", {"model": {"name": model.name, "templates": templates}}
                )
            )
        if anki_styling.get("css") != model.css:
            changed.append(
                Write("updateModelStyling", {"model": {"name": model.name, "css": model.css}})
            )
        if changed:
            changed[0].record = partial(_record, result.note_types_updated, model.name)
        writes += changed
    return writes


def _require_same_shape(name: str, what: str, in_anki: list, needed: list) -> None:
    if in_anki != needed:
        raise AnkiConnectError(
            f"note type '{name}' in Anki has the {what} {in_anki}, mathdeck needs {needed}: "
            "rename or delete that note type in Anki (Tools ▸ Manage Note Types), then push again"
        )


def _find_existing(client: AnkiConnect, notes: list[RenderedNote]) -> list[list[dict]]:
    """For each note, the notes in Anki whose CardId is its id or one of its aliases (one at
    most)."""
    queries = [
        " OR ".join(_card_id_search(card_id) for card_id in (note.card.id, *note.card.aliases))
        for note in notes
    ]
    found = client.multi([("findNotes", {"query": f"({query})"}) for query in queries])
    _refuse_ambiguous_matches(notes, found)
    ids = sorted({note_id for note_ids in found for note_id in note_ids})
    info = {}
    for start in range(0, len(ids), BATCH):
        info.update(
            {
                entry["noteId"]: entry
                for entry in client.call("notesInfo", notes=ids[start : start + BATCH])
                if entry
            }
        )
    return [[info[note_id] for note_id in note_ids if note_id in info] for note_ids in found]


def _card_id_search(card_id: str) -> str:
    # load.py lets only slugs through; a value that is not one must never reach a search.
    if not ID_PATTERN.match(card_id):
        raise AnkiConnectError(
            f"'{card_id}' is not a card id (a slug of a-z, 0-9 and single hyphens): refusing to "
            "search Anki for it"
        )
    return field_search(CARD_ID_FIELD, card_id)


def _refuse_ambiguous_matches(notes: list[RenderedNote], found: list[list[int]]) -> None:
    problems = []
    cards_of_note: dict[int, list[str]] = defaultdict(list)
    for note, note_ids in zip(notes, found, strict=True):
        for note_id in note_ids:
            cards_of_note[note_id].append(note.card.id)
        if len(note_ids) > 1:
            problems.append(
                f"card '{note.card.id}' matches {len(note_ids)} notes in Anki (note ids "
                f"{', '.join(map(str, sorted(note_ids)))})"
            )
    for note_id, card_ids in sorted(cards_of_note.items()):
        if len(card_ids) > 1:
            problems.append(
                f"note {note_id} in Anki is matched by {len(card_ids)} cards "
                f"({', '.join(card_ids)})"
            )
    if problems:
        raise PushConflict(problems)


def _plan_update(note: RenderedNote, match: dict, plan: PushPlan) -> None:
    card, result = note.card, plan.result
    fields = dict(zip(KINDS[card.kind].note_fields, note.fields, strict=True))
    writes = []
    if {name: value["value"] for name, value in match["fields"].items()} != fields:
        writes.append(
            Write("updateNoteFields", {"note": {"id": match["noteId"], "fields": fields}})
        )
    missing_tags = sorted(set(note.tags) - set(match["tags"]))  # a learner's own tags stay
    if missing_tags:
        writes.append(
            Write("addTags", {"notes": [match["noteId"]], "tags": " ".join(missing_tags)})
        )
    if not writes:
        result.unchanged.append(card.id)
        return
    writes[0].record = lambda _: result.updated.append(card.id)
    plan.updates += writes


def _addition(deck: Deck, note: RenderedNote, model_name: str, plan: PushPlan) -> Write:
    from .package import subdeck_name

    def record(note_id) -> None:
        plan.result.added.append(note.card.id)
        plan.added.append((note, note_id))

    fields = dict(zip(KINDS[note.card.kind].note_fields, note.fields, strict=True))
    return Write(
        "addNote",
        {
            "note": {
                "deckName": subdeck_name(deck, note.subdeck),
                "modelName": model_name,
                "fields": fields,
                "tags": list(note.tags),
                "options": {"allowDuplicate": True},
            }
        },
        record,
    )


def _media_writes(client: AnkiConnect, media: list[Path], result: PushResult) -> list[Write]:
    # Media names carry a hash of their content (figures.py): a name already there is this file.
    present = set(client.call("getMediaFilesNames", pattern="mathdeck-*"))
    return [
        Write(
            "storeMediaFile",
            {"filename": path.name, "data": base64.b64encode(path.read_bytes()).decode("ascii")},
            partial(_record, result.media_stored, path.name),
        )
        for path in media
        if path.name not in present
    ]


# ---------------------------------------------------------------- writing


def apply_push(client: AnkiConnect, deck: Deck, plan: PushPlan) -> None:
    """Send the plan's writes; on any failure raise PushInterrupted saying what was already
    written."""
    result = plan.result
    _send(client, plan.note_types + plan.decks + plan.media + plan.updates, result)
    refused = None
    try:
        _send(client, [write for _, write in plan.additions], result)
    except PushInterrupted as error:
        if error.unanswered:
            raise  # the connection is gone: nothing more can be sent
        refused = error  # Anki refused some notes: still file the ones it added, then say so
    try:
        moves = _deck_moves(client, deck, plan.added, result)
    except (AnkiNotRunning, AnkiConnectError) as error:
        raise PushInterrupted(error, result) from None
    _send(client, moves, result)
    if refused:
        raise refused


def _deck_moves(
    client: AnkiConnect, deck: Deck, added: list[tuple[RenderedNote, int]], result: PushResult
) -> list[Write]:
    """changeDeck for the new notes' cards that are not in their subdeck (addNote put them in
    Default)."""
    from .package import subdeck_name

    note_ids = [note_id for _, note_id in added]
    card_ids = [
        entry["cards"]
        for start in range(0, len(note_ids), BATCH)
        for entry in client.call("notesInfo", notes=note_ids[start : start + BATCH])
    ]
    all_cards = [card_id for cards in card_ids for card_id in cards]
    current = {}
    for start in range(0, len(all_cards), BATCH):
        current.update(
            {
                info["cardId"]: info["deckName"]
                for info in client.call("cardsInfo", cards=all_cards[start : start + BATCH])
            }
        )
    to_move: dict[str, list[int]] = defaultdict(list)
    for (note, _), cards in zip(added, card_ids, strict=True):
        target = subdeck_name(deck, note.subdeck)
        to_move[target] += [card_id for card_id in cards if current.get(card_id) != target]
    return [
        Write(
            "changeDeck",
            {"cards": cards, "deck": target},
            partial(_count_moves_reply, result, len(cards)),
        )
        for target, cards in sorted(to_move.items())
        if cards
    ]


def _count_moves(result: PushResult, count: int) -> None:
    result.cards_moved += count


def _send(client: AnkiConnect, writes: list[Write], result: PushResult) -> None:
    """The writes, in batches; what Anki confirmed is recorded in the result as it comes."""
    for start in range(0, len(writes), BATCH):
        batch = writes[start : start + BATCH]
        try:
            replies = client.multi_answers([(write.action, write.params) for write in batch])
        except (AnkiNotRunning, AnkiConnectError) as error:
            raise PushInterrupted(error, result, unanswered=len(batch)) from None
        failures = []
        for write, (value, refusal) in zip(batch, replies, strict=True):
            if refusal is None:
                write.record(value)
            else:
                failures.append(f"{write.action}: {refusal}")
        if failures:
            more = f" (and {len(failures) - 1} more failed)" if len(failures) > 1 else ""
            raise PushInterrupted(AnkiConnectError(failures[0] + more), result)
