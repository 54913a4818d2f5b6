"""lint_rules: the card linter's rules about one card, MD302-MD305 (README, "Card linter"), one
function each: a card in, findings with a code, the card's key and a fix out. builder/lint.py runs
them and applies the `lint:` settings; lint_text measures the text; MD301, near-duplicates, is
lint_duplicates.
"""

from __future__ import annotations

import re
from typing import Final

from .cloze import cloze_deletions
from .kinds import StudyCard
from .lint_text import (
    FENCED_CODE,
    INLINE_CODE,
    LETTERS,
    TEX_COMMAND,
    abbreviations,
    comparable,
    count_words,
    display_lines,
    key_terms,
    may_exceed_budgets,
    stem,
)
from .model import KINDS, Card
from .problems import one_line
from .records import Record
from .token_sets import MATH, WORD

# Each kind's Markdown keys, the ones the rules read (CardKind.markdown makes its tuple per call).
MARKDOWN_KEYS = {name: kind.markdown for name, kind in KINDS.items()}


class Finding(Record):
    """A warning about one card before it has a place: builder/lint.py puts it at the card's
    `key` as the card stands (a build may remember findings of a card whose lines moved)."""

    __slots__ = field_names = ("key", "code", "message")
    key: Final[str]
    code: Final[str]
    message: Final[str]

    def __init__(self, key: str, code: str, message: str) -> None:
        self.key = key
        self.code = code
        self.message = message


# ---------------------------------------------------------------- MD302 too-long


def long_back_problems(card: Card, word_budget: int, display_budget: int) -> list[Finding]:
    """The longest back of the note, if over a budget (one warning per note: the explanation is
    on the backs of both a card and its reverse)."""
    markdown = MARKDOWN_KEYS[card.kind]
    worst = None
    for study in KINDS[card.kind].study(card):
        keys = [key for key in study.back if key in card.text and key in markdown]
        if not keys or not may_exceed_budgets(
            [card.text[key] for key in keys], word_budget, display_budget
        ):
            continue
        words = sum(count_words(card.text[key]) for key in keys)
        lines = sum(display_lines(card.text[key]) for key in keys)
        if (
            keys
            and (words > word_budget or lines > display_budget)
            and (worst is None or words > worst[1])
        ):
            worst = (study, words, lines, keys[0])
    if worst is None:
        return []
    study, words, lines, key = worst
    over = []
    if words > word_budget:
        over.append(f"{words} words (budget {word_budget})")
    if lines > display_budget:
        over.append(f"{lines} display formula lines (budget {display_budget})")
    return [
        Finding(
            key,
            "MD302",
            (
                f"the back of its {study.template} card has {' and '.join(over)}, "
                "too much to recall at once: "
                "split it into cards that each ask one thing, or cut it to what must be recalled"
            ),
        )
    ]


# ---------------------------------------------------------------- MD303 gives-away

# The front gives the name away when it shows a third of the name's key terms, or the
# abbreviation the name defines: "Shift invariance of softmax" beside softmax(x + c) = softmax(x).
GIVEN_AWAY = 3


def given_away_problems(card: Card) -> list[Finding]:
    if KINDS[card.kind].is_cloze:
        return _cloze_given_away(card)
    problems: list[Finding] = []
    for study in KINDS[card.kind].study(card):
        if not study.asks_for_name:
            continue
        name = card.text[study.back[0]]
        terms = key_terms(name)
        named = [term for term in terms if stem(term) in _front_words(card, study)]
        if named and (len(named) * GIVEN_AWAY >= len(terms) or set(named) & abbreviations(name)):
            problems.append(
                Finding(
                    study.front[0],
                    "MD303",
                    (
                        f"the front of its {study.template} card shows "
                        f"{', '.join(repr(term) for term in named)}, "
                        f"which names the answer ('{one_line(card.text[study.back[0]], 60)}'): "
                        "take it off the front (a label in \\text{}, \\underbrace, a subscript) "
                        "or reword it"
                    ),
                )
            )
    return problems


def _front_words(card: Card, study: StudyCard) -> set[str]:
    """Stems of the words a front shows: its prose and the labels in its math (\\text{bias},
    \\underbrace{...}_{\\text{variance}}, _{\\mathrm{MLE}}): letter runs once TeX commands
    are gone."""
    words: set[str] = set()
    for key in study.front:
        text = card.text.get(key, "")
        words.update(stem(word) for word in WORD.findall(MATH.sub(" ", text).lower()))
        for match in MATH.finditer(text):
            words.update(
                stem(word.lower())
                for word in LETTERS.findall(TEX_COMMAND.sub(" ", match.group(1) or match.group(2)))
            )
    return words


