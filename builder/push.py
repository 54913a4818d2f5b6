"""push: the built notes straight into a running Anki (AnkiConnect), no file between.

`push_deck` is the push's writer: like the export writers it takes what prepare.prepare() made;
the work (plan, then write only what differs) is in push_notes.py. It raises AnkiNotRunning and
AnkiConnectError (ankiconnect.py), PushConflict (push_match.py) and PushInterrupted
(push_notes.py), which cli_outputs.py turns into one message each.
"""

from __future__ import annotations

from .ankiconnect import AnkiConnect
from .prepare import PreparedDeck
from .push_notes import PushResult, push_notes


def push_deck(prepared: PreparedDeck, client: AnkiConnect) -> PushResult:
    """Send the prepared notes and their media to Anki through `client` (already connected:
    `client.require_version()` before preparing says at once when Anki is not there)."""
    return push_notes(client, prepared.deck, prepared.notes, prepared.media)
