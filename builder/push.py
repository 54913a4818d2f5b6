"""`mathdeck push`: the built notes straight into a running Anki (AnkiConnect), no file between.

Registered in cli.py with `app.command("push")(push_command)`. The work is in push_notes.py,
the client in ankiconnect.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .ankiconnect import DEFAULT_URL
from .export import CARDS_OPTION, FIGURES_OPTION, LANG_OPTION, Language, prepare_sources


def push_command(
    cards: Path = CARDS_OPTION,
    figures: Optional[Path] = FIGURES_OPTION,
    lang: Language = LANG_OPTION,
    url: str = typer.Option(DEFAULT_URL, "--url", envvar="ANKICONNECT_URL", help="Where AnkiConnect listens."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="ANKICONNECT_API_KEY", help="AnkiConnect's apiKey, if you set one."),
) -> None:
    """Send the notes to a running Anki through the AnkiConnect add-on, updating notes in place.

    Notes are matched by their CardId field, so pushing again updates them instead of adding
    copies; only what differs is written, so pushing unchanged sources writes nothing. Missing
    note types and decks are created, figures stored, and new notes' cards filed in their
    subdecks. Nothing is deleted and no existing card changes deck or schedule. Anki must be open.
    """
    from .ankiconnect import AnkiConnect, AnkiConnectError, AnkiNotRunning, BadUrl
    from .cli import _reporting_errors, _stages, err
    from .push_notes import PushConflict, PushInterrupted, push_notes

    try:
        client = AnkiConnect(url, api_key)
    except BadUrl as error:
        err.print(f"Usage error: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(2)
    with _reporting_errors(), _stages() as progress:
        try:
            progress(f"Connecting to Anki at {url}")
            client.require_version()  # before the checks: say at once that Anki is not there
            prepared = prepare_sources(cards, figures, lang, progress)
            progress(f"Sending {len(prepared.notes)} notes to Anki")
            result = push_notes(client, prepared.deck, prepared.notes, prepared.media)
        except AnkiNotRunning as error:
            err.print(f"Anki is not running (or the AnkiConnect add-on is not installed): {error}. "
                      "Start Anki with AnkiConnect (add-on code 2055492159) and push again; nothing was written.",
                      markup=False, soft_wrap=True)
            raise typer.Exit(1)
        except PushConflict as error:
            for problem in error.problems:
                err.print(f"{problem}", markup=False, soft_wrap=True)
            err.print("Notes in Anki must match cards one to one (delete or fix the extra notes in Anki's browser, "
                      "search CardId:<id>); nothing was written.", markup=False, soft_wrap=True)
            raise typer.Exit(1)
        except AnkiConnectError as error:
            err.print(f"Push failed: {error}; nothing was written.", markup=False, soft_wrap=True)
            raise typer.Exit(1)
        except PushInterrupted as error:
            err.print(_interrupted_message(error), markup=False, soft_wrap=True)
            raise typer.Exit(1)
    _print_summary(result)


def _interrupted_message(error) -> str:
    unsure = (f" The answer to the last request ({error.unanswered} actions) never came, so some of those may have been written too."
              if error.unanswered else "")
    return (f"Push stopped part-way: {error.cause}. Already written: {error.written.written()}.{unsure} "
            "Push again to finish (only what is still missing or different is written).")


def _print_summary(result) -> None:
    from .cli import out

    out.print(
        f"[green]✓[/] Pushed to Anki: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; {len(result.media_stored)} media files stored"
        + (f"; note types created: {', '.join(result.note_types_created)}" if result.note_types_created else "")
        + (f"; note types updated: {', '.join(result.note_types_updated)}" if result.note_types_updated else "")
        + (f"; {result.cards_moved} new cards filed in their subdecks" if result.cards_moved else "")
    )
    if result.written() == "nothing":
        out.print("Nothing was written: Anki already holds these notes.")
