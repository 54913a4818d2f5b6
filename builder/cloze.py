"""Cloze deletions in a card's source Markdown, `{{c1::answer::hint}}`: found, numbered and
revealed, with a `}}` inside `$...$` math never taken for a deletion's end. Read by the cloze kind
(kinds.py) and its lint rule (lint_rules.py)."""

from __future__ import annotations

import re
from typing import Final

from .records import Record

# The opening of a cloze deletion, `{{c1::`; its number is group 1.
CLOZE_OPENING = re.compile(r"\{\{c(\d+)::")


def reveal_clozes(text: str) -> str:
    """`{{c1::answer::hint}}` → `**answer**`; a `}}` inside `$...$` math does not end a deletion."""
    out, position = [], 0
    for deletion in cloze_deletions(text):
        out += [text[position : deletion.start], f"**{deletion.answer}**"]
        position = deletion.end
    return "".join(out) + text[position:]


class ClozeDeletion(Record):
    __slots__ = field_names = ("number", "answer", "hint", "start", "end")
    number: Final[int]  # the N of {{cN::...}}
    answer: Final[str]
    hint: Final[str]  # "" without one
    start: Final[int]  # text[start:end] is the whole {{cN::...}}
    end: Final[int]

    def __init__(self, number: int, answer: str, hint: str, start: int, end: int) -> None:
        self.number = number
        self.answer = answer
        self.hint = hint
        self.start = start
        self.end = end


def cloze_deletions(text: str) -> list[ClozeDeletion]:
    """Every `{{cN::answer::hint}}` in order; a `}}` inside `$...$` math does not end a deletion."""
    found, position = [], 0
    for match in CLOZE_OPENING.finditer(text):
        if match.start() < position:
            continue
        end = _cloze_end(text, match.end())
        if end is None:
            break
        answer, _, hint = text[match.end() : end].partition("::")
        found.append(ClozeDeletion(int(match.group(1)), answer, hint, match.start(), end + 2))
        position = end + 2
    return found


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
