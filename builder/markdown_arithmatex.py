"""pymdown-extensions' arithmatex patterns, copied (pymdownx.arithmatex imports Markdown), and
where they can match: what markdown_paragraph needs to find math as Markdown's converter finds it.
"""

from __future__ import annotations

import re

# pymdownx.arithmatex's patterns (RE_SMART_DOLLAR_INLINE | RE_BRACKET_INLINE; RE_DOLLAR_BLOCK |
# RE_BRACKET_BLOCK | RE_TEX_BLOCK) combined as its extension combines them for markdown_math's
# configuration (smart dollars, every syntax) and compiled as Markdown compiles them. Copied, not
# imported: pymdownx.arithmatex imports Markdown. tests/test_markdown_paragraph.py holds them
# equal to the converter's (a new pymdown-extensions also changes every Markdown cache key).
INLINE_MATH = re.compile(
    r"(?:(?:(?<!\\)((?:\\{2})+)(?=\$)|(?<!\\)(\$)(?!\s)((?:\\.|[^\\$\x02\x03])+?)(?<!\s)(?:\$))"
    r"|(?:(?<!\\)((?:\\{2})+?)(?=\\\()|(?<!\\)(\\\()((?:\\[^)]|[^\\\x02\x03])+?)(?:\\\))))",
    re.DOTALL | re.UNICODE,
)
# INLINE_MATH reading the TeX of `$...$` in runs, without trying the closing `$` after every
# character: the same matches (the TeX cannot hold an unescaped `$`, so the lazy repeat can only
# stop at the first one), a third less time. tests/test_markdown_paragraph.py compares the two.
_LAZY_TEX = r"((?:\\.|[^\\$\x02\x03])+?)"
FAST_INLINE_MATH = re.compile(
    INLINE_MATH.pattern.replace(_LAZY_TEX, r"((?:[^\\$\x02\x03]++|\\.)++)", 1), INLINE_MATH.flags
)
BLOCK_MATH = re.compile(
    r"(?s)^(?:(?P<dollar>[$]{2})(?P<math>((?:\\.|[^\\])+?))(?P=dollar)"
    r"|\\\[(?P<math3>(?:\\[^\]]|[^\\])+?)\\\]"
    r"|(?P<math2>\\begin\{(?P<env>[a-z]+\*?)\}(?:\\.|[^\\])+?\\end\{(?P=env)\}))[ ]*$"
)


# Where arithmatex's inline pattern can start a match: every branch begins with `$` or `\`.
_MATH_START = re.compile(r"[$\\]")


def math_matches(inline_math: re.Pattern[str], text: str):
    """inline_math.finditer(text), trying the pattern only where a match can start (its
    lookbehinds still see the text before): a fifth of the time on a typical field."""
    position = 0
    while (candidate := _MATH_START.search(text, position)) is not None:
        match = inline_math.match(text, candidate.start())
        if match is None:
            position = candidate.start() + 1
        else:
            yield match
            position = match.end()
