"""A field's HTML written without running Markdown, when it is made of plain blocks (most fields:
a sentence or two of prose with inline math and code, a `$$...$$` formula, a short list):
Python-Markdown's whole pipeline (4 preprocessors, 13 block processors, 14 inline patterns, 5 tree
processors, the serializer) spends ~0.3 ms on a paragraph and ~0.5 ms on a field of three blocks,
over half of a cold build's Python time.

Each function answers only for text whose Markdown output it can write exactly, else None (and
markdown_math runs Markdown). `paragraph_html`: one block of lines that no block processor
claims, whose prose, once code spans and inline math are taken out in Markdown's own order
(backtick spans first, then arithmatex's own pattern), holds no character another inline pattern
reacts to but `**strong**` and `*emphasised*` plain words. `<`, `>` and `&` may stand in math,
code and prose (`$a > 0$`, `x & y`) but never where HTML could read markup: no `<` before a
letter, `/`, `!` or `?` (a tag, comment or declaration, which Markdown's raw HTML parser would
take), no `&#` or `&name;` (a character reference, which it would rewrite or leave unescaped),
and in prose no `<` before anything but a space (an autolink or e-mail link); they are escaped
as Markdown's serializer escapes text (`&amp;`, `&lt;`, `&gt;`). `display_math_html`: one
`$$...$$` formula that arithmatex's block pattern takes whole. `list_html`: a tight list of `- `
items, each one plain line. `plain_html`: one such block, or several between blank lines (no
markup-like `<` or `&` anywhere then, no two lists in a row: Markdown would make them one loose
list), joined as Markdown joins them, once markdown_extensions' DisplayMathParagraphs has put
blank lines around `$$` lines as it does before Markdown's block parser.
The output holds only tags the sanitiser keeps and text escaped as HTML, so check's HTML audit
has nothing to say about it. tests/test_markdown_paragraph.py holds it to Markdown's output on the
flagship deck, the bench deck and generated text.

Nothing here imports Markdown: arithmatex's two patterns are copied (markdown_arithmatex.py), so
a build whose changed fields are all plain never loads Markdown and pymdown-extensions (~60 ms).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .macros import MacroError
from .markdown_arithmatex import BLOCK_MATH, FAST_INLINE_MATH, math_matches
from .markdown_extensions import DisplayMathParagraphs

# Anywhere in the text: whitespace Markdown normalises or that splits lines, its placeholders'
# delimiters (STX, ETX), a `<` or `&` that HTML may read as markup (see above).
_NEVER_CHARACTERS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\x85\u2028\u2029]")
_NEVER_PAIRS = ("$$", "``", "\\`")
_MARKUP = re.compile(r"<(?:[A-Za-z/!?]|\Z)|&(?:#|\w+;|\Z)")


def _never(text: str) -> bool:
    """Whether `text` holds a character or pair of _NEVER_*: `in` finds a pair, and a search for one
    class scans a text, several times faster than one pattern of them all."""
    return any(pair in text for pair in _NEVER_PAIRS) or _NEVER_CHARACTERS.search(text) is not None


def _markup(text: str) -> bool:
    """_MARKUP.search(text), searched only in a text holding a `<` or `&` (most hold neither)."""
    return ("<" in text or "&" in text) and _MARKUP.search(text) is not None


# A line a block processor may claim (a header, list, quote, rule, setext underline, reference,
# fence, indented code) or ending in a line break: only lines starting with a letter or digit
# (not a list number), `$`, `(`, a quote, a backtick or `**` before a letter, and no space at
# either end.
_PLAIN_LINE = re.compile(r"(?!\d+[.)])[^\W_$('\"`]|[$('\"`]|\*\*[^\W_]")
# Prose (outside code and math) reacting to another inline pattern: an escape, a link or image,
# emphasis, a `$` that opened no math, a `<` that may open an autolink or e-mail link. A backtick
# always opens or closes a span here.
_PROSE_MARKUP = re.compile(r"[\\\[\]*_$]|<(?!\s)")
# Markdown's inline placeholder (markdown.util.INLINE_PLACEHOLDER): what arithmatex's pattern sees
# where a code span was.
_PLACEHOLDER = "\x02klzzwxh:{:04d}\x03"
_MATH_IN_TEX = 3  # arithmatex's inline pattern: the group of `$...$`'s TeX

_BLANK_LINES = re.compile(r"\n\n+")


# A formula as the note carries it, (TeX, display?), and how many list items hold it.
Formula = tuple[str, bool]


def plain_html(
    text: str,
    rewrite_math: Callable[[str], str],
    escape_math: Callable[[str], str],
    found: list[tuple[Formula, int]] | None = None,
) -> str | None:
    """Markdown's output for a field made of plain blocks (see above), or None. `rewrite_math`
    and `escape_math` are what markdown_math's converter's MathRewriter does. Each formula written
    is added to `found`, with its list depth: what markdown_math.collect_formulas and list_depths
    would read back from the HTML (the check needs them), without reading it."""
    if "$$" in text:  # Markdown's blocks are those after our blank lines around `$$` lines
        text = "\n".join(DisplayMathParagraphs().run(text.split("\n")))
    # More blank lines between blocks change nothing (Markdown's EmptyBlockProcessor) but after
    # indented code or in a list, which are Markdown's (below).
    blocks = _BLANK_LINES.split(text.rstrip("\n"))
    if len(blocks) > 1 and _markup(text):  # raw HTML may span blocks
        return None
    out: list[str] = []
    error: MacroError | None = None  # Markdown meets a deck macro used wrongly in document order
    formulas: list[Formula] = []  # a block adds its formulas only once it is written
    for block in blocks:
        before = len(formulas)
        try:
            html = paragraph_html(block, rewrite_math, formulas) or display_math_html(
                block, rewrite_math, escape_math, formulas
            )
            if html is None and not (out and out[-1].startswith("<ul>")):
                html = list_html(block, rewrite_math, formulas)
        except MacroError as raised:
            error, html = error or raised, ""
        if html is None:
            return None
        if found is not None:  # a list's items are one level deep
            depth = 1 if html.startswith("<ul>") else 0
            found += [(formula, depth) for formula in formulas[before:]]
        out.append(html)
    if error is not None:
        raise error
    return "\n".join(out)


def paragraph_html(
    text: str, rewrite_math: Callable[[str], str], found: list[Formula] | None = None
) -> str | None:
    """Markdown's output for `text`, or None when it is not a plain paragraph (see above).
    `rewrite_math` does to the math element's text (`\\(TeX\\)`) what
    markdown_math.MathRewriter does."""
    body = text.rstrip("\n")
    if not body or _never(body) or _markup(body):
        return None
    # Never a table either: its second line, a separator row, holds only `|`, `:`, `-` and spaces.
    for line in body.split("\n"):
        if not _plain_line(line):
            return None
    # Code spans first (Markdown's backtick pattern is first): each backtick pairs with the next.
    if "`" not in body:
        return _with_math(body, [], rewrite_math, found)
    pieces = body.split("`")
    if len(pieces) % 2 == 0:
        return None
    codes = pieces[1::2]
    rest = "".join(
        piece if index % 2 == 0 else _PLACEHOLDER.format(index // 2)
        for index, piece in enumerate(pieces)
    )
    return _with_math(rest, codes, rewrite_math, found)


def list_html(
    block: str, rewrite_math: Callable[[str], str], found: list[Formula] | None = None
) -> str | None:
    """Markdown's output for a tight list whose every line is an item `- ` of plain text, or
    None. An item's text goes through the same inline patterns as a paragraph's."""
    items: list[str] = []
    formulas: list[Formula] = []
    for line in block.split("\n"):
        if not line.startswith("- ") or line[2:3] == " ":
            return None
        html = paragraph_html(line[2:], rewrite_math, formulas)
        if html is None or "\n" in html:
            return None
        items.append("<li>" + html[3:-4] + "</li>")
    if found is not None:
        found += formulas
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


def _plain_line(line: str) -> bool:
    return bool(line) and line == line.strip() and _PLAIN_LINE.match(line) is not None


def _with_math(
    rest: str, codes: list[str], rewrite_math: Callable[[str], str], found: list[Formula] | None
) -> str | None:
    bounds, formulas, position = [], [], 0
    for match in math_matches(FAST_INLINE_MATH, rest):
        if match.group(_MATH_IN_TEX) is None:  # escaped backslashes or `\(...\)`: Markdown's
            return None
        bounds.append((position, match.start()))
        formulas.append(match.group(_MATH_IN_TEX))
        position = match.end()
    bounds.append((position, len(rest)))
    proses = [_prose(rest, start, end, codes) for start, end in bounds]
    if None in proses:
        return None
    # Only now, as Markdown would: a deck macro used wrongly raises MacroError.
    maths = [rewrite_math(f"\\({tex}\\)") for tex in formulas]
    # A macro wrote a character reference: Markdown keeps it, not escaped.
    if any("&" in math and _REFERENCE.search(math) for math in maths):
        return None
    out = [proses[0]]
    for math, prose in zip(maths, proses[1:], strict=True):
        out += ['<span class="arithmatex">', escape_text(math), "</span>", prose]
    if found is not None:  # the TeX between `\(` and `\)`, which rewrite_math keeps
        found += [(math[2:-2], False) for math in maths]
    return "<p>" + "".join(out) + "</p>"  # type: ignore[arg-type]


# What Markdown's serializer leaves unescaped in text: `&` starting a character reference.
_REFERENCE = re.compile(r"&(?:#|\w+;)")


def escape_text(text: str) -> str:
    """Text as Markdown writes it in HTML (its serializer, and code spans' `code_escape`), for
    text holding no character reference (_REFERENCE)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SPAN = re.compile("\x02klzzwxh:(\\d{4})\x03")
# `**strong**` or `*em*` in prose: plain words (no `<`), between a space, `(` or the text's start
# and a space, punctuation or its end (a text with any other `*` or `_` is Markdown's).
_EMPHASIS = re.compile(r"(\*\*?)([^\W_](?:[^*_\\\[\]$`\x02\x03<]*[^\W_])?)\1")
_BEFORE_EMPHASIS = frozenset(" \n(")
_AFTER_EMPHASIS = frozenset(" \n.,;:!?)")


def _prose(rest: str, start: int, end: int, codes: list[str]) -> str | None:
    """rest[start:end] (prose between formulas) as HTML, its code spans and `**strong**` and
    `*em*` words written as Markdown writes them; None when it has other markup."""
    if rest.find("\x02", start, end) < 0 and rest.find("*", start, end) < 0:  # plain words
        return _plain_text(rest[start:end])
    out, position = [], start
    for span in _SPAN.finditer(rest, start, end):
        out += [_emphasis(rest, position, span.start()), "<code>"]
        out += [escape_text(codes[int(span.group(1))].strip()), "</code>"]
        position = span.end()
    out.append(_emphasis(rest, position, end))
    return None if None in out else "".join(out)  # type: ignore[arg-type]


def _emphasis(rest: str, start: int, end: int) -> str | None:
    out, position = [], start
    for match in _EMPHASIS.finditer(rest, start, end):
        before = rest[match.start() - 1] if match.start() else " "
        after = rest[match.end()] if match.end() < len(rest) else " "
        if before not in _BEFORE_EMPHASIS or after not in _AFTER_EMPHASIS:
            return None
        tag = "strong" if len(match.group(1)) == 2 else "em"
        out += [_plain_text(rest[position : match.start()]), f"<{tag}>"]
        out += [escape_text(match.group(2)), f"</{tag}>"]
        position = match.end()
    out.append(_plain_text(rest[position:end]))
    return None if None in out else "".join(out)  # type: ignore[arg-type]


def _plain_text(prose: str) -> str | None:
    """Prose with no markup (_PROSE_MARKUP) as HTML, else None."""
    return None if _PROSE_MARKUP.search(prose) else escape_text(prose)


# A display formula's lines: none that a preprocessor (fences, raw HTML) would take or that
# whitespace normalisation would blank; no `$$` inside; no `&#` that the raw HTML preprocessor's
# parser reads as a character reference (it writes `&#1` back as `&#1;`; Markdown's parser needs
# a `;` after a named one, and writes `&amp;` back as it was).
_NOT_DISPLAY = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]|\n\s*(?:`|~|<|\n)|\n\s*$|.\$\$.|&#", re.S)


def display_math_html(
    text: str,
    rewrite_math: Callable[[str], str],
    escape_math: Callable[[str], str],
    found: list[Formula] | None = None,
) -> str | None:
    """Markdown's output for a field that is one display formula (`$$...$$`, on one line or
    several), or None. `rewrite_math` and `escape_math` are what markdown_math.MathRewriter does
    to display math."""
    body = text.rstrip("\n")
    if not body.startswith("$$") or _NOT_DISPLAY.search(body):
        return None
    match = BLOCK_MATH.match(body)
    if match is None or not match.group("math"):
        return None
    # arithmatex escapes the TeX and MathRewriter unescapes it: the TeX itself is rewritten.
    rewritten = rewrite_math(f"\\[{match.group('math')}\\]")
    if found is not None:
        found.append((rewritten[2:-2], True))
    return f'<div class="arithmatex">{escape_math(rewritten)}</div>'
