"""A note field's HTML, as Anki's editor stores it, back into the sources' Markdown with math.

The reverse of markdown_math: `\\(..\\)` → `$..$`, `\\[..\\]` → `$$..$$` on a line of its own, the
HTML entities inside math back to `<`, `>`, `&`, deck macros folded back where their expansion is
recognisable. What the editor adds is normalised away first (`<div>` for `<p>`, `<br>`, `&nbsp;`,
the `<span style=…>` and `<font>` that pasting brings). Bold, italics, lists, inline code, links
and tables are markdownify's work (configured for Python-Markdown: four-space list continuation,
table alignment kept). What has no Markdown form (a pasted image, merged table cells, underline)
raises Unconvertible with the reason; the caller leaves that card alone.

Whether a field was edited at all (`html_signature`), and how the converted Markdown is written
over the author's (`minimal_edit`), is builder/field_edits.py.
"""

from __future__ import annotations

import re

from .macros import Macro, MacroError, expand_macros

# Tags a field may hold that have a Markdown form (or are editor noise, unwrapped first).
CONVERTIBLE_TAGS = {
    "p",
    "div",
    "br",
    "span",
    "font",
    "b",
    "strong",
    "i",
    "em",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "hr",
}
MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)
_TOKEN = "mdpull{kind}{number}x"
_TOKENS = re.compile(r"mdpull([idz])(\d+)x")


class Unconvertible(ValueError):
    """The field holds HTML that Markdown cannot say; the message is the reason."""


def html_to_markdown(
    html: str, macros: tuple[Macro, ...] = (), known_tex: dict[str, str] | None = None
) -> str:
    """The Markdown that renders to `html`. `known_tex` maps TeX as a note carries it to the TeX
    the author wrote (macros and all), so formulas that did not change come back verbatim."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    _refuse_unconvertible(soup)
    _remove_editor_noise(soup)
    formulas: list[tuple[str, str]] = []
    _protect_math_and_dollars(soup, formulas)
    markdown = _converter().convert_soup(soup)
    markdown = re.sub(r" {2}\n([ \t]*)", r"\n\n\1", markdown)  # a <br> becomes a paragraph break
    markdown = _put_back_math(
        markdown, formulas, {macro.name: macro for macro in macros}, known_tex or {}
    )
    return re.sub(r"\n{3,}", "\n\n", markdown).strip("\n")


def _refuse_unconvertible(soup) -> None:
    for element in soup.find_all(True):
        if element.name == "img":
            raise Unconvertible(
                f'an image pasted into the field (<img src="{element.get("src", "")[:40]}">): '
                "add it as a figure in the sources instead"
            )
        if element.name in ("td", "th") and (
            _span(element, "rowspan") > 1 or _span(element, "colspan") > 1
        ):
            raise Unconvertible(
                "a table with merged cells (rowspan/colspan): Markdown tables cannot merge cells"
            )
        if element.name == "u":
            raise Unconvertible(
                "underlined text (<u>): Markdown has no underline; use bold or italics"
            )
        if element.name not in CONVERTIBLE_TAGS:
            raise Unconvertible(f"<{element.name}> has no Markdown form")
        if element.name in ("span", "div") and set(element.get("class") or ()) - {
            "arithmatex",
            "highlight",
        }:
            raise Unconvertible(
                f'<{element.name} class="{" ".join(element["class"])}"> has no Markdown form'
            )
        if element.name == "div" and "highlight" in (element.get("class") or ()):
            raise Unconvertible("a highlighted code block: edit fenced code in the sources")


def _span(cell, attribute: str) -> int:
    value = str(cell.get(attribute, "1")).strip()
    return int(value) if value.isdigit() else 1


def _remove_editor_noise(soup) -> None:
    """What Anki's editor and pasting add: styled spans and fonts (their text stays), `<div>` for
    a paragraph, `&nbsp;` for a space, a `<br>` that ends a block."""
    for element in soup.find_all(["span", "font"]):
        if "arithmatex" not in (element.get("class") or ()):
            element.unwrap()
    for element in soup.find_all("div"):
        if "arithmatex" not in (element.get("class") or ()):
            element.name = "p"
            element.attrs = {}
    for br in soup.find_all("br"):
        following = br.next_sibling
        if following is None or (
            not following.get_text().strip() and following.next_sibling is None
        ):
            br.decompose()
    for text in soup.find_all(string=True):
        if "\xa0" in text:
            text.replace_with(text.replace("\xa0", " "))


def _protect_math_and_dollars(soup, formulas: list[tuple[str, str]]) -> None:
    """Formulas and literal dollars become tokens markdownify passes through untouched."""
    for element in soup.find_all(["span", "div"], class_="arithmatex"):
        if element.name == "div":
            element.name = "p"  # display math is a paragraph of its own
            element.attrs = {}
        else:
            element.unwrap()
    for text in soup.find_all(string=True):
        if text.find_parent(["code", "pre"]) is not None:
            continue
        replaced = MATH.sub(lambda match: _math_token(match, formulas), str(text))
        replaced = replaced.replace("$", _TOKEN.format(kind="z", number=0))
        if replaced != text:
            text.replace_with(replaced)


def _math_token(match: re.Match, formulas: list[tuple[str, str]]) -> str:
    display = match.group(2) is not None
    formulas.append(("d" if display else "i", match.group(2) if display else match.group(1)))
    return _TOKEN.format(kind=formulas[-1][0], number=len(formulas) - 1)


def _put_back_math(
    markdown: str,
    formulas: list[tuple[str, str]],
    macros: dict[str, Macro],
    known_tex: dict[str, str],
) -> str:
    lines = []
    for line in markdown.split("\n"):
        indent = _continuation_indent(line)
        for match in reversed(list(_TOKENS.finditer(line))):
            kind, number = match.group(1), int(match.group(2))
            if kind == "z":
                line = line[: match.start()] + "\\$" + line[match.end() :]
                continue
            tex = known_tex.get(formulas[number][1]) or fold_macros(formulas[number][1], macros)
            before, after = line[: match.start()], line[match.end() :]
            # display math on a line of its own: a sentence may lead up to it, the rest goes below
            if kind == "d":
                before = before.rstrip() + "\n" + indent if before.strip() else before
                after = "\n" + indent + after.lstrip() if after.strip() else ""
            line = (
                before
                + (f"${tex}$" if kind == "i" else f"$${tex}$$").replace("\n", "\n" + indent)
                + after
            )
        lines.append(line)
    return "\n".join(lines)


def _continuation_indent(line: str) -> str:
    """How a line continuing `line` is indented: a list item's text is four spaces further in."""
    indent, marker = re.match(r"(\s*)((?:[-*+]|\d+\.) )?", line).groups()  # type: ignore[union-attr]
    return indent + ("    " if marker else "")


