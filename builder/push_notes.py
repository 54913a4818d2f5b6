"""push: the built notes into a running Anki through AnkiConnect (builder/ankiconnect.py).

A push first reads everything it needs and decides what to write (`plan_push`, push_plan.py;
which note is which card: push_match.py); only then does it write (`apply_push`, here), so a
refusal writes nothing, and an unchanged push writes nothing at all.

A learner's existing cards never change deck; a *new* note's cards are moved to their subdeck,
because AnkiConnect's addNote files every card in Default whatever deckName says
(FooSoft/anki-connect#385). A failed write or a dropped connection raises PushInterrupted,
which says what was already written. Nothing is deleted, no learner's tag removed, no schedule
touched.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from .ankiconnect import BATCH, AnkiConnect, AnkiConnectError, AnkiNotRunning
from .model import Deck
from .push_plan import PushPlan, PushResult, Write, card_moves, plan_push

if TYPE_CHECKING:  # cli.py imports push.py: keep `mathdeck --help` quick
    from .render import RenderedNote


class PushInterrupted(Exception):
    """A write failed, the connection dropped or the user pressed Ctrl-C (a KeyboardInterrupt
    cause) after the push had started writing."""

    def __init__(self, cause: BaseException, written: PushResult, unanswered: int = 0):
        super().__init__(str(cause))
        self.cause, self.written, self.unanswered = cause, written, unanswered


def push_notes(
    client: AnkiConnect, deck: Deck, notes: list[RenderedNote], media: list[Path]
) -> PushResult:
    client.require_version()
    plan = plan_push(client, deck, notes, media)
    apply_push(client, deck, plan)
    return plan.result


# ---------------------------------------------------------------- writing


def apply_push(client: AnkiConnect, deck: Deck, plan: PushPlan) -> None:
    """Send the plan's writes; on any failure raise PushInterrupted saying what was already
    written."""
    result = plan.result
    _send(client, plan.note_types + plan.decks + plan.media + plan.updates + plan.refiled, result)
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
    return card_moves(to_move, result)


def _send(client: AnkiConnect, writes: list[Write], result: PushResult) -> None:
    """The writes, in batches; what Anki confirmed is recorded in the result as it comes."""
    for start in range(0, len(writes), BATCH):
        batch = writes[start : start + BATCH]
        try:
            replies = client.multi_answers([(write.action, write.params) for write in batch])
        except (AnkiNotRunning, AnkiConnectError) as error:
            raise PushInterrupted(error, result, unanswered=len(batch)) from None
        except KeyboardInterrupt:  # Ctrl-C while Anki writes: say what it had written
            raise PushInterrupted(
                KeyboardInterrupt("interrupted"), result, unanswered=len(batch)
            ) from None
        failures = []
        for write, (value, refusal) in zip(batch, replies, strict=True):
            if refusal is None:
                write.record(value)
            else:
                failures.append(f"{write.action}: {refusal}")
        if failures:
            more = f" (and {len(failures) - 1} more failed)" if len(failures) > 1 else ""
            raise PushInterrupted(AnkiConnectError(failures[0] + more), result)
