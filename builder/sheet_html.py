"""The cheat sheet as one self-contained HTML page: no script, nothing fetched, ready to print.

Entries show the notes' own field HTML (the same Markdown rendering as the cards). Every formula
is typeset ahead of time by MathJax 3 into SVG (builder/mathjax/typeset.mjs, TeX input as Anki
configures it), sharing one glyph cache, so the page opens instantly, works with JavaScript off
and prints to PDF from any tool. Figures are embedded as data URIs, day and night variants
switched by `prefers-color-scheme`.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from pygments.formatters import HtmlFormatter

from .markdown_math import ARITHMATEX, strip_math_delimiters
from .mathjax_typeset import typeset_svg
from .model import KINDS
from .preview import data_uri
from .render import DARK_CODE_STYLE, LIGHT_CODE_STYLE, RenderedNote, render_template
from .sheet import Sheet

CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^{}]*?)?\}\}", re.S)


class TypesetError(Exception):
    """MathJax could not draw a formula that the check let through: a bug, not a source problem."""


def sheet_html(
    sheet: Sheet, description_html: str, media: list[Path], tex_links: str = "none"
) -> str:
    """`tex_links` is deck.yaml's: the SVG keeps https: links only when the deck allows them."""
    body = render_template(
        "export/sheet_body.html",
        sheet=sheet,
        description=description_html,
        fields=note_fields,
        export_template=lambda note: KINDS[note.card.kind].export_template,
        reveal_clozes=reveal_clozes,
    )
    body = _embed_images(body, {path.name: path for path in media})
    body, math_css, math_defs = _typeset(body, tex_links)
    return render_template(
        "export/sheet.html",
        title=sheet.title,
        version=sheet.version,
        css=sheet_css(),
        math_css=math_css,
        math_defs=math_defs,
        body=body,
    )


def note_fields(note: RenderedNote) -> dict[str, str]:
    return dict(zip(KINDS[note.card.kind].note_fields, note.fields, strict=True))


def reveal_clozes(html: str) -> str:
    """A cloze field's deletions shown as their answers, in bold."""
    return CLOZE.sub(r'<strong class="cloze">\1</strong>', html)


def _embed_images(body: str, files: dict[str, Path]) -> str:
    def embed(match: re.Match) -> str:
        name = html.unescape(match.group(1))
        return f'src="{data_uri(files[name])}"' if name in files else match.group(0)

    return re.sub(r'src="([^"]+)"', embed, body)


def _typeset(body: str, tex_links: str) -> tuple[str, str, str]:
    found = list(ARITHMATEX.finditer(body))
    if not found:
        return body, "", ""
    items = [(_tex(match.group(2)), match.group(1) == "div") for match in found]
    math = typeset_svg(items, tex_links)
    if math.errors:
        shown = "; ".join(f"${items[index][0]}$" for index in math.errors[:5])
        raise TypesetError(f"MathJax could not typeset {len(math.errors)} formula(s): {shown}")
    pieces, position = [], 0
    for match, svg in zip(found, math.formulas, strict=True):
        tag = match.group(1)
        pieces += [body[position : match.start()], f'<{tag} class="arithmatex">{svg}</{tag}>']
        position = match.end()
    pieces.append(body[position:])
    return "".join(pieces), math.css, math.defs


def _tex(escaped: str) -> str:
    return strip_math_delimiters(html.unescape(escaped))


@functools.cache
def sheet_css() -> str:
    return render_template(
        "export/sheet.css",
        light_code_css=HtmlFormatter(style=LIGHT_CODE_STYLE).get_style_defs(".sheet .highlight"),
        dark_code_css=HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(".sheet .highlight"),
    )
