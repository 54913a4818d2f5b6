"""export: the deck's sources in the other formats they serve (`mathdeck export markdown|html|csv`).

The same cards that make the .apkg make a Markdown cheat sheet (course notes, a blog), an
offline HTML page (print it to PDF) and an Anki CSV file, so nobody keeps two copies of a
formula. Each `write_<format>(prepared, out_dir)` is a pure writer: it takes what
prepare.prepare() made (so broken sources were refused the same way as by `build`), writes its
files and returns what it wrote. It does not print or exit; cli_outputs.py does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .commit import write_in_order
from .prepare import PreparedDeck


@dataclass(frozen=True)
class MarkdownExport:
    path: Path
    entries: int
    parts: int
    figures: int  # figure files copied to figures_dir
    figures_dir: Path


@dataclass(frozen=True)
class HtmlExport:
    path: Path
    entries: int
    size: int  # bytes of the page, which holds everything


@dataclass(frozen=True)
class CsvExport:
    path: Path
    notes: int
    media: int  # figure files copied to media_dir
    media_dir: Path


def write_markdown(prepared: PreparedDeck, out_dir: Path) -> MarkdownExport:
    """The cheat sheet as one Markdown file, <out>/<deck>-<version>.md, figures in <out>/figures/"""
    from .sheet_markdown import sheet_markdown

    sheet = _sheet(prepared)
    links = {name: f"figures/{files.light}" for name, files in prepared.figures.items()}
    text = sheet_markdown(
        sheet, prepared.deck.config.description, prepared.deck.config.macros, links
    )
    figures_dir = out_dir / "figures"
    figures = [prepared.media_file(files.light) for files in prepared.figures.values()]
    path = out_dir / f"{prepared.deck.file_stem}.md"
    # the document last: it never links a missing figure
    write_in_order([*_copies(figures, figures_dir), (path, text.encode("utf-8"))])
    return MarkdownExport(path, len(sheet.notes), len(sheet.parts), len(figures), figures_dir)


def write_html(prepared: PreparedDeck, out_dir: Path) -> HtmlExport:
    """The cheat sheet as one self-contained page, <out>/<deck>-<version>.html."""
    from .render import render_description
    from .sheet_html import sheet_html

    sheet = _sheet(prepared)
    page = sheet_html(
        sheet, render_description(prepared.deck), prepared.media, prepared.deck.config.tex_links
    )
    path = out_dir / f"{prepared.deck.file_stem}.html"
    data = page.encode("utf-8")
    write_in_order([(path, data)])
    return HtmlExport(path, len(sheet.notes), len(data))


def write_csv(prepared: PreparedDeck, out_dir: Path) -> CsvExport:
    """The notes as <out>/<deck>-<version>.csv for Anki's importer.

    Figures go to <out>/<deck>-<version>-media/.
    """
    from .notes_csv import notes_csv

    media_dir = out_dir / f"{prepared.deck.file_stem}-media"
    path = out_dir / f"{prepared.deck.file_stem}.csv"
    csv = notes_csv(prepared.deck, prepared.notes).encode("utf-8")
    write_in_order([*_copies(prepared.media, media_dir), (path, csv)])
    return CsvExport(path, len(prepared.notes), len(prepared.media), media_dir)


def _sheet(prepared: PreparedDeck):
    from .problems import SourceError
    from .sheet import build_sheet, load_outline, outline_problems

    outline = load_outline(prepared.cards_dir)
    problems = outline_problems(outline, prepared.deck)
    if problems:
        raise SourceError(problems)
    return build_sheet(prepared.deck, prepared.notes, outline)


def _copies(files: list[Path], folder: Path) -> list[tuple[Path, bytes]]:
    """(copy in `folder`, bytes) of each file whose copy is missing or differs: written
    atomically, a full disk never leaves half a figure under a figure's name."""
    copies = []
    for file in files:
        target, data = folder / file.name, file.read_bytes()
        if not target.is_file() or target.read_bytes() != data:
            copies.append((target, data))
    return copies
