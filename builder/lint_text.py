"""lint_text: how the card linter (builder/lint.py) reads a card's Markdown: words and display
lines counted (MD302), a name's key terms and abbreviations, stems, TeX compared without spacing
(MD303), and the patterns that mask code before prose is searched. Pure functions of strings.
"""

from __future__ import annotations

import re

from .prose_stems import STOP_WORDS
from .token_sets import MATH

DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_CODE = re.compile(r"`[^`\n]+`")
FENCED_CODE = re.compile(r"^(```+|~~~+).*?^\1", re.S | re.M)

# A run of non-space characters with one of these is a word: found from its first such character
# (not a space itself: U+3000 is in the range). The characters are [A-Za-z0-9\u00c0-\uffff],
# written as what they are not: re compiles a range by visiting each of its characters, and
# this one's 65,000 took ~8 ms of every build's start (the tests compare the two on every one).
COUNTED_RUN = re.compile(r"[^\x00-/:-@\[-`{-\xbf\U00010000-\U0010ffff](?<!\s)\S*")


def may_exceed_budgets(texts: list[str], word_budget: int, display_budget: int) -> bool:
    """A cheap bound first. A word that count_words finds runs to the end of its run of
    non-space characters, so a text has at most as many words as runs, plus two for each
    formula or code span count_words replaces (" M " may split a run in three), each of which
    takes two `$`, backticks or tildes at least. Every `$$` pair or `\\\\` is at most one
    display line."""
    return (
        sum(
            len(text.split()) + text.count("$") + text.count("`") + text.count("~")
            for text in texts
        )
        > word_budget
        or sum(text.count("$$") // 2 + text.count("\\\\") for text in texts) > display_budget
    )


def count_words(markdown: str) -> int:
    """Words of prose; an inline formula or inline code is one word, display math and code
    blocks none. (Each pattern runs only where its delimiter is: most texts have few.)"""
    text = DISPLAY.sub(" ", markdown) if "$$" in markdown else markdown
    if "```" in text or "~~~" in text:
        text = FENCED_CODE.sub(" ", text)
    if "`" in text:
        text = INLINE_CODE.sub(" C ", text)
    if "$" in text:
        text = MATH.sub(" M ", text)
    return len(COUNTED_RUN.findall(text))


def display_lines(markdown: str) -> int:
    """Lines of display math: one per `$$...$$`, plus one per `\\\\` row break inside it."""
    return sum(1 + block.count("\\\\") for block in DISPLAY.findall(markdown))


# Words that name no concept of their own: "closed form", "definition", "rule".
GENERIC_WORDS = STOP_WORDS | frozenset(
    """
formula formulas definition defined rule rules form closed equation equations expression
identity property properties value values general case cases data function functions term terms
given using use used key main simple basic standard common example number numbers way ways
whole part parts
""".split()  # noqa: SIM905
)
TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
LETTERS = re.compile(r"[A-Za-z]{2,}")


def key_terms(text: str) -> list[str]:
    """The words of a name that identify it, one per stem: prose words (not math), neither stop
    words nor generic, of 3 letters or more, or acronyms (MLE, KL) of 2."""
    terms: dict[str, str] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z0-9]*", MATH.sub(" ", text)):
        acronym = word.isupper() and len(word) >= 2
        if (acronym or len(word) >= 3) and word.lower() not in GENERIC_WORDS:
            terms.setdefault(stem(word), word)
    return list(terms.values())


def abbreviations(name: str) -> set[str]:
    """The abbreviations a name defines: "Maximum likelihood estimation (MLE)" → {"MLE"}."""
    return set(re.findall(r"\(([A-Z][A-Za-z]*[A-Z])\)", name))


def stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def comparable(text: str) -> str:
    """Lowercase words and TeX without spacing, so `\\sigma(x)` matches `\\sigma (x)`."""
    return " ".join(re.findall(r"\\[a-z]+|[a-z0-9]+|[^\sa-z0-9{}]", text.lower()))