def _cloze_given_away(card: Card) -> list[Finding]:
    """A deletion whose answer is still on its card's front: elsewhere in the text (another
    deletion, which that card shows) or in its own hint."""
    text = card.text["text"]
    deletions = cloze_deletions(text)
    problems: list[Finding] = []
    for deletion in deletions:
        answer = comparable(deletion.answer)
        if len(answer) < 3:
            continue
        front = "".join(
            (part.hint if part.number == deletion.number else part.answer)
            + text[part.end : next_start]
            for part, next_start in zip(
                deletions, [d.start for d in deletions[1:]] + [len(text)], strict=True
            )
        )
        front = text[: deletions[0].start] + front
        if f" {answer} " in f" {comparable(front)} ":  # whole words: Adam is not in AdamW
            problems.append(
                Finding(
                    "text",
                    "MD303",
                    (
                        f"the card for c{deletion.number} shows its answer "
                        f"'{one_line(deletion.answer, 40)}' elsewhere on the front "
                        "(in the text or a hint): delete it there too, or reword"
                    ),
                )
            )
    return problems


# ---------------------------------------------------------------- MD304 placeholder

PLACEHOLDER = re.compile(
    r"^\W*(?:todo|tbd|tba|fixme|xxx|placeholder|lorem ipsum|\.\.\.|…|-+|\?+)\W*$", re.I
)
PLACEHOLDER_WORDS = ("TODO", "TBD", "FIXME", "XXX")
PLACEHOLDER_WORD = re.compile(r"\b(?:" + "|".join(PLACEHOLDER_WORDS) + r")\b")
PLACEHOLDER_CUE = re.compile("|".join(PLACEHOLDER_WORDS))  # in every match, code or not


def placeholder_problems(card: Card) -> list[Finding]:
    problems: list[Finding] = []
    for key in MARKDOWN_KEYS[card.kind]:
        text = card.text.get(key)
        if text is None:
            continue
        if not text.strip():
            what = "is empty"
        elif PLACEHOLDER.match(text.strip()) or (
            PLACEHOLDER_CUE.search(text)
            and PLACEHOLDER_WORD.search(INLINE_CODE.sub(" ", FENCED_CODE.sub(" ", text)))
        ):
            what = f"is a placeholder ('{one_line(text, 40)}')"
        else:
            continue
        problems.append(Finding(key, "MD304", f"'{key}' {what}: write it, or remove the key"))
    return problems


# ---------------------------------------------------------------- MD305 refers-to-document

DOCUMENT_REFERENCE = re.compile(
    r"\b(?:the\s+seed(?!\s+of\b)(?!\s+(?:value|argument|parameter)s?\b)"
    r"|(?:the|this|our)\s+cheat[\s-]?sheet"
    r"|the\s+(?:text|section|paragraph|passage|document|chapter|page)\s+(?:above|below)"
    r"|(?:see|as\s+(?:mentioned|stated|shown|noted|discussed|said))\s+(?:above|below|earlier)"
    r"|the\s+(?:original|source)\s+(?:text|document|notes?|sheet)"
    r"|(?:the\s+)?above[\s-]mentioned)\b",
    re.I,
)


DOCUMENT_CUES = (
    "seed",
    "cheat",
    "above",
    "below",
    "earlier",
    "original",
    "source",
)  # one is in every match


def document_reference_problems(card: Card) -> list[Finding]:
    texts = [(key, card.text.get(key, "")) for key in MARKDOWN_KEYS[card.kind]]
    if not _has_cue("\n".join(text for _, text in texts)):  # a cue never spans a line break
        return []
    problems: list[Finding] = []
    for key, text in texts:
        if not _has_cue(text):
            continue
        match = DOCUMENT_REFERENCE.search(
            MATH.sub(" ", INLINE_CODE.sub(" ", FENCED_CODE.sub(" ", text)))
        )
        if match:
            problems.append(
                Finding(
                    key,
                    "MD305",
                    (
                        f"'{key}' refers to a document the learner never saw "
                        f"('{one_line(match.group(), 40)}'): "
                        "say it in the card's own words "
                        '("A common claim is …; it is wrong because …")'
                    ),
                )
            )
    return problems


def _has_cue(text: str) -> bool:
    lowered = text.lower()
    return any(cue in lowered for cue in DOCUMENT_CUES)
