"""`mathdeck export markdown|html|csv`: the deck's sources in the other formats they serve.

The same cards that make the .apkg make a Markdown cheat sheet (course notes, a blog), an
offline HTML page (print it to PDF) and an Anki CSV file, so nobody keeps two copies of a
formula. Every export runs the build's checks first and refuses broken sources the same way.
"""

from __future__ import annotations

import shutil
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .atomic import write_atomically

export_app = typer.Typer(
    name="export",
    help="Write the deck's sources as a Markdown or HTML cheat sheet, or as a CSV file for Anki's importer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


class Language(str, Enum):
    en = "en"
    en_zh = "en+zh"


# The same options as `mathdeck build` (defined again here: cli.py imports this module).
CARDS_OPTION = typer.Option(Path("cards"), "--cards", help="Folder with deck.yaml and the card files.", file_okay=False)
FIGURES_OPTION = typer.Option(None, "--figures", help="Folder of figure scripts (default: figures/ beside the cards folder).", file_okay=False)
OUT_OPTION = typer.Option(Path("dist"), "--out", help="Folder to write into.", file_okay=False)
LANG_OPTION = typer.Option(
    Language.en_zh, "--lang",
    help="en: English only (the Chinese terms, the Zh field, left empty); en+zh: with the Chinese terms.",
)


def prepare_sources(cards: Path, figures: Optional[Path], lang: Language, progress):
    """load → check → language → render → figures, as `build` does; see builder/prepare.py."""
    from .cli import _options
    from .prepare import prepare

    return prepare(_options(cards, Path("dist"), figures), lang.value, progress)


@export_app.command("markdown")
def markdown_command(
    cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION, out_dir: Path = OUT_OPTION, lang: Language = LANG_OPTION,
) -> None:
    """The cheat sheet as one Markdown file, <out>/<deck>-<version>.md, in the seed's order.

    Math stays in $...$ and $$...$$ (GitHub, Jekyll, Hugo, MkDocs...); deck macros are expanded;
    figures are copied to <out>/figures/ and linked from the document. Parts and section titles
    come from cards/outline.yaml.
    """
    from .cli import _reporting_errors, _stages, out
    from .sheet_markdown import sheet_markdown

    with _reporting_errors(), _stages() as progress:
        prepared = prepare_sources(cards, figures, lang, progress)
        sheet = _sheet(cards, prepared)
        progress("Writing Markdown")
        links = {name: f"figures/{files.light}" for name, files in prepared.figures.items()}
        text = sheet_markdown(sheet, prepared.deck.config.description, prepared.deck.config.macros, links)
        copied = _copy_files([prepared.media_file(files.light) for files in prepared.figures.values()], out_dir / "figures")
        path = out_dir / f"{prepared.deck.file_stem}.md"
        write_atomically(path, text.encode("utf-8"))  # last: the document never links a missing figure
    out.print(f"[green]✓[/] Wrote {path}: {len(sheet.notes)} entries in {len(sheet.parts)} parts, {copied} figures in {out_dir / 'figures'}")


@export_app.command("html")
def html_command(
    cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION, out_dir: Path = OUT_OPTION, lang: Language = LANG_OPTION,
) -> None:
    """The cheat sheet as one self-contained page, <out>/<deck>-<version>.html.

    Every formula is typeset ahead of time (MathJax 3, SVG) and every figure embedded: the page
    runs no script, loads nothing, follows the system's day or night mode, and prints to PDF.
    """
    from .cli import _reporting_errors, _stages, out
    from .render import render_description
    from .sheet_html import sheet_html

    with _reporting_errors(), _stages() as progress:
        prepared = prepare_sources(cards, figures, lang, progress)
        sheet = _sheet(cards, prepared)
        progress("Typesetting the page")
        page = sheet_html(sheet, render_description(prepared.deck), prepared.media, prepared.deck.config.tex_links)
        path = out_dir / f"{prepared.deck.file_stem}.html"
        write_atomically(path, page.encode("utf-8"))
    out.print(f"[green]✓[/] Wrote {path}: {len(sheet.notes)} entries, {len(page.encode()):,} B, no external files")


@export_app.command("csv")
def csv_command(
    cards: Path = CARDS_OPTION, figures: Optional[Path] = FIGURES_OPTION, out_dir: Path = OUT_OPTION, lang: Language = LANG_OPTION,
) -> None:
    """The notes as <out>/<deck>-<version>.csv for Anki's File ▸ Import (Anki 2.1.55+).

    Each row names its note type, deck, tags and GUID, so importing again updates the notes. Anki
    does not create note types from a CSV: import the .apkg once, or run `mathdeck push`, first.
    Figures go to <out>/<deck>-<version>-media/: copy them into Anki's collection.media folder.
    """
    from .cli import _reporting_errors, _stages, out
    from .notes_csv import notes_csv

    with _reporting_errors(), _stages() as progress:
        prepared = prepare_sources(cards, figures, lang, progress)
        progress("Writing CSV")
        media_dir = out_dir / f"{prepared.deck.file_stem}-media"
        copied = _copy_files(prepared.media, media_dir)
        path = out_dir / f"{prepared.deck.file_stem}.csv"
        write_atomically(path, notes_csv(prepared.deck, prepared.notes).encode("utf-8"))
    out.print(f"[green]✓[/] Wrote {path}: {len(prepared.notes)} notes")
    if copied:
        out.print(f"  {copied} figure files in {media_dir}: copy them into your collection.media folder")


def _sheet(cards: Path, prepared):
    from .problems import SourceError
    from .sheet import build_sheet, load_outline, outline_problems

    outline = load_outline(cards)
    problems = outline_problems(outline, prepared.deck)
    if problems:
        raise SourceError(problems)
    return build_sheet(prepared.deck, prepared.notes, outline)


def _copy_files(files: list[Path], folder: Path) -> int:
    if files:
        folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        target = folder / file.name
        if not target.exists() or target.read_bytes() != file.read_bytes():
            shutil.copyfile(file, target)
    return len(files)
