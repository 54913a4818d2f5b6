"""The real Anki library, driven the way a learner's Anki would be: import, study, re-import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer


def fresh_collection(folder: Path) -> Collection:
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Collection, apkg: Path, **options):
    """Import with Anki's default options (update notes only when the package's are newer)."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(**options)
    )
    log = col.import_anki_package(request).log
    col.models._clear_cache()  # anki-facts: col.models may serve a cached note type after import
    return log


def notes_by_card_id(col: Collection) -> dict:
    """Our notes keyed by their CardId field."""
    return {col.get_note(nid)["CardId"]: col.get_note(nid) for nid in col.find_notes("")}


@dataclass(frozen=True)
class CardState:
    type: int
    queue: int
    due: int
    ivl: int
    reps: int
    deck: str


def card_state(col: Collection, card_id: int) -> CardState:
    card = col.get_card(card_id)
    return CardState(card.type, card.queue, card.due, card.ivl, card.reps, col.decks.name(card.did))


def answer_first_due_card(col: Collection, deck_name: str, rating=CardAnswer.GOOD) -> int:
    """Study one card from the deck with the v3 scheduler; returns its card id."""
    col.decks.select(col.decks.id_for_name(deck_name))
    queued = col.sched.get_queued_cards()
    assert queued.cards, f"nothing to study in {deck_name}"
    card = col.get_card(queued.cards[0].card.id)
    card.start_timer()
    col.sched.answer_card(
        col.sched.build_answer(card=card, states=queued.cards[0].states, rating=rating)
    )
    return card.id


def review_log(col: Collection) -> list[tuple]:
    return col.db.all("select id, cid, ease, ivl, type from revlog order by id")
