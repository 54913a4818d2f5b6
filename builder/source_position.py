"""Where a piece of TeX stands in its card file: line and column, also inside a multi-line field.

A card keeps the line of each field's key (a literal block starts on the next line). MathJax
judges the TeX that reaches the note, after Markdown and the deck macros; the author wants the
spot in the file. So the formula's first line is looked up in the file's lines from the field's
line on, as written, and then the offending token in the lines the formula spans. What is not
found as written (a token a deck macro made, TeX in a double-quoted scalar with escapes) falls
back to the formula's start, then to the field's line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .problems import Location

SEARCHED_LINES = 400  # a field longer than this is rare: past it, the field's line is good enough


def line_of(where: Location, tex: str) -> Location:
    """The line of the card file where this formula starts (or `where`, the field's line)."""
    found = _formula_start(where, tex)
    return Location(where.file, found[0]) if found else where


def position_of(where: Location, tex: str, token: str | None = None) -> Location:
    """The line and column of `token` inside this formula (of the formula's start without one)."""
    found = _formula_start(where, tex)
    if found is None:
        return where
    line, column = found
    if token:
        lines = _lines(where.file)
        last = min(len(lines), line + tex.count("\n") + 2)
        for number in range(line, last + 1):
            start = column - 1 if number == line else 0
            at = lines[number - 1].find(token, start)
            if at >= 0:
                return Location(where.file, number, at + 1)
    return Location(where.file, line, column)


def _formula_start(where: Location, tex: str) -> tuple[int, int] | None:
    first = next((line.strip() for line in tex.splitlines() if line.strip()), "")[:40]
    lines = _lines(where.file)
    if not first or not lines or not where.line:
        return None
    for number in range(where.line, min(len(lines), where.line + SEARCHED_LINES) + 1):
        at = lines[number - 1].find(first)
        if at >= 0:
            return number, at + 1
    return None


def _lines(path: Path) -> tuple[str, ...]:
    try:
        return _file_lines(path, path.stat().st_mtime_ns)
    except OSError:
        return ()


@lru_cache(maxsize=64)
def _file_lines(path: Path, mtime_ns: int) -> tuple[str, ...]:  # mtime: `watch` sees edits
    try:
        return tuple(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return ()
