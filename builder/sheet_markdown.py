"""The cheat sheet as one Markdown document, math in `$...$` / `$$...$$` as GitHub and most blog
engines render it. The cards' own Markdown goes through untouched (tables, lists, code), except:

- deck macros are expanded inside math, since a blog's MathJax or KaTeX does not know them;
- a `$$` line gets blank lines around it (some engines, kramdown among them, need them);
- cloze deletions are shown revealed, in bold;
- figures link to their day image, copied beside the document by the caller.
"""

from __future__ import annotations

import re

from .check_math import formulas_in
from .macros import Macro
from .render import DisplayMathParagraphs
from .sheet import Sheet, SheetSection

HEADING_OFFSET = 2  # part: ##, a section of depth d: ## + d
CLOZE = re.compile(r"\{\{c\d+::")


def sheet_markdown(sheet: Sheet, description: str, macros: tuple[Macro, ...], figure_links: dict[str, str]) -> str:
    """`figure_links`: figure name → the path of its image relative to the document."""
    blocks = [f"# {sheet.title}", f"*Version {sheet.version}*"]
    if description.strip():
        blocks.append(_markdown(description, macros))
    for part in sheet.parts:
        blocks.append(f"## {part.title}")
        for section in part.sections:
            blocks += _section(section, macros, figure_links)
    return "\n\n".join(block.strip("\n") for block in blocks if block.strip()) + "\n"


def _section(section: SheetSection, macros: tuple[Macro, ...], figure_links: dict[str, str]) -> list[str]:
    blocks = []
    if section.title:
        blocks.append("#" * (HEADING_OFFSET + section.depth) + " " + section.title)
    for note in section.notes:
        blocks += _entry(note.card, macros)
        if note.card.figure:
            blocks.append(f"![{_alt(note.card.title)}]({figure_links[note.card.figure]})")
    return blocks


def _entry(card, macros: tuple[Macro, ...]) -> list[str]:
    text = {key: _markdown(value, macros) for key, value in card.text.items() if key != "code"}
    zh = f" ({card.zh})" if card.zh else ""
    if card.kind == "formula":
        return [f"**{_one_line(text['concept'])}**{zh}", text["formula"], text.get("explanation", "")]
    if card.kind == "qa":
        blocks = [f"**Q: {_one_line(text['question'])}**{zh}", text["answer"]]
        if "followup_question" in text:
            blocks += [f"**Follow-up: {_one_line(text['followup_question'])}**", text["followup_answer"]]
        return blocks
    if card.kind == "code":
        fence = _code_fence(card.text["code"])
        code = f"{fence}{card.language}\n{card.text['code'].rstrip()}\n{fence}"
        return [f"**{_one_line(text['task'])}**{zh}", code, text.get("explanation", "")]
    if card.kind == "cloze":
        return [reveal_clozes(text["text"]) + (f"\n\n{zh.strip()}" if zh else ""), text.get("extra", "")]
    raise ValueError(f"no Markdown entry for kind '{card.kind}'")


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


def reveal_clozes(text: str) -> str:
    """`{{c1::answer::hint}}` → `**answer**`; a `}}` inside `$...$` math does not end a deletion."""
    out, position = [], 0
    for match in CLOZE.finditer(text):
        if match.start() < position:
            continue
        end = _cloze_end(text, match.end())
        if end is None:
            break
        answer = text[match.end():end].split("::")[0]
        out += [text[position:match.start()], f"**{answer}**"]
        position = end + 2
    return "".join(out) + text[position:]


def _cloze_end(text: str, start: int) -> int | None:
    in_math, index = False, start
    while index < len(text) - 1:
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == "$":
            in_math = not in_math
        elif not in_math and text.startswith("}}", index):
            return index
        index += 1
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _alt(text: str) -> str:
    return re.sub(r"[\[\]$*_`]", "", text)


def _code_fence(code: str) -> str:
    """A backtick fence longer than any backtick run in the code (CommonMark closes a fence at a
    run at least as long as the opening one), so no line of the code can end the block."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)
