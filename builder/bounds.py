"""Limits on a text field's shape, so that no source makes a build super-linear or crash.

Python-Markdown's link parser is quadratic in the number of `[` of a paragraph (20,000 take
39 s), its list and block-quote parsers recurse once per level (600 levels: RecursionError),
and a long run of backslashes is quadratic in its length; MathJax's parser recurses once per
brace (50,000: node's stack overflows). Real cards stay far below every limit.
"""

from __future__ import annotations

import re

MAX_LINE_LENGTH = 10_000
MAX_BRACKETS = 500  # `[` in one field
MAX_BACKSLASH_RUN = 64  # `\` in a row
MAX_NESTING = 32  # list indentation levels (4 columns each) or `>` quote levels
MAX_BRACE_DEPTH = 100  # `{` open at once

_LONG_BACKSLASH_RUN = re.compile(r"\\{%d,}" % (MAX_BACKSLASH_RUN + 1))
_DEEP_INDENT = re.compile(r"^(?: {4}|\t| {0,3}\t){%d,}" % (MAX_NESTING + 1), re.MULTILINE)
_BACKSLASH_RUN = "\\" * (MAX_BACKSLASH_RUN + 1)
_DEEP_SPACES = " " * 4 * (MAX_NESTING + 1)
_DEEP_QUOTE = re.compile(r"^(?:[ \t]*>){%d,}" % (MAX_NESTING + 1), re.MULTILINE)


def text_shape_problems(text: str) -> list[str]:
    """Why `text` is beyond what a field may hold (empty for every real card)."""
    long_line = long_line_problem(text)
    problems = [long_line] if long_line else []
    brackets = text.count("[")
    if brackets > MAX_BRACKETS:
        problems.append(
            f"has {brackets:,} '['; the limit is {MAX_BRACKETS:,} in one field "
            "(Markdown's link parser slows down quadratically)"
        )
    # Each pattern is tried only where the text holds what a match needs (a substring search or a
    # count, much faster than the pattern): every text field of every card passes here.
    run = _LONG_BACKSLASH_RUN.search(text) if _BACKSLASH_RUN in text else None
    if run:
        problems.append(
            f"has {len(run.group()):,} backslashes in a row; the limit is {MAX_BACKSLASH_RUN}"
        )
    # Without a tab, an indentation level is 4 spaces; a quote level is one `>`.
    deep_indent = ("\t" in text or _DEEP_SPACES in text) and _DEEP_INDENT.search(text)
    deep_quote = text.count(">") > MAX_NESTING and _DEEP_QUOTE.search(text)
    if deep_indent or deep_quote:
        problems.append(f"nests lists or quotes more than {MAX_NESTING} levels deep")
    depth = _brace_depth(text) if text.count("{") > MAX_BRACE_DEPTH else 0
    if depth > MAX_BRACE_DEPTH:
        problems.append(
            f"nests braces {{...}} {depth:,} levels deep; the limit is {MAX_BRACE_DEPTH}"
        )
    return problems


def long_line_problem(text: str) -> str | None:
    """The one limit for code too (highlighted by Pygments, not parsed as Markdown)."""
    longest = max(map(len, text.split("\n"))) if len(text) > MAX_LINE_LENGTH else 0
    return (
        f"has a line of {longest:,} characters; the limit is {MAX_LINE_LENGTH:,}"
        if longest > MAX_LINE_LENGTH
        else None
    )


def _brace_depth(text: str) -> int:
    depth = deepest = 0
    for match in re.finditer(r"\\.|[{}]", text):  # an escaped \{ or \} is a literal brace
        token = match.group()
        if token == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif token == "}":
            depth = max(0, depth - 1)
    return deepest
