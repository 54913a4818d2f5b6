"""The command line: the only place that prints, shows progress and chooses exit codes.

Exit codes: 0 success, 1 problems in the sources (or a failing figure script), 2 usage errors.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.table import Table

from .ankiconnect import DEFAULT_URL
from .problems import Problem, SourceError, errors_in, warnings_in

app = typer.Typer(
    name="mathdeck",
    help="Build math-heavy Anki decks from plain-text card sources.\n\n"
    "cards/*.yaml → checked → Markdown + MathJax notes (+ figures from figures/*.py) → dist/<deck>-<version>.apkg",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

def _default_deck_dir() -> Path:
    from .project import default_deck_dir

    return default_deck_dir()


CARDS_OPTION = typer.Option(
    _default_deck_dir, "--cards", show_default="cards/, or . when it holds deck.yaml",
    help="The deck folder: deck.yaml and the card files.", file_okay=False,
)
OUT_OPTION = typer.Option(None, "--out", help="Where the .apkg goes (default: the deck's dist/, see `paths:` in deck.yaml).", file_okay=False)
ALLOW_NOTE_TYPE_CHANGE = typer.Option(
    False, "--allow-note-type-change",
    help="Accept a change of note-type fields or templates since the last release (forces learners to a full AnkiWeb sync).",
)
FIGURES_OPTION = typer.Option(None, "--figures", help="Folder of figure scripts (default: the deck's figures/, see `paths:` in deck.yaml).", file_okay=False)


def _options(cards: Path, out_dir: Optional[Path], figures: Optional[Path], force: bool = False, check_math: bool = True, **more):
    from .build import BuildOptions

    return BuildOptions.for_deck(cards, out_dir, figures, force=force, check_math=check_math, **more)


def _print_problems(problems: list[Problem]) -> None:
    for problem in sorted(problems):
        # emoji=False: Rich would show `cards.yaml:100:12:` with :100: as an emoji
        err.print(str(problem), markup=False, emoji=False, soft_wrap=True)
    warned = len(warnings_in(problems))
    if warned:
        err.print(f"[yellow]{warned} warning{'s' if warned != 1 else ''}[/] (the build goes on; each names its fix)")


@contextmanager
def _reporting_errors() -> Iterator[None]:
    """Source problems, failing figure scripts and OS errors (full disk, read-only folder) end
    the run with exit 1 and no traceback, saying what was and was not written."""
    from .commit import WriteError
    from .figures import FigureError
    from .mathjax import MathJaxUnavailable

    try:
        yield
    except WriteError as error:
        err.print(f"[bold red]error:[/] {error}", soft_wrap=True)
        err.print(_written_report(error), markup=False, soft_wrap=True)
        raise typer.Exit(1)
    except OSError as error:
        from .commit import os_error_text

        err.print(f"[bold red]error:[/] {os_error_text(error)}; nothing was written.", soft_wrap=True)
        raise typer.Exit(1)
    except SourceError as error:
        _print_problems(error.problems)
        count = len(errors_in(error.problems))
        err.print(f"[bold red]{count} problem{'s' if count != 1 else ''}[/]; nothing was written.")
        raise typer.Exit(1)
    except FigureError as error:
        err.print(f"[bold red]figure '{error.name}' failed[/]; nothing was written. Its traceback:")
        err.print(error.traceback_text, markup=False)
        raise typer.Exit(1)
    except MathJaxUnavailable as error:
        err.print(f"[bold red]cannot check formulas:[/] {error}", markup=True)
        raise typer.Exit(1)


def _written_report(error) -> str:
    from .problems import Location

    shown = lambda paths: ", ".join(str(Location(path)) for path in paths) or "nothing"  # noqa: E731
    return (f"Written: {shown(error.written)}. Not written: {shown(error.not_written)} (files already there are untouched). "
            "Fix the cause and run the same command again: it completes what is missing.")


@contextmanager
def _stages() -> Iterator:
    """A spinner naming the current stage (on stderr, so stdout stays clean for the summary)."""
    with err.status("Starting", spinner="dots") as status:
        yield lambda stage: status.update(stage)


@app.command()
def build(
    cards: Path = CARDS_OPTION,
    out_dir: Path = OUT_OPTION,
    figures: Optional[Path] = FIGURES_OPTION,
    force: bool = typer.Option(False, "--force", help="Replace a file under a release's name whose bytes differ (never needed after an edit: that build goes to <deck>-<version>+dev.apkg)."),
    allow_note_type_change: bool = ALLOW_NOTE_TYPE_CHANGE,
    lang: str = typer.Option("en+zh", "--lang", help="en+zh: with the established Chinese terms; en: English only, written to <deck>-<version>-en.apkg."),
) -> None:
    """Check the sources, then build dist/<deck>-<version>+dev.apkg (or <deck>-<version>.apkg when they are the last release).

    A rebuild updates learners' notes in place: each note carries the time its content last
    changed (kept in cards/mathdeck.lock.json; set SOURCE_DATE_EPOCH for reproducible builds).
    """
    from .build import build as run_build
    from .model import LANGUAGES

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of {', '.join(LANGUAGES)}", param_hint="--lang")
    with _reporting_errors(), _stages() as progress:
        result = run_build(_options(cards, out_dir, figures, force, allow_note_type_change=allow_note_type_change, lang=lang), progress)
    _print_summary(result)


@app.command("new")
def new_command(
    folder: Path = typer.Argument(..., help="The new deck's folder (absent or empty); its name gives the deck's title and file names."),
    title: Optional[str] = typer.Option(None, "--title", help="The deck's name in Anki (default: from the folder's name)."),
) -> None:
    """Start a deck: deck.yaml with ids of its own, one example card of each kind, a figure script
    and a README. `mathdeck build` in the folder works at once."""
    from .scaffold import ScaffoldError, new_deck

    try:
        made = new_deck(folder, title)
    except ScaffoldError as error:
        err.print(f"Usage error: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(2)
    out.print(f"[green]✓[/] Created the deck '{made.title}' in {folder}: {', '.join(map(str, made.files))}", soft_wrap=True)
    out.print(f"  Next: cd {folder} && mathdeck build   (then import dist/{made.slug}-0.0.0+dev.apkg into Anki)", markup=False, soft_wrap=True)


@app.command()
def release(
    major: bool = typer.Option(False, "--major", help="Bump MAJOR (x.0.0)."),
    minor: bool = typer.Option(False, "--minor", help="Bump MINOR (0.x.0)."),
    patch: bool = typer.Option(False, "--patch", help="Bump PATCH (0.0.x); the default."),
    cards: Path = CARDS_OPTION,
    out_dir: Path = OUT_OPTION,
    figures: Optional[Path] = FIGURES_OPTION,
    allow_note_type_change: bool = ALLOW_NOTE_TYPE_CHANGE,
) -> None:
    """Bump the version in deck.yaml, build the release and write its CHANGELOG.md entry.

    The entry lists the cards added, changed and retired since the previous release (remembered
    in cards/mathdeck.lock.json) and is shown in the deck's description in Anki.
    """
    from .build import build as run_build

    chosen = [name for name, flag in (("major", major), ("minor", minor), ("patch", patch)) if flag]
    if len(chosen) > 1:
        raise typer.BadParameter("choose one of --major, --minor, --patch")
    part = chosen[0] if chosen else "patch"
    with _reporting_errors(), _stages() as progress:
        result = run_build(_options(cards, out_dir, figures, release=part, allow_note_type_change=allow_note_type_change), progress)
    _print_summary(result)
    changes = result.changes
    if result.resumed_release:
        out.print(f"Finished the interrupted release {result.deck.config.version}; CHANGELOG.md updated.")
        return
    out.print(f"Released {result.deck.config.version}: {len(changes.added)} added, {len(changes.changed)} changed, "
              f"{len(changes.retired)} retired; CHANGELOG.md updated.")


@app.command()
def watch(cards: Path = CARDS_OPTION, out_dir: Path = OUT_OPTION, figures: Optional[Path] = FIGURES_OPTION) -> None:
    """Rebuild dist/<deck>-<version>-dev.apkg on every save, printing only what changed. Ctrl-C stops."""
    from .watch import watch as run_watch

    out.print(f"Watching {cards} and {figures or 'figures'} (Ctrl-C to stop)")
    run_watch(_options(cards, out_dir, figures), _print_rebuild)


def _print_rebuild(rebuild) -> None:
    stamp = time.strftime("%H:%M:%S")
    if rebuild.error is not None:
        problems = getattr(rebuild.error, "problems", None)
        for line in (sorted(problems) if problems else [_error_line(rebuild.error)]):
            err.print(str(line), markup=False, soft_wrap=True)
        err.print(f"[{stamp}] [red]build failed[/] ({rebuild.seconds:.2f} s); waiting for the next save")
        return
    parts = [f"{label} {', '.join(ids)}" for label, ids in (("added", rebuild.added), ("changed", rebuild.changed), ("removed", rebuild.removed)) if ids]
    summary = "; ".join(parts) or "no card changed"
    out.print(f"[{stamp}] {summary} → {rebuild.result.path} ({rebuild.seconds:.2f} s)", soft_wrap=True)


def _error_line(error: BaseException) -> str:
    from .commit import WriteError, os_error_text
    from .figures import FigureError

    if isinstance(error, WriteError):
        return f"{error}. {_written_report(error)}"
    if isinstance(error, FigureError):
        return f"figure '{error.name}' failed:\n{error.traceback_text}"
    if isinstance(error, OSError):
        return os_error_text(error)
    return f"{type(error).__name__}: {error} (a bug in mathdeck: please report it)"


@app.command()
def lock(
    cards: Path = CARDS_OPTION,
    out_dir: Path = OUT_OPTION,
    figures: Optional[Path] = FIGURES_OPTION,
    repair: bool = typer.Option(False, "--repair", help="Rewrite a conflicted, truncated or damaged lock file from what can be trusted in it, the last .apkg and the sources."),
) -> None:
    """Check cards/mathdeck.lock.json, or repair it with --repair.

    The lock keeps the time each card last changed (so Anki updates exactly the edited notes) and
    the last release. --repair merges both sides of a git merge conflict (each card keeps its later
    time, the newer release wins), drops entries it cannot read or trust (wrong types, times
    before 2000 or in the future), and reads the lost times back from the newest
    dist/<deck>-<version>.apkg for every card whose note there matches the sources. A card
    whose time is still missing gets the next build's time, so learners' copies of it update
    once more. Commit the repaired file.
    """
    from .identity import LOCK_FILE, read_lock

    path = cards / LOCK_FILE
    with _reporting_errors():
        if not repair:
            read_lock(cards)
            out.print(f"[green]✓[/] {path} is valid.")
            return
        if not path.exists():
            out.print(f"{path} does not exist: the next build writes it.")
            return
        from .build import repair_lock_file

        repaired, package = repair_lock_file(_options(cards, out_dir, figures))
    for reason in repaired.dropped:
        err.print(f"dropped {reason}", markup=False, soft_wrap=True)
    sides = " (both sides of a merge conflict)" if repaired.sides > 1 else ""
    restored = f", {repaired.restored} read back from {package}" if package is not None else ""
    out.print(f"[green]✓[/] Repaired {path}{sides}: {repaired.kept} note times kept{restored}, "
              f"{len(repaired.dropped)} entries dropped. Commit it.", soft_wrap=True)


@app.command()
def check(cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION) -> None:
    """Validate the sources (YAML, keys, ids, figures, raw HTML, every formula through MathJax) without writing anything."""
    from .build import load_and_check

    with _reporting_errors(), _stages() as progress:
        deck, _, warnings = load_and_check(_options(cards, None, figures), progress)
    _print_problems(warnings)
    out.print(f"[green]✓[/] {len(deck.cards)} cards checked, no errors" + (f", {len(warnings)} warnings." if warnings else "."))


@app.command("preview")
def preview_command(
    cards: Path = CARDS_OPTION,
    figures: Optional[Path] = FIGURES_OPTION,
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write the page (default: preview.html in the deck's dist/)."),
) -> None:
    """Write one offline HTML page with every card's front and back, day and night, as Anki renders them."""
    from .preview import preview

    with _reporting_errors(), _stages() as progress:
        options = _options(cards, None, figures)
        path, count = preview(options, output or options.out_dir / "preview.html", progress)
    out.print(f"[green]✓[/] {count} cards → {path} ({path.stat().st_size:,} B); open it in a browser.")


