"""Static SVG of formulas as Anki's MathJax would draw them, for pages that run no JavaScript
(the cheat sheet's HTML): one run of ``builder/mathjax/typeset.mjs`` per batch, through the same
node and MathJax as the checks (mathjax.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from .mathjax import formulas_json, json_answer, node_run
from .mathjax_install import MathJaxFailed, MathJaxUnavailable, require_node_setup
from .records import Record

TYPESET_SCRIPT = Path(__file__).resolve().parent / "mathjax" / "typeset.mjs"


class TypesettingFailed(MathJaxFailed):
    """MathJax could not typeset the page's formulas (they were checked before): said as such,
    not as a failure of the checker."""


class TypesetMath(Record):
    """Static SVG for a batch of formulas (see builder/mathjax/typeset.mjs)."""

    __slots__ = field_names = ("formulas", "defs", "css", "errors")
    formulas: Final[list[str]]  # one <mjx-container> per formula, in batch order
    defs: Final[str]  # the glyphs every formula <use>s: put once in the page, before the formulas
    css: Final[str]  # MathJax's stylesheet for its SVG output
    errors: Final[list[int]]  # positions of formulas MathJax could not parse (their source shown)

    def __init__(self, formulas: list[str], defs: str, css: str, errors: list[int]) -> None:
        self.formulas = formulas
        self.defs = defs
        self.css = css
        self.errors = errors


def typeset_svg(items: Sequence[tuple[str, bool]], tex_links: str = "none") -> TypesetMath:
    """(TeX, display?) → SVG as Anki's MathJax would draw it, for pages that run no JavaScript.
    MathJax's `safe` extension drops links (but https: ones when `tex_links` is "https"),
    classes, ids and unsafe styles: a second wall behind the check."""
    unique = list(dict.fromkeys((tex, bool(display)) for tex, display in items))
    try:
        node, root = require_node_setup()
        answer = json_answer(
            node_run([node, str(TYPESET_SCRIPT)], formulas_json(unique), root, tex_links),
            TYPESET_SCRIPT.name,
        )
    except (MathJaxUnavailable, MathJaxFailed) as error:
        raise TypesettingFailed(str(error)) from None
    if len(answer["formulas"]) != len(unique):
        raise TypesettingFailed(
            f"{TYPESET_SCRIPT.name} answered {len(answer['formulas'])} of {len(unique)}"
        )
    svg = dict(zip(unique, answer["formulas"], strict=True))
    failed = {unique[index] for index in answer["errors"]}
    keys = [(tex, bool(display)) for tex, display in items]
    return TypesetMath(
        [svg[key] for key in keys],
        answer["defs"],
        answer["css"],
        [index for index, key in enumerate(keys) if key in failed],
    )
