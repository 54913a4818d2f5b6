"""lint_rules: the card linter's rules, MD301-MD305 (README, "Card linter"), one function each:
a card (or, for near-duplicates, all cards) in, warnings with a code, a place and a fix out.
builder/lint.py runs them and applies the `lint:` settings; lint_text measures the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
from .markdown_math import cloze_deletions
from .model import KINDS, Card
from .near_duplicates import MATH, WORD, near_duplicates, text_tokens
from .problems import Problem, one_line

SIMILARITY = 0.75  # Jaccard of near_duplicates.text_tokens from which two texts are duplicates


def _warning(card: Card, key: str, code: str, message: str) -> Problem:
    where = card.text_locations.get(key, card.location)
    return Problem(where, f"card '{card.id}': {message}", "warning", card.id, code)


# ---------------------------------------------------------------- MD301 near-duplicate


@dataclass(frozen=True)
class _Text:
    card: Card
    key: str
    side: str  # "front" or "back"


def near_duplicate_problems(cards: list[Card]) -> list[Problem]:
    """Fronts like another card's front, backs like another card's back; a reverse card's front
    is its forward card's back, so formulas are compared once, as backs. One warning per card,
    at its text, naming the earlier card it nearly repeats."""
    texts = [_Text(card, key, side) for card in cards for key, side in _compared_keys(card)]
    problems, seen = [], set()
    for side in ("front", "back"):
        chosen = [text for text in texts if text.side == side]
        sets = [text_tokens(text.card.text[text.key]) for text in chosen]
        for pair in near_duplicates(sets, SIMILARITY, [text.card.id for text in chosen]):
            later, earlier = chosen[pair.later], chosen[pair.earlier]
            if later.card.id in seen:
                continue
            seen.add(later.card.id)
            other = earlier.card.text_locations.get(earlier.key, earlier.card.location)
            problems.append(
                _warning(
                    later.card,
                    later.key,
                    "MD301",
                    (
                        f"'{later.key}' nearly repeats the '{earlier.key}' "
                        f"of card '{earlier.card.id}' ({other}; "
                        f"{pair.similarity:.0%} alike): merge them, "
                        "make each ask something the other does not, "
                        "or retire one (`retired: true`)"
                    ),
                )
            )
    return problems


def _compared_keys(card: Card) -> list[tuple[str, str]]:
    """(key, side): what each Anki card of the note asks, and its main answer (explanations
    aside)."""
    keys: dict[str, str] = {}
    for study in KINDS[card.kind].study(card):
        if study.asks_for_name:
            continue  # its front is the forward card's answer, its answer the forward card's front
        for key in study.front:
            keys.setdefault(key, "front")
        if study.back and study.back[0] in card.text:
            keys.setdefault(study.back[0], "back")
    return [(key, side) for key, side in keys.items() if card.text.get(key, "").strip()]


# ---------------------------------------------------------------- MD302 too-long


def long_back_problems(card: Card, word_budget: int, display_budget: int) -> list[Problem]:
    """The longest back of the note, if over a budget (one warning per note: the explanation is
    on the backs of both a card and its reverse)."""
    markdown = KINDS[card.kind].markdown
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
        _warning(
            card,
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


def given_away_problems(card: Card) -> list[Problem]:
    if KINDS[card.kind].is_cloze:
        return _cloze_given_away(card)
    problems = []
    for study in KINDS[card.kind].study(card):
        if not study.asks_for_name:
            continue
        name = card.text[study.back[0]]
        terms = key_terms(name)
        named = [term for term in terms if stem(term) in _front_words(card, study)]
        if named and (len(named) * GIVEN_AWAY >= len(terms) or set(named) & abbreviations(name)):
            problems.append(
                _warning(
                    card,
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


def _cloze_given_away(card: Card) -> list[Problem]:
    """A deletion whose answer is still on its card's front: elsewhere in the text (another
    deletion, which that card shows) or in its own hint."""
    text = card.text["text"]
    deletions = cloze_deletions(text)
    problems = []
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
                _warning(
                    card,
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


def placeholder_problems(card: Card) -> list[Problem]:
    problems = []
    for key in KINDS[card.kind].markdown:
        text = card.text.get(key)
        if text is None:
            continue
        if not text.strip():
            what = "is empty"
        elif PLACEHOLDER.match(text.strip()) or (
            any(word in text for word in PLACEHOLDER_WORDS)
            and PLACEHOLDER_WORD.search(INLINE_CODE.sub(" ", FENCED_CODE.sub(" ", text)))
        ):
            what = f"is a placeholder ('{one_line(text, 40)}')"
        else:
            continue
        problems.append(
            _warning(card, key, "MD304", f"'{key}' {what}: write it, or remove the key")
        )
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


def document_reference_problems(card: Card) -> list[Problem]:
    problems = []
    for key in KINDS[card.kind].markdown:
        text = card.text.get(key, "")
        lowered = text.lower()
        if not any(cue in lowered for cue in DOCUMENT_CUES):
            continue
        match = DOCUMENT_REFERENCE.search(
            MATH.sub(" ", INLINE_CODE.sub(" ", FENCED_CODE.sub(" ", text)))
        )
        if match:
            problems.append(
                _warning(
                    card,
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