@app.command("figures")
def figures_command(cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION) -> None:
    """Draw every figure (day and night) into the cache, re-running only scripts that changed."""
    from . import figures as figure_stage

    options = _options(cards, None, figures)
    with _reporting_errors(), _stages() as progress:
        plans = figure_stage.plan_figures(options.figures_dir)
        progress(f"Drawing {len(plans)} figures")
        results = {}
        files = figure_stage.make_figures(plans.values(), options.cache_dir, on_done=lambda plan, cached: results.__setitem__(plan.name, cached))
    table = Table("figure", "status", "day", "night", title="Figures")
    for name, (light, dark) in sorted(files.items()):
        table.add_row(name, "cached" if results.get(name) else "drawn", f"{light.stat().st_size:,} B", f"{dark.stat().st_size:,} B")
    out.print(table)


@app.command("coverage")
def coverage_command(
    cards: Path = CARDS_OPTION,
    show_all: bool = typer.Option(False, "--all", help="List every seed item, not only the uncovered ones."),
) -> None:
    """List the seed's items (cards/seed/*.yaml) against the cards that cover them; exit 1 if one is uncovered."""
    from .coverage import coverage, load_seed_items
    from .load import load_deck

    with _reporting_errors():
        deck = load_deck(cards)
        result, problems = coverage(deck, load_seed_items(cards))
        table = Table("seed item", "text", "cards", title="Seed coverage")
        for item in result.items:
            if show_all or not result.covering[item.id]:
                table.add_row(item.id, item.text, ", ".join(result.covering[item.id]) or "[red]none[/]")
        out.print(table)
        out.print(f"{len(result.items) - len(result.uncovered)}/{len(result.items)} seed items covered by {len(deck.cards)} cards")
        if problems:
            raise SourceError(problems)


