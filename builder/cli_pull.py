"""`mathdeck pull`: fixes made in Anki back to the card sources (issue 17), by pull.py."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from .ankiconnect import DEFAULT_URL
from .cli_options import CARDS_OPTION, FIGURES_OPTION, build_options
from .cli_report import Report, err, out, stages


def pull(
    source: str | None = typer.Argument(
        None,
        metavar="SOURCE",
        help="An .apkg or .colpkg exported from Anki, or a profile's collection.anki2; with "
        "--ankiconnect, AnkiConnect's URL (default http://127.0.0.1:8765).",
    ),
    cards: Path = CARDS_OPTION,
    figures: Path | None = FIGURES_OPTION,
    ankiconnect: bool = typer.Option(
        False, "--ankiconnect", help="Read the notes from a running Anki through AnkiConnect."
    ),
    apply: bool = typer.Option(
        False, "--apply", help="Write the changes into the card files (once `check` passed)."
    ),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        metavar="<key>",
        envvar="ANKICONNECT_API_KEY",
        help="AnkiConnect's apiKey, if you set one (with --ankiconnect).",
    ),
) -> None:
    """Bring fixes made in Anki back to the sources: a unified diff per card, then a summary.

    Notes are found by their CardId field. Each field edited in Anki is converted back to
    Markdown with math; a field also changed in the sources since is a conflict, shown with
    both versions and left alone. Notes without a CardId become new cards in cards/pulled.yaml.
    Scheduling, tags, CardId and Figure are never taken from Anki; nothing is ever deleted.
    """
    from .pull import pull as run_pull

    report = Report()
    notes = _notes_to_pull(report, source, ankiconnect, api_key)
    with report.stopping(), stages() as progress:
        result = run_pull(build_options(cards, figures), notes, apply, progress)
    for text in result.report(apply):
        out.print(text, markup=False, end="" if text.endswith("\n") else "\n")
    report.finish()


def _notes_to_pull(
    report: Report, source: str | None, ankiconnect: bool, api_key: str | None
) -> list:
    """The notes in Anki, from a file or AnkiConnect; a usage error (2) or unreadable source (1)."""
    from .anki_notes import UnreadableCollection, read_ankiconnect, read_notes
    from .ankiconnect import AnkiConnect, AnkiConnectError, AnkiNotRunning, BadUrl, check_url
    from .kinds import KINDS

    if not ankiconnect and source is None:
        report.usage_error("give an .apkg, .colpkg or collection.anki2, or --ankiconnect")
    try:
        if source is None or ankiconnect:
            url = source or os.environ.get("ANKICONNECT_URL") or DEFAULT_URL
            check_url(url, "SOURCE" if source else "ANKICONNECT_URL")
            note_types = [kind.note_type_name for kind in KINDS.values()]
            return read_ankiconnect(AnkiConnect(url, api_key), note_types)
        return read_notes(Path(source))
    except BadUrl as error:
        report.usage_error(str(error))
    except (UnreadableCollection, AnkiNotRunning, AnkiConnectError) as error:
        report.failures.append(str(error))
        err.print(f"cannot pull: {error}; nothing was written.", markup=False)
        raise typer.Exit(report.exit_code) from None
