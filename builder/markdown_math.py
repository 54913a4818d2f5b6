"""Markdown with math, shared by check and render: the one Markdown conversion and the formulas
found in Markdown's output. The sanitiser and its policy are in sanitize.py; cloze deletions in
the source, in cloze.py.

Math is protected from Markdown by pymdown-extensions' arithmatex in generic mode, which turns
`$...$` / `$$...$$` into Anki's `\\(...\\)` / `\\[...\\]` and escapes `<`, `>` and `&` inside
math as entities, so the web view's HTML parser never reads them (anki-facts.md: "Escape <, > and
& ...").
check audits Markdown's output (markdown_to_unsafe_html) and sends its formulas to MathJax; render
sanitises the same output into note fields (markdown_field, then sanitize.sanitize_html). Both read
this module, so what check approves is exactly what render writes.
"""

from __future__ import annotations

import functools
import html
import json
import re
from typing import TYPE_CHECKING, Any

# Markdown is imported where it is used: a rebuild whose notes all come from the build's cache
# (builder/memo.py) never loads it.
from .macros import Macro
from .markdown_extensions import DisplayMathParagraphs, MathRewriter, escape_math, is_math
from .markdown_paragraph import plain_html
from .sanitize import sanitize_html

if TYPE_CHECKING:
    import markdown

# What Markdown's output depends on besides the text: this code, the macros, the libraries. Caches
# of anything made from it (checked cards, notes) include them in their keys (builder/memo.py).
MARKDOWN_SOURCES = (
    "markdown_math.py",
    "cloze.py",
    "markdown_extensions.py",
    "markdown_paragraph.py",
    "markdown_arithmatex.py",
    "sanitize.py",
    "macros.py",
)
MARKDOWN_LIBRARIES = ("markdown", "pymdown-extensions", "pygments", "nh3")


# pymdownx.highlight's settings for code blocks (superfences calls it).
HIGHLIGHT_CONFIG: dict[str, Any] = {
    "use_pygments": True,
    "guess_lang": False,
    "css_class": "highlight",
}

# ---------------------------------------------------------------- Markdown with math


@functools.cache
def markdown_converter(macros: tuple[Macro, ...], cloze: bool):
    """The build's Markdown instance for these macros (cloze or not), and its MathRewriter's
    rewrite of one formula."""
    converter = new_markdown()
    # Our processors only duck-type Markdown's (Markdown calls `run` alone): subclassing them
    # would import Markdown (~30 ms) with this module, which a fully cached rebuild never needs.
    display_math = DisplayMathParagraphs(converter)
    rewriter = math_rewriter(macros, cloze)
    converter.preprocessors.register(display_math, "mathdeck-display-math", 5)  # type: ignore[arg-type]
    converter.treeprocessors.register(rewriter, "mathdeck-math", 15)  # type: ignore[arg-type]
    return converter, rewriter.rewrite


@functools.cache
@functools.lru_cache(maxsize=16)  # one per deck (and cloze or not): it remembers its formulas
def math_rewriter(macros: tuple[Macro, ...], cloze: bool) -> MathRewriter:
    """What the converter does to every formula, for fields written without it too."""
    return MathRewriter(macros, cloze)


def new_markdown() -> markdown.Markdown:
    """Markdown with arithmatex (generic: Anki's `\\(...\\)`), tables, sane lists, superfences
    and Pygments highlighting, each extension given as an instance. Given by name, Markdown looks
    every name up among the entry points of every installed distribution (importlib.metadata, ~80
    ms in a venv holding torch and aqt) before importing it."""
    import markdown
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension
    from pymdownx.arithmatex import ArithmatexExtension
    from pymdownx.highlight import HighlightExtension
    from pymdownx.superfences import SuperFencesCodeExtension

    class Converter(markdown.Markdown):
        def build_extension(self, ext_name, configs):
            # superfences registers highlight by name itself (a disabled one, for its default
            # settings, which the enabled one below replaces).
            if ext_name == "pymdownx.highlight":
                return HighlightExtension(**configs)
            return super().build_extension(ext_name, configs)

    extensions = [
        ArithmatexExtension(generic=True),
        TableExtension(),
        SaneListExtension(),
        SuperFencesCodeExtension(),
        HighlightExtension(**HIGHLIGHT_CONFIG),
    ]
    return Converter(extensions=extensions)


def markdown_to_html(
    text: str, inline: bool = False, macros: tuple[Macro, ...] = (), cloze: bool = False
) -> str:
    """Markdown with math → sanitised HTML. `inline` drops the <p> around a lone paragraph."""
    return sanitize_html(markdown_field(text, inline, macros, cloze))


def markdown_field(
    text: str, inline: bool = False, macros: tuple[Macro, ...] = (), cloze: bool = False
) -> str:
    """Markdown's output for a note field, not sanitised yet (render.render_card sanitises every
    field). `inline` drops the <p> around a lone paragraph."""
    html = markdown_to_unsafe_html(text, macros, cloze) if text else ""
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def markdown_to_unsafe_html(text: str, macros: tuple[Macro, ...] = (), cloze: bool = False) -> str:
    """Markdown's own output, before sanitising: for check to say what the sanitiser will drop."""
    return unsafe_html_written(text, macros, cloze)[0]


