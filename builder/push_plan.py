"""What a push will write, decided from what Anki holds now (`plan_push`), before any write.

Note types, decks, media, fields and tags are each compared first and written only when they
differ (AnkiConnect's updateModelTemplates/updateModelStyling mark a note type modified even when
the text is the same), so an unchanged push plans nothing. Which note is which card is
push_match.py's; a refusal there (PushConflict) comes before any write. A retired card updates its
note but never adds one. Nothing is planned to be deleted, no learner's tag removed, no schedule
touched. Sending the plan is push_notes.py's.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .ankiconnect import BATCH, AnkiConnect, AnkiConnectError
from .model import KINDS, Deck
from .push_match import find_existing

if TYPE_CHECKING:  # cli.py imports push.py: keep `mathdeck --help` quick
    from .render import RenderedNote


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
    refiled: list[Write] = field(default_factory=list)  # cards an interrupted push left in Default


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
    existing = find_existing(client, notes)
    for note, matches in zip(notes, existing, strict=True):
        if matches:
            _plan_update(note, matches[0], plan)
        elif (
            not note.card.retired
        ):  # a retired card's note only exists to be deleted: never add one
            plan.additions.append((note, _addition(deck, note, models[note.card.kind].name, plan)))
    stranded = _stranded_cards(client, deck, notes, existing)
    plan.refiled = card_moves(stranded, plan.result)
    new_decks = {subdeck_name(deck, note.subdeck) for note, _ in plan.additions} | set(stranded)
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


def _stranded_cards(
    client: AnkiConnect, deck: Deck, notes: list[RenderedNote], existing: list[list[dict]]
) -> dict[str, list[int]]:
    """Subdeck → cards of this deck's notes that an interrupted push left in Default (deck id 1).
    AnkiConnect's addNote files every card there (FooSoft/anki-connect#385) and a push moves them
    once all its notes are added: a push cut off before that left them there, never studied, so
    no learner filed them there."""
    from .package import subdeck_name

    ours = {
        matches[0]["noteId"]: note for note, matches in zip(notes, existing, strict=True) if matches
    }
    names = " OR ".join(
        f'"note:{KINDS[kind].note_type_name}"' for kind in {n.card.kind for n in notes}
    )
    found = client.call("findCards", query=f"did:1 is:new ({names})") if ours else []
    to_move: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(found), BATCH):
        for info in client.call("cardsInfo", cards=found[start : start + BATCH]):
            note = ours.get(info.get("note"))
            if note is not None:
                to_move[subdeck_name(deck, note.subdeck)].append(info["cardId"])
    return to_move


def card_moves(to_move: dict[str, list[int]], result: PushResult) -> list[Write]:
    """changeDeck for the cards to file in each subdeck, counted once Anki has moved them."""
    return [
        Write(
            "changeDeck",
            {"cards": cards, "deck": target},
            partial(_count_moves, result, len(cards)),
        )
        for target, cards in sorted(to_move.items())
        if cards
    ]


def _count_moves(result: PushResult, count: int, _reply: object) -> None:
    result.cards_moved += count


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
