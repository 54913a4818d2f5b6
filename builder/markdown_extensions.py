"""mathdeck's own Markdown processors, which markdown_math registers on its converter: deck
macros and cloze-safe braces in every formula (MathRewriter), and the blank lines arithmatex needs
around a `$$` line (DisplayMathParagraphs).
"""

from __future__ import annotations

import html

from .macros import Macro, expand_macros


class MathRewriter:
    """A Markdown tree processor (Markdown only calls `run`) that rewrites the TeX of every
    formula arithmatex found, after Markdown parsed it:

    - deck macros are expanded into plain TeX (phone apps cannot load a MathJax config);
    - in cloze cards, `}}` is spaced to `} }`: Anki and AnkiDroid would read it as the end of the
      deletion (`{{c1::$\\frac{a}{b}}$}}`); for TeX the space changes nothing.
    """

    def __init__(self, macros: tuple[Macro, ...], cloze: bool):
        self.macros = {macro.name: macro for macro in macros}
        self.cloze = cloze
        # A formula recurs across a deck's cards (~60% of them at 20,000 cards) and expanding its
        # macros is ~10 us: each is rewritten once. A MacroError is raised again at every use.
        self._rewritten: dict[str, str] = {}

    def run(self, root):
        from markdown.util import AtomicString

        for element in root.iter():
            if element.text and is_math(element.get("class")):
                # arithmatex escapes display math itself (<div>) but leaves inline math raw.
                escaped = element.tag == "div"
                text = self.rewrite(html.unescape(element.text) if escaped else element.text)
                element.text = AtomicString(escape_math(text) if escaped else text)

    def rewrite(self, text: str) -> str:
        """A formula with its delimiters (`\\(TeX\\)`), rewritten. Only the TeX between them:
        a macro argument must never swallow the closing delimiter."""
        rewritten = self._rewritten.get(text)
        if rewritten is None:
            opening, tex, closing = text[:2], text[2:-2], text[-2:]
            tex = expand_macros(tex, self.macros)
            if self.cloze:
                tex = cloze_safe(tex)
            rewritten = opening + tex + closing
            # most formulas use no macro: keep the text itself, not a copy (memory at 20,000 cards)
            self._rewritten[text] = rewritten = text if rewritten == text else rewritten
        return rewritten


class DisplayMathParagraphs:
    """A Markdown preprocessor (Markdown only calls `run`) that gives a `$$...$$` line (or a
    multi-line `$$` block) the blank lines around it that arithmatex needs to see display math, so
    authors may write it straight after a sentence, as GitHub allows. Works on whole lines only;
    fenced code is left alone."""

    def __init__(self, md=None):
        self.md = md

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        fence: str | None = None
        in_math = False
        for line in lines:
            stripped = line.strip()
            if fence is None and not in_math and stripped[:3] in ("```", "~~~"):
                fence = stripped[:3]
            elif fence is not None:
                if stripped.startswith(fence):
                    fence = None
            elif not in_math and stripped.startswith("$$"):
                if result and result[-1].strip():
                    result.append("")
                single_line = len(stripped) >= 4 and stripped.endswith("$$")
                in_math = not single_line
                result.append(line)
                if single_line:
                    result.append("")
                continue
            elif in_math and stripped.endswith("$$"):
                in_math = False
                result.append(line)
                result.append("")
                continue
            result.append(line)
        return result


def cloze_safe(tex: str) -> str:
    while "}}" in tex:
        tex = tex.replace("}}", "} }")
    return tex


def escape_math(tex: str) -> str:
    return (
        tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def is_math(class_attribute: str | None) -> bool:
    """Whether an element's class attribute marks it as arithmatex's math
    (`<span|div class="arithmatex">`)."""
    return "arithmatex" in (class_attribute or "").split()
