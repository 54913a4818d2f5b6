"""The cheat sheet as one Markdown document, math in `$...$` / `$$...$$` as GitHub and most blog
engines render it. The cards' own Markdown goes through untouched (tables, lists, code), except:

- deck macros are expanded inside math, since a blog's MathJax or KaTeX does not know them;
- a `$$` line gets blank lines around it (some engines, kramdown among them, need them);
- cloze deletions are shown revealed, in bold;
- figures link to their day image, copied beside the document by the caller.
"""

from __future__ import annotations

import re

from .macros import Macro
from .markdown_extensions import DisplayMathParagraphs
from .markdown_math import formulas_in
from .model import KINDS
from .sheet import Sheet, SheetSection

HEADING_OFFSET = 2  # part: ##, a section of depth d: ## + d


def sheet_markdown(
    sheet: Sheet, description: str, macros: tuple[Macro, ...], figure_links: dict[str, str]
) -> str:
    """`figure_links`: figure name → the path of its image relative to the document."""
    blocks = [f"# {sheet.title}", f"*Version {sheet.version}*"]
    if description.strip():
        blocks.append(_markdown(description, macros))
    for part in sheet.parts:
        blocks.append(f"## {part.title}")
        for section in part.sections:
            blocks += _section(section, macros, figure_links)
    return "\n\n".join(block.strip("\n") for block in blocks if block.strip()) + "\n"


def _section(
    section: SheetSection, macros: tuple[Macro, ...], figure_links: dict[str, str]
) -> list[str]:
    blocks = []
    if section.title:
        blocks.append("#" * (HEADING_OFFSET + section.depth) + " " + section.title)
    for note in section.notes:
        blocks += _entry(note.card, macros)
        if note.card.figure:
            blocks.append(f"![{_alt(note.card.title)}]({figure_links[note.card.figure]})")
    return blocks


def _entry(card, macros: tuple[Macro, ...]) -> list[str]:
    kind = KINDS[card.kind]
    text = {key: _markdown(card.text[key], macros) for key in kind.markdown if key in card.text}
    zh = f" ({card.zh})" if card.zh else ""
    return kind.markdown_entry(card, text, zh)


def _markdown(text: str, macros: tuple[Macro, ...]) -> str:
    text = _expand_macros_in_math(text, macros) if macros and "$" in text else text
    return "\n".join(DisplayMathParagraphs(None).run(text.strip("\n").splitlines()))


def _expand_macros_in_math(text: str, macros: tuple[Macro, ...]) -> str:
    """Replace each formula's TeX by its expansion, in order, where it sits in the source."""
    raw, expanded = formulas_in(text), formulas_in(text, macros)
    result, position = [], 0
    for (before, _), (after, _) in zip(raw, expanded, strict=True):
        found = text.find(before, position)
        if found < 0 or before == after:
            continue
        result += [text[position:found], after]
        position = found + len(before)
    return "".join(result) + text[position:]


def _alt(text: str) -> str:
    return re.sub(r"[\[\]$*_`]", "", text)