def _print_summary(result) -> None:
    from .commit import DEV_SUFFIX

    _print_problems(result.warnings)
    table = Table(title=f"{result.deck.config.title} {result.deck.config.version}", show_header=False)
    for kind, count in sorted(result.cards_by_kind.items()):
        table.add_row(f"{kind} cards", str(count))
    table.add_row("notes", str(len(result.notes)))
    table.add_row("Anki cards", str(result.anki_cards))
    table.add_row("subdecks", str(len({n.subdeck for n in result.notes})))
    table.add_row("media files", f"{len(result.media)} ({sum(p.stat().st_size for p in result.media):,} B)")
    table.add_row("figures", f"{result.figures_drawn} drawn, {result.figures_cached} cached")
    table.add_row("package size", f"{result.size:,} B")
    table.add_row("time", f"{result.seconds:.2f} s")
    out.print(table)
    verb = {"written": "Wrote", "replaced": "Replaced", "unchanged": "Unchanged:"}[result.status]
    out.print(f"[green]✓[/] {verb} {result.path}")
    if result.path.name.endswith(f"{DEV_SUFFIX}.apkg"):
        base = f"release {result.released} plus your edits" if result.released else "nothing released yet"
        over = "the release or an earlier build" if result.released else "an earlier build"
        out.print(f"  A development build ({base}): import it over {over}, and the edited notes update in place. "
                  "`mathdeck release` makes a version.", soft_wrap=True)


