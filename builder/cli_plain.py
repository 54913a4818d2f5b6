"""cli_plain: what Rich prints on a pipe, for the lines and the summary table mathdeck prints,
written without importing Rich (~40 ms of an edit's build, more than the edit itself needs).

Rich prints a line to a pipe or a file as it is (no colours, no wrapping below UNWRAPPED columns)
and draws a table with its box characters: for text of plain characters, that is a string
function. Anything Rich would treat otherwise answers None here, and the caller asks Rich: a
terminal (colours, wrapping, the progress bar), the environment variables Rich reads (COLUMNS,
FORCE_COLOR, TTY_COMPATIBLE, TTY_INTERACTIVE, Jupyter's), a stream that is not UTF-8, markup
other than mathdeck's own tags, control or wide characters, a title wider than its table. The
tests compare both on the same text (tests/test_cli_plain.py).
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from typing import TextIO

UNWRAPPED = 10_000  # columns: wider than any line mathdeck prints; tables keep their natural width
# What Rich reads from the environment to decide how a stream is printed (rich/console.py).
RICH_ENVIRONMENT = (
    "COLUMNS",
    "LINES",
    "FORCE_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "DATABRICKS_RUNTIME_VERSION",
)
# The markup mathdeck's own messages use around their words (cli_report.py).
OWN_TAGS = re.compile(r"\[(?:green|yellow|bold red|/)\]")


def plain_stream(stderr: bool) -> TextIO | None:
    """The stream a console writes to now, when Rich would write plain text there; else None."""
    stream = sys.stderr if stderr else sys.stdout
    if os.name != "posix" or hasattr(builtins, "get_ipython") or stream is None:
        return None
    if any(name in os.environ for name in RICH_ENVIRONMENT):
        return None
    encoding = getattr(stream, "encoding", "utf-8") or "utf-8"
    if not encoding.lower().startswith("utf"):
        return None
    try:
        if stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return stream


def plain_line(text: str, markup: bool, wrapped: bool) -> str | None:
    """The text Rich prints for `text` (without its line end), or None when Rich may print it
    otherwise. `wrapped`: the console wraps long lines (soft_wrap=False)."""
    if markup:
        if "\\" in text or not _balanced(OWN_TAGS.findall(text)):  # Rich: an escape, an error
            return None
        text = OWN_TAGS.sub("", text)
        if "[" in text:
            return None
    if wrapped:
        # one cell a character, no line Rich would wrap
        lines = text.split("\n")
        if not (text.isascii() or text.replace("✓", "").isascii()):
            return None
        if not all(line.isprintable() and len(line) < UNWRAPPED for line in lines):
            return None
        return text
    # never wrapped: any printable character is printed as it is
    return text if all(line.isprintable() for line in text.split("\n")) else None


def _balanced(tags: list[str]) -> bool:
    """Whether each closing tag closes an open one (Rich refuses a closing tag with none open)."""
    open_tags = 0
    for tag in tags:
        open_tags += -1 if tag == "[/]" else 1
        if open_tags < 0:
            return False
    return True


def plain_table(title: str, rows: list[tuple[str, str]]) -> str | None:
    """A two-column table with a title and no header, as Rich draws it for a pipe; None when
    Rich may draw it otherwise (markup or a character of another width, a title wider than the
    table)."""
    cells = [title, *(cell for row in rows for cell in row)]
    if not all(
        cell.isascii() and cell.isprintable() and "[" not in cell and cell == cell.strip()
        for cell in cells
    ):
        return None
    widths = [max((len(row[column]) for row in rows), default=0) for column in (0, 1)]
    inner = sum(widths) + 5  # one space either side of each cell, a rule between the columns
    if not title or len(title) > inner + 2 or "  " in title:
        return None
    left = (inner + 2 - len(title)) // 2
    lines = [" " * left + title + " " * (inner + 2 - len(title) - left)]
    lines.append("┌" + "─" * (widths[0] + 2) + "┬" + "─" * (widths[1] + 2) + "┐")
    lines += [f"│ {label:<{widths[0]}} │ {value:<{widths[1]}} │" for label, value in rows]
    lines.append("└" + "─" * (widths[0] + 2) + "┴" + "─" * (widths[1] + 2) + "┘")
    return "\n".join(lines)
