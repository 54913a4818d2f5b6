"""The commands that write the deck in another form: export markdown|html|csv, preview, push.

Every output takes the same path (`write_output`): prepare the deck as `build` does (checks
included), hand it to the output's pure writer, print one line about what it wrote. A new output
is its writer (builder/<output>.py) plus a command here of a few lines (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import typer

from .ankiconnect import DEFAULT_URL
from .cli_options import (
    CARDS_OPTION,
    EXPORT_OUT_OPTION,
    FIGURES_OPTION,
    LANG_OPTION,
    Language,
    build_options,
)
from .cli_report import Report, err, plural, stages

Written = TypeVar("Written")


def write_output(
    cards: Path,
    figures: Path | None,
    lang: Language,
    writing: str,
    writer: Callable[..., Written],
    out: Path | None,
    default_name: str | None = None,
) -> tuple[Report, Written]:
    """prepare → `writer(prepared, out)`, source problems and OS errors reported; the Report and
    what the writer returned. Without `out`, the deck's dist/ (or `default_name` in it)."""
    from .prepare import prepare

    report = Report()
    with report.stopping(), stages() as progress:
        options = build_options(cards, figures)
        target = out or (options.out_dir / default_name if default_name else options.out_dir)
        prepared = prepare(options, lang.value, progress)
        progress(writing)
        written = writer(prepared, target)
    return report, written


def export_markdown(
    cards: Path = CARDS_OPTION,
    figures: Path | None = FIGURES_OPTION,
    out_dir: Path | None = EXPORT_OUT_OPTION,
    lang: Language = LANG_OPTION,
) -> None:
    """The cheat sheet as one Markdown file, <out>/<deck>-<version>.md, in the seed's order.

    Math stays in $...$ and $$...$$ (GitHub, Jekyll, Hugo, MkDocs...); deck macros are expanded;
    figures are copied to <out>/figures/ and linked from the document. Parts and section titles
    come from cards/outline.yaml.
    """
    from .export import write_markdown

    report, done = write_output(cards, figures, lang, "Writing Markdown", write_markdown, out_dir)
    report.done(
        f"Wrote {done.path}: {plural(done.entries, 'entry', 'entries')} in "
        f"{plural(done.parts, 'part')}, {plural(done.figures, 'figure')} in {done.figures_dir}"
    )
    report.finish()


def export_html(
    cards: Path = CARDS_OPTION,
    figures: Path | None = FIGURES_OPTION,
    out_dir: Path | None = EXPORT_OUT_OPTION,
    lang: Language = LANG_OPTION,
) -> None:
    """The cheat sheet as one self-contained page, <out>/<deck>-<version>.html.

    Every formula is typeset ahead of time (MathJax 3, SVG) and every figure embedded: the page
    runs no script, loads nothing, follows the system's day or night mode, and prints to PDF.
    """
    from .export import write_html

    report, done = write_output(cards, figures, lang, "Typesetting the page", write_html, out_dir)
    report.done(f"Wrote {done.path}: {done.entries:,} entries, {done.size:,} B, no external files")
    report.finish()


def export_csv(
    cards: Path = CARDS_OPTION,
    figures: Path | None = FIGURES_OPTION,
    out_dir: Path | None = EXPORT_OUT_OPTION,
    lang: Language = LANG_OPTION,
) -> None:
    """The notes as <out>/<deck>-<version>.csv for Anki's File ▸ Import (Anki 2.1.55+).

    Each row names its note type, deck, tags and GUID, so importing again updates the notes. Anki
    does not create note types from a CSV: import the .apkg once, or run `mathdeck push`, first.
    Figures go to <out>/<deck>-<version>-media/: copy them into Anki's collection.media folder.
    """
    from .export import write_csv

    report, done = write_output(cards, figures, lang, "Writing CSV", write_csv, out_dir)
    report.done(f"Wrote {done.path}: {plural(done.notes, 'note')}")
    if done.media:
        report.say(
            f"  {plural(done.media, 'figure file')} in {done.media_dir}: "
            "copy them into your collection.media folder"
        )
    report.finish()


def preview(
    cards: Path = CARDS_OPTION,
    figures: Path | None = FIGURES_OPTION,
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="<file>",
        help="Where to write the page (default: preview.html in the deck's dist/).",
    ),
    lang: Language = LANG_OPTION,
) -> None:
    """Write one offline HTML page with every card's front and back, day and night.

    Cards are rendered as Anki renders them (the official `anki` library).
    """
    from .preview import write_preview

    report, page = write_output(
        cards, figures, lang, "Rendering cards with Anki", write_preview, output, "preview.html"
    )
    report.done(
        f"{plural(page.cards, 'card')} → {page.path} ({page.path.stat().st_size:,} B); "
        "open it in a browser."
    )
    report.finish()