@app.command("bench")
def bench_command(
    sizes: str = typer.Option("200,2000,20000", "--sizes", help="Sizes of the synthetic decks, in cards, comma-separated."),
    runs: int = typer.Option(3, "--runs", min=1, help="Runs of each case: the table shows their median, min and max."),
    formulas: int = typer.Option(20000, "--formulas", min=0, help="Distinct formulas for the MathJax case (0 leaves it out)."),
    flagship: bool = typer.Option(True, "--flagship/--no-flagship", help="Time a one-card edit of the flagship deck (cards/, figures/)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Time drawing every flagship figure with no cache."),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Keep the generated projects in a new folder under this one.", file_okay=False),
) -> None:
    """Time whole `mathdeck build` processes: the flagship with one card edited, synthetic decks
    (formula, qa and code cards, several formulas each) cold and with one card edited, MathJax on
    20,000 formulas, the figures cold. Prints median, min, max and the ratio to genanki's bare
    write_to_file of the same notes; takes a few minutes at the default sizes."""
    from .bench import BenchOptions, format_table, linearity, run_bench

    try:
        counts = tuple(int(size.replace("_", "")) for size in sizes.split(",") if size.strip())
    except ValueError:
        raise typer.BadParameter(f"--sizes takes whole numbers separated by commas, not '{sizes}'")
    options = BenchOptions(sizes=counts, runs=runs, formulas=formulas, flagship=flagship, figures=figures, work_dir=keep)
    with _reporting_errors():
        rows = run_bench(options, report=lambda line: err.print(line, markup=False, highlight=False))
    out.print(format_table(rows), markup=False, highlight=False, soft_wrap=True)
    out.print(linearity(rows), markup=False, highlight=False, soft_wrap=True)
    missed = [row.case for row in rows if row.within_target is False]
    out.print(f"missed: {'; '.join(missed)}" if missed else "every row within its target", markup=False)


# ---------------------------------------------------------------- export, push

