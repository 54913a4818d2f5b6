"""Comparing a note field with the build's, and writing an edit over the author's Markdown.

`html_signature` is the one normalisation both sides of a comparison go through: a field is
edited when its signature differs from the build's, and a pull is exact when the Markdown it
writes renders to the edited field's signature. `minimal_edit` writes the Markdown converted
from an edited field (builder/html_to_markdown.py) over the source, keeping the author's own
lines wherever the field did not change.
"""

from __future__ import annotations

import difflib
import re

# Tags that stand on lines of their own in a signature (a tight list item is a loose one's
# paragraph).
BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "pre",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "hr",
}
# The same formatting under the editor's names and Markdown's.
SAME_TAG = {"b": "strong", "i": "em"}


def html_signature(html: str) -> str:
    """What a learner sees of a field, as text: formatting tags kept, editor noise dropped.
    Paragraphs, `<div>`s and `<br>`s are all one line break; whitespace runs are one space;
    entities are read; math is its TeX between its delimiters."""
    from bs4 import BeautifulSoup, NavigableString

    parts: list[str] = []

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not a comment or doctype
                    parts.append(str(child).replace("\xa0", " "))
                continue
            name = SAME_TAG.get(child.name, child.name)
            if name in ("p", "div", "br", "span", "font"):
                parts.append("\n" if name in ("p", "div", "br") else "")
                walk(child)
                parts.append("\n" if name in ("p", "div") else "")
                continue
            if (
                name in ("em", "strong")
                and _only_child(child) is not None
                and SAME_TAG.get(_only_child(child).name, _only_child(child).name)
                in ("em", "strong")
            ):
                # ***word*** is <strong><em> in Python-Markdown whichever way the editor nested it
                parts.append("<strong><em>")
                walk(_only_child(child))
                parts.append("</em></strong>")
                continue
            attributes = "".join(
                f' {key}="{child[key]}"' for key in ("href", "src", "style") if child.get(key)
            )
            block = (
                "\n" if name in BLOCK_TAGS else ""
            )  # a tight list item is a loose one's paragraph
            parts.append(f"{block}<{name}{attributes}>{block}")
            walk(child)
            parts.append(f"{block}</{name}>{block}")

    walk(BeautifulSoup(html, "html.parser"))
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
    text = re.sub(r" ?\n[\s]*", "\n", text)
    return text.strip()


def _only_child(element):
    """The one element inside `element` when there is nothing else in it (no text around it)."""
    children = [
        child for child in element.children if getattr(child, "name", None) or str(child).strip()
    ]
    return children[0] if len(children) == 1 and getattr(children[0], "name", None) else None


# ---------------------------------------------------------------- keeping the author's writing


def minimal_edit(source: str, current: str, edited: str) -> str:
    """`edited` (Markdown converted from the edited field) written over `source` (the author's
    Markdown), keeping the author's own writing wherever the field did not change. `current` is
    the same converter's Markdown of the unedited field: where a run of its lines differs from
    the source (the author wrapped a paragraph by hand, spaced a list) and the edit left that
    whole run alone, the author's lines are written instead."""
    source_lines, current_lines, edited_lines = (
        source.split("\n"),
        current.split("\n"),
        edited.split("\n"),
    )
    authored: dict[
        int, tuple[int, list[str]]
    ] = {}  # first current line of a run → (end of the run, the author's lines)
    inserted: dict[int, list[str]] = {}  # lines only the author has, before this current line
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, current_lines, source_lines, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            authored.update({i: (i + 1, [source_lines[j1 + i - i1]]) for i in range(i1, i2)})
        elif i1 == i2:
            inserted[i1] = source_lines[j1:j2]
        else:
            authored[i1] = (i2, source_lines[j1:j2])
    result: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, current_lines, edited_lines, autojunk=False
    ).get_opcodes():
        if tag != "equal":
            result += edited_lines[j1:j2]
            continue
        line = i1
        while line < i2:
            if line > i1 or line == 0:
                result += inserted.get(line, [])
            end, lines = authored.get(line, (line + 1, [current_lines[line]]))
            if end > i2:  # the edit touched part of this run: the converter's lines for it
                end, lines = line + 1, [current_lines[line]]
            result += lines
            line = end
    return "\n".join(result)
