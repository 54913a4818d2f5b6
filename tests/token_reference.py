"""The tokeniser builder/token_sets.py replaced, kept as the reference its tests compare with:
one text at a time, a frozenset of strings, with MATH as it was first written. Do not speed it
up: it is what "the same tokens" means."""

from __future__ import annotations

import re

from builder.prose_stems import STEM_LENGTH, STOP_WORDS

TEX_NOISE = re.compile(
    r"\\(?:left|right)\.|\\(?:left|right|big{1,2}[lrm]?|displaystyle|textstyle|quad|qquad|[,;:!> ]"
    r"|mathrm|mathit|mathbf|boldsymbol|"
    r"bm|mathsf|mathtt|text|textrm|textit|textbf|operatorname\*?|mbox|limits|nolimits)(?![a-z])"
    r"|[{}&~$]|\\\\"
)
TOKEN = re.compile(r"\\[a-z]+|[a-z0-9]+|[^\s\w]")
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.S)
STEM = re.compile(rf"([a-z0-9]{{1,{STEM_LENGTH}}})[a-z0-9]*")
STOP_STEMS = frozenset(word[:STEM_LENGTH] for word in STOP_WORDS)
RUN = 3


def text_tokens(text: str) -> frozenset[str]:
    lowered = text.lower()
    if "$" not in lowered:
        return frozenset(STEM.findall(lowered)) - STOP_STEMS
    pieces = MATH.split(lowered)
    runs: list[str] = []
    for tex in map(formula_tokens, filter(None, pieces[1::3] + pieces[2::3])):
        runs += (
            map(" ".join, zip(tex, tex[1:], tex[2:], strict=False))
            if len(tex) >= RUN
            else [" ".join(tex)]
        )
    return (frozenset(STEM.findall(" ".join(pieces[0::3]))) - STOP_STEMS).union(runs)


def formula_tokens(tex: str) -> list[str]:
    return TOKEN.findall(
        TEX_NOISE.sub(" ", tex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    )