def push(
    context: typer.Context,
    cards: Path = CARDS_OPTION,
    figures: Path | None = FIGURES_OPTION,
    lang: Language = LANG_OPTION,
    url: str = typer.Option(
        DEFAULT_URL,
        "--url",
        metavar="<url>",
        envvar="ANKICONNECT_URL",
        help="Where AnkiConnect listens.",
    ),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        metavar="<key>",
        envvar="ANKICONNECT_API_KEY",
        help="AnkiConnect's apiKey, if you set one.",
    ),
) -> None:
    """Send the notes to a running Anki through the AnkiConnect add-on, updating notes in place.

    Notes are matched by their CardId field, so pushing again updates them instead of adding
    copies; only what differs is written, so pushing unchanged sources writes nothing. Missing
    note types and decks are created, figures stored, and new notes' cards filed in their
    subdecks. Nothing is deleted and no existing card changes deck or schedule. Anki must be open.
    """
    from .ankiconnect import AnkiConnect, BadUrl, check_url
    from .prepare import prepare
    from .push import push_deck

    report = Report()
    try:
        check_url(url, _given_as(context, "url", "--url", "ANKICONNECT_URL"))
        client = AnkiConnect(url, api_key)
    except BadUrl as error:
        report.usage_error(str(error))
    with report.stopping(), stages() as progress, _push_errors(report):
        progress(f"Connecting to Anki at {client.url}")
        client.require_version()  # before the checks: say at once that Anki is not there
        prepared = prepare(build_options(cards, figures), lang.value, progress)
        progress(f"Sending {plural(len(prepared.notes), 'note')} to Anki")
        result = push_deck(prepared, client)
    _print_push(report, result)
    report.finish()


def _given_as(context: typer.Context, parameter: str, option: str, variable: str) -> str:
    """How the user gave a value Typer read: the option, or the environment variable."""
    source = context.get_parameter_source(parameter)
    return variable if source is not None and source.name == "ENVIRONMENT" else option


@contextmanager
def _push_errors(report: Report) -> Iterator[None]:
    """A missing Anki, a refused match or a broken answer: one message and exit 1."""
    from .ankiconnect import AnkiConnectError, AnkiConnectionLost, AnkiNotAnswering, AnkiNotRunning
    from .push_match import PushConflict
    from .push_notes import PushInterrupted

    try:
        yield
    except (AnkiNotAnswering, AnkiConnectionLost) as error:
        report.failures.append(str(error))
        err.print(f"Anki did not answer: {error}. Nothing was written.", markup=False)
    except AnkiNotRunning as error:
        report.failures.append(str(error))
        err.print(
            f"Anki is not running (or the AnkiConnect add-on is not installed): {error}. "
            "Start Anki with AnkiConnect (add-on code 2055492159) and push again; "
            "nothing was written.",
            markup=False,
        )
    except PushConflict as error:
        report.failures += error.problems
        for problem in error.problems:
            err.print(problem, markup=False)
        err.print(
            "Notes in Anki must match cards one to one "
            "(delete or fix the extra notes in Anki's browser, "
            "search CardId:<id>); nothing was written.",
            markup=False,
        )
    except AnkiConnectError as error:
        report.failures.append(str(error))
        err.print(f"Push failed: {error}; nothing was written.", markup=False)
    except PushInterrupted as error:
        report.failures.append(str(error))
        err.print(_interrupted(error), markup=False)
        if isinstance(error.cause, KeyboardInterrupt):
            raise SystemExit(130) from None  # as an interrupted command ends (cli_report)
    else:
        return
    report.finish()


def _interrupted(error) -> str:
    """What a push stopped part-way (push_notes.PushInterrupted) had written, and what to do."""
    unsure = (
        f" The answer to the last request ({error.unanswered} actions) never came, "
        "so some of those may have been written too."
        if error.unanswered
        else ""
    )
    return (
        f"Push stopped part-way: {error.cause}. "
        f"Already written: {error.written.written()}.{unsure} "
        "Push again to finish (only what is still missing or different is written)."
    )


def _print_push(report: Report, result) -> None:
    report.done(
        f"Pushed to Anki: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; {len(result.media_stored)} media files stored"
        + (
            f"; note types created: {', '.join(result.note_types_created)}"
            if result.note_types_created
            else ""
        )
        + (
            f"; note types updated: {', '.join(result.note_types_updated)}"
            if result.note_types_updated
            else ""
        )
        + (
            f"; {result.cards_moved} new cards filed in their subdecks"
            if result.cards_moved
            else ""
        )
    )
    if result.written() == "nothing":
        report.say("Nothing was written: Anki already holds these notes.")
