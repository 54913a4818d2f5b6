"""push: the built notes straight into a running Anki (AnkiConnect), no file between.

`mathdeck push` (cli.py) calls push_deck and reports its result or its exceptions: AnkiNotRunning
and AnkiConnectError (ankiconnect.py), PushConflict and PushInterrupted (push_notes.py, where the
work is done).
"""

from __future__ import annotations

from .ankiconnect import AnkiConnect
from .build import BuildOptions, Progress, quiet
from .prepare import prepare
from .push_notes import PushResult, push_notes


def push_deck(client: AnkiConnect, options: BuildOptions, lang: str, progress: Progress = quiet) -> PushResult:
    """Check and render the sources as `build` does and send the notes to Anki through `client`."""
    progress(f"Connecting to Anki at {client.url}")
    client.require_version()  # before the checks: say at once that Anki is not there
    prepared = prepare(options, lang, progress)
    progress(f"Sending {len(prepared.notes)} notes to Anki")
    return push_notes(client, prepared.deck, prepared.notes, prepared.media)


def interrupted_message(error) -> str:
    """What a push stopped part-way (push_notes.PushInterrupted) had written, and what to do."""
    unsure = (f" The answer to the last request ({error.unanswered} actions) never came, so some of those may have been written too."
              if error.unanswered else "")
    return (f"Push stopped part-way: {error.cause}. Already written: {error.written.written()}.{unsure} "
            "Push again to finish (only what is still missing or different is written).")