export_app = typer.Typer(
    name="export",
    help="Write the deck's sources as a Markdown or HTML cheat sheet, or as a CSV file for Anki's importer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(export_app, name="export")


class Language(str, Enum):
    en = "en"
    en_zh = "en+zh"


EXPORT_OUT_OPTION = typer.Option(None, "--out", help="Folder to write into (default: the deck's dist/).", file_okay=False)
LANG_OPTION = typer.Option(
    Language.en_zh, "--lang",
    help="en: English only (the Chinese terms, the Zh field, left empty); en+zh: with the Chinese terms.",
)


@export_app.command("markdown")
def export_markdown_command(
    cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION, out_dir: Path = EXPORT_OUT_OPTION, lang: Language = LANG_OPTION,
) -> None:
    """The cheat sheet as one Markdown file, <out>/<deck>-<version>.md, in the seed's order.

    Math stays in $...$ and $$...$$ (GitHub, Jekyll, Hugo, MkDocs...); deck macros are expanded;
    figures are copied to <out>/figures/ and linked from the document. Parts and section titles
    come from cards/outline.yaml.
    """
    from .export import export_markdown

    with _reporting_errors(), _stages() as progress:
        options = _options(cards, None, figures)
        done = export_markdown(options, out_dir or options.out_dir, lang.value, progress)
    out.print(f"[green]✓[/] Wrote {done.path}: {done.entries} entries in {done.parts} parts, {done.figures} figures in {done.figures_dir}")


@export_app.command("html")
def export_html_command(
    cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION, out_dir: Path = EXPORT_OUT_OPTION, lang: Language = LANG_OPTION,
) -> None:
    """The cheat sheet as one self-contained page, <out>/<deck>-<version>.html.

    Every formula is typeset ahead of time (MathJax 3, SVG) and every figure embedded: the page
    runs no script, loads nothing, follows the system's day or night mode, and prints to PDF.
    """
    from .export import export_html

    with _reporting_errors(), _stages() as progress:
        options = _options(cards, None, figures)
        done = export_html(options, out_dir or options.out_dir, lang.value, progress)
    out.print(f"[green]✓[/] Wrote {done.path}: {done.entries} entries, {done.size:,} B, no external files")


@export_app.command("csv")
def export_csv_command(
    cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION, out_dir: Path = EXPORT_OUT_OPTION, lang: Language = LANG_OPTION,
) -> None:
    """The notes as <out>/<deck>-<version>.csv for Anki's File ▸ Import (Anki 2.1.55+).

    Each row names its note type, deck, tags and GUID, so importing again updates the notes. Anki
    does not create note types from a CSV: import the .apkg once, or run `mathdeck push`, first.
    Figures go to <out>/<deck>-<version>-media/: copy them into Anki's collection.media folder.
    """
    from .export import export_csv

    with _reporting_errors(), _stages() as progress:
        options = _options(cards, None, figures)
        done = export_csv(options, out_dir or options.out_dir, lang.value, progress)
    out.print(f"[green]✓[/] Wrote {done.path}: {done.notes} notes")
    if done.media:
        out.print(f"  {done.media} figure files in {done.media_dir}: copy them into your collection.media folder")


@app.command("push")
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
    from .ankiconnect import AnkiConnect, BadUrl

    try:
        client = AnkiConnect(url, api_key)
    except BadUrl as error:
        err.print(f"Usage error: {error}", markup=False, soft_wrap=True)
        raise typer.Exit(2)
    with _reporting_errors(), _stages() as progress, _reporting_push_errors():
        result = _push(client, cards, figures, lang, progress)
    _print_push_summary(result)


def _push(client, cards: Path, figures: Optional[Path], lang: Language, progress):
    from .push import push_deck

    return push_deck(client, _options(cards, None, figures), lang.value, progress)


@contextmanager
def _reporting_push_errors() -> Iterator[None]:
    """A missing Anki, a refused match or a broken answer: one message and exit 1."""
    from .ankiconnect import AnkiConnectError, AnkiNotRunning
    from .push import interrupted_message
    from .push_notes import PushConflict, PushInterrupted

    try:
        yield
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
        err.print(interrupted_message(error), markup=False, soft_wrap=True)
        raise typer.Exit(1)


def _print_push_summary(result) -> None:
    out.print(
        f"[green]✓[/] Pushed to Anki: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged; {len(result.media_stored)} media files stored"
        + (f"; note types created: {', '.join(result.note_types_created)}" if result.note_types_created else "")
        + (f"; note types updated: {', '.join(result.note_types_updated)}" if result.note_types_updated else "")
        + (f"; {result.cards_moved} new cards filed in their subdecks" if result.cards_moved else "")
    )
    if result.written() == "nothing":
        out.print("Nothing was written: Anki already holds these notes.")


def main() -> None:
    from . import mathjax

    mathjax.install_notice = lambda message: err.print(message, markup=False, soft_wrap=True)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
if __name__ == "__main__":
    main()
