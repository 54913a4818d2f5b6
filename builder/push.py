"""`mathdeck push`: the built notes straight into a running Anki (AnkiConnect), no file between.

Registered in cli.py with `app.command("push")(push_command)`. The work is in ankiconnect.py.
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
    copies, and only notes that changed are written. Missing note types and decks are created,
    figures stored. Nothing is deleted and no card changes deck or schedule. Anki must be open.
    """
    from .ankiconnect import AnkiConnect, AnkiConnectError, AnkiNotRunning, push_notes
    from .cli import _reporting_errors, _stages, err, out

    client = AnkiConnect(url, api_key)
    with _reporting_errors(), _stages() as progress:
        try:
            progress(f"Connecting to Anki at {url}")
            client.require_version()  # before the checks: say at once that Anki is not there
            prepared = prepare_sources(cards, figures, lang, progress)
            progress(f"Sending {len(prepared.notes)} notes to Anki")
            result = push_notes(client, prepared.deck, prepared.notes, prepared.media)
        except AnkiNotRunning as error:
            err.print(f"[bold red]Anki is not running[/] (or the AnkiConnect add-on is not installed): {error}.", markup=True)
            err.print("Start Anki with AnkiConnect (add-on code 2055492159) and push again; nothing was sent.", markup=False)
            raise typer.Exit(1)
        except AnkiConnectError as error:
            err.print(f"[bold red]AnkiConnect refused:[/] {error}", markup=True)
            raise typer.Exit(1)
    out.print(
        f"[green]✓[/] Pushed to Anki: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; {len(result.media_stored)} media files stored"
        + (f"; note types created: {', '.join(result.note_types_created)}" if result.note_types_created else "")
    )
    if result.duplicates:
        out.print(f"[yellow]![/] {len(result.duplicates)} card ids are on more than one note in Anki (all were updated): "
                  + ", ".join(result.duplicates[:10]))