# A field markdown_paragraph wrote: its formulas, (TeX, display?) as the note carries them, and
# for each how many list items hold it (collect_formulas and list_depths of its HTML).
PlainFormulas = tuple[tuple[tuple[str, bool], ...], tuple[int, ...]]


# check and render both need Markdown's output of a field: convert it once per build.
@functools.lru_cache(maxsize=1 << 17)
def unsafe_html_written(
    text: str, macros: tuple[Macro, ...], cloze: bool
) -> tuple[str, PlainFormulas | None]:
    """Markdown's output, and, when markdown_paragraph wrote it without Markdown, its formulas
    (None otherwise). Such HTML holds only tags the sanitiser keeps (p, ul, li, code, strong, em,
    arithmatex's span and div), its text is escaped (`&lt;`, `&gt;`, `&amp;`) and its prose holds
    no `$` or backslash, so the HTML audit has nothing to say about it."""
    # Most fields (plain paragraphs, display formulas, short lists) are written without Markdown,
    # which is then never imported.
    found: list[tuple[tuple[str, bool], int]] = []
    plain = plain_html(text, math_rewriter(macros, cloze).rewrite, escape_math, found)
    if plain is not None:
        return plain, (
            tuple(formula for formula, _ in found),
            tuple(depth for _, depth in found),
        )
    converter = markdown_converter(macros, cloze)[0]
    converter.reset()
    return converter.convert(text), None


def forget_conversions() -> None:
    """Let go of the fields converted and the formulas rewritten (tens of MB at 20,000 cards)
    once every field is rendered."""
    unsafe_html_written.cache_clear()
    math_rewriter.cache_clear()


def macro_signature(macros: tuple[Macro, ...]) -> str:
    """What of the deck macros reaches notes (not where they are defined)."""
    return json.dumps([(macro.name, macro.body, macro.args) for macro in macros])


# ---------------------------------------------------------------- formulas in Markdown's output


@functools.cache
def _math_collector():
    """The HTML parser collect_formulas uses for Markdown's output with tags of the author's own,
    defined when first needed: html.parser takes ~3 ms to import, and a plain field (every field
    an edit's build reads, most of the time) never needs it."""
    import html.parser

    class MathCollector(html.parser.HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.formulas: list[tuple[str, bool]] = []
            self._depth = 0
            self._display = False
            self._buffer: list[str] = []

        def handle_starttag(self, tag, attrs):
            if self._depth:
                self._depth += 1
            elif is_math(dict(attrs).get("class")):
                self._depth, self._display, self._buffer = 1, tag == "div", []

        def handle_endtag(self, tag):
            if not self._depth:
                return
            self._depth -= 1
            if self._depth == 0:
                self.formulas.append((strip_math_delimiters("".join(self._buffer)), self._display))

        def handle_data(self, data):
            if self._depth:
                self._buffer.append(data)

    return MathCollector


def strip_math_delimiters(text: str) -> str:
    """A formula's TeX without the `\\(...\\)` or `\\[...\\]` arithmatex puts around it."""
    text = text.strip()
    if text[:2] in ("\\(", "\\[") and text[-2:] in ("\\)", "\\]"):
        return text[2:-2]
    return text


def formulas_in(markdown_text: str, macros: tuple[Macro, ...] = ()) -> list[tuple[str, bool]]:
    """(TeX, display?) for every formula in a Markdown field, as the note will carry it."""
    return collect_formulas(markdown_to_unsafe_html(markdown_text, macros))


def collect_formulas(unsafe_html: str, markdown_tags_only: bool = False) -> list[tuple[str, bool]]:
    """(TeX, display?) for every arithmatex span in Markdown's output.

    `markdown_tags_only`: the source had no `<`, so every tag is Markdown's own and each formula
    is exactly `<span|div class="arithmatex">escaped TeX</...>`: a regular expression finds them
    as the HTML parser would, five times faster."""
    if markdown_tags_only:
        return [
            (strip_math_delimiters(html.unescape(match.group(2))), match.group(1) == "div")
            for match in ARITHMATEX.finditer(unsafe_html)
        ]
    collector = _math_collector()()
    collector.feed(unsafe_html)
    collector.close()
    return collector.formulas


# Math as Markdown writes it here: arithmatex's spans and divs, TeX escaped as HTML, no inner tags.
ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
ARITHMATEX_OPENING = re.compile(r'<(?:span|div) class="arithmatex">')
_LIST_ITEM = re.compile(r"<(/?)li\b", re.I)


def list_depths(unsafe_html: str) -> list[int]:
    """For each arithmatex formula in Markdown's output, in order, how many list items hold it."""
    if _LIST_ITEM.search(unsafe_html) is None:
        return [0] * len(ARITHMATEX_OPENING.findall(unsafe_html))
    depths, depth, position = [], 0, 0
    for match in ARITHMATEX_OPENING.finditer(unsafe_html):
        for item in _LIST_ITEM.finditer(unsafe_html, position, match.start()):
            depth += -1 if item.group(1) else 1
        position = match.start()
        depths.append(max(depth, 0))
    return depths