def fold_macros(tex: str, macros: dict[str, Macro]) -> str:
    """`tex` with each deck macro's expansion written as the macro again, where expanding the
    result gives exactly `tex` back (argument-free macros; others are left expanded)."""
    for macro in sorted(macros.values(), key=lambda macro: -len(macro.body)):
        if macro.args or not macro.body or macro.body not in tex:
            continue
        # not before a letter: `\E x` would expand to `\mathbb{E} x`, a different text
        folded = re.sub(re.escape(macro.body) + r"(?![A-Za-z])", "\\\\" + macro.name, tex)
        try:
            if expand_macros(folded, macros) == tex:
                tex = folded
        except MacroError:
            pass
    return tex


def _converter():
    from markdownify import MarkdownConverter

    class SourceDialect(MarkdownConverter):
        """markdownify for Python-Markdown: list continuation indented four spaces, tables keep
        their column alignment."""

        def convert_li(self, el, text, parent_tags):
            text = (text or "").strip()
            if not text:
                return "\n"
            parent = el.parent
            if parent is not None and parent.name == "ol":
                start = int(parent["start"]) if str(parent.get("start", "")).isdigit() else 1
                bullet = f"{start + len(el.find_previous_siblings('li'))}. "
            else:
                bullet = "- "
            lines = text.split("\n")
            loose = (
                el.find("p", recursive=False) is not None
            )  # Markdown made <p>s: blank lines between items
            return (
                bullet
                + lines[0]
                + "".join("\n" + ("    " + line if line.strip() else "") for line in lines[1:])
                + ("\n\n" if loose else "\n")
            )

        def convert_tr(self, el, text, parent_tags):
            # markdownify has convert_tr; its stub file does not declare it
            converted = super().convert_tr(el, text, parent_tags)  # type: ignore[misc]
            cells = el.find_all(["td", "th"])
            separator = "| " + " | ".join(["---"] * len(cells)) + " |"
            if separator not in converted:
                return converted
            aligned = "| " + " | ".join(_alignment(cell) for cell in cells) + " |"
            return converted.replace(separator, aligned)

    return SourceDialect(
        heading_style="ATX",
        bullets="-",
        strong_em_symbol="*",
        escape_underscores=True,
        escape_asterisks=True,
    )


def _alignment(cell) -> str:
    match = re.search(r"text-align:\s*(left|right|center)", cell.get("style", ""))
    return {"left": ":--", "right": "--:", "center": ":-:"}.get(
        match.group(1) if match else "", "---"
    )
