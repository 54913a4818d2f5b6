"""Which note in Anki is which card: a note is found by its CardId field (the card's id, or an old
id listed under `aliases`); every value searched for is a slug, quoted and escaped for Anki's
search syntax. A card that matches several notes, or a note matched by several cards, is refused
(PushConflict) before anything is written. Used by push_plan.py.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from .ankiconnect import BATCH, AnkiConnect, AnkiConnectError, field_search
from .schema import ID_PATTERN

if TYPE_CHECKING:  # cli.py imports push.py: keep `mathdeck --help` quick
    from .render import RenderedNote

CARD_ID_FIELD = "CardId"


class PushConflict(AnkiConnectError):
    """Notes in Anki do not match cards one to one: nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def find_existing(client: AnkiConnect, notes: list[RenderedNote]) -> list[list[dict]]:
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
