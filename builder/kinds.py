"""Card kinds: each kind is one CardKind here plus its templates, found by its name:

- `templates/notetypes/<kind>.html`: the Anki note type's card templates, one Jinja block per
  side (`[% block <template>_front %]`, `[% block <template>_back %]`);
- `templates/export/<kind>.html`: the kind's entry in the HTML cheat sheet.

Everything else (load, check, render, package, the exports, the build summary) iterates over
KINDS and asks the kind. Note-type field and template names are in every learner's collection:
never rename or reorder them casually (a change forces a full sync, see anki-facts.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .card_kind import CardKind, FieldRenderer, StudyCard
from .cloze import CLOZE_OPENING, reveal_clozes

if TYPE_CHECKING:
    from .model import Card

# Source keys that are not Markdown text; a kind lists those it takes in `options`.
#   reverse: true/false (also study the other way round); language: a Pygments lexer name;
#   code_file: a file under cards/ whose text becomes the card's `code`.
OPTION_KEYS = ("reverse", "language", "code_file")
FILE_KEYS = {"code_file": "code"}  # option key → the text key its file's content fills


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _with_reverse(card: Card) -> int:
    return 2 if card.reverse else 1


def _forward_and_reverse(
    question: str, answer: str, more: tuple[str, ...] = ()
) -> Callable[[Card], tuple[StudyCard, ...]]:
    """Study cards of a kind with an optional reverse card, which asks for the `question` key.
    (Made once: the linter asks every card's study cards three times.)"""
    forward = (StudyCard("forward", (question,), (answer, *more)),)
    both = (*forward, StudyCard("reverse", (answer,), (question, *more), asks_for_name=True))

    def study(card: Card) -> tuple[StudyCard, ...]:
        return both if card.reverse else forward

    return study


# ---------------------------------------------------------------- formula


def _formula_fields(card: Card, to: FieldRenderer) -> dict[str, str]:
    return {
        "Concept": to.markdown(card.text["concept"], inline=True),
        "Formula": to.markdown(card.text["formula"]),
        "Explanation": to.markdown(card.text.get("explanation", "")),
        "Reverse": "y" if card.reverse else "",
    }


FORMULA = CardKind(
    name="formula",
    required=("concept", "formula"),
    optional=("explanation",),
    options=("reverse",),
    note_fields=("Concept", "Zh", "Formula", "Explanation", "Figure", "Reverse", "CardId"),
    templates=(("Concept → Formula", "forward"), ("Formula → Concept", "reverse")),
    fields=_formula_fields,
    anki_cards=_with_reverse,
    markdown_entry=lambda card, text, zh: [
        f"**{_one_line(text['concept'])}**{zh}",
        text["formula"],
        text.get("explanation", ""),
    ],
    study=_forward_and_reverse("concept", "formula", ("explanation",)),
)


# ---------------------------------------------------------------- qa


def _qa_fields(card: Card, to: FieldRenderer) -> dict[str, str]:
    return {
        "Question": to.markdown(card.text["question"], inline=True),
        "Answer": to.markdown(card.text["answer"]),
        "FollowupQuestion": to.markdown(card.text.get("followup_question", ""), inline=True),
        "FollowupAnswer": to.markdown(card.text.get("followup_answer", "")),
    }


def _qa_markdown(card: Card, text: dict[str, str], zh: str) -> list[str]:
    blocks = [f"**Q: {_one_line(text['question'])}**{zh}", text["answer"]]
    if "followup_question" in text:
        blocks += [
            f"**Follow-up: {_one_line(text['followup_question'])}**",
            text["followup_answer"],
        ]
    return blocks


QA = CardKind(
    name="qa",
    required=("question", "answer"),
    optional=("followup_question", "followup_answer"),
    pairs=(("followup_question", "followup_answer"),),
    note_fields=(
        "Question",
        "Zh",
        "Answer",
        "FollowupQuestion",
        "FollowupAnswer",
        "Figure",
        "CardId",
    ),
    templates=(("Question", "question"), ("Follow-up", "followup")),
    fields=_qa_fields,
    anki_cards=lambda card: 2 if "followup_question" in card.text else 1,
    markdown_entry=_qa_markdown,
    study=lambda card: (
        (StudyCard("question", ("question",), ("answer",)),)
        + (
            (StudyCard("followup", ("followup_question",), ("followup_answer",)),)
            if "followup_question" in card.text
            else ()
        )
    ),
)


# ---------------------------------------------------------------- cloze

CLOZE_DELETION = re.compile(r"\{\{c[1-9][0-9]*::")


def _cloze_problems(card: Card) -> list[tuple[str, str]]:
    if card.text.get("text") and not CLOZE_DELETION.search(card.text["text"]):
        return [
            ("text", "'text' has no cloze deletion {{c1::...}}, so Anki would make no card from it")
        ]
    return []


def _cloze_markdown(card: Card, text: dict[str, str], zh: str) -> list[str]:
    return [
        reveal_clozes(text["text"]) + (f"\n\n{zh.strip()}" if zh else ""),
        text.get("extra", ""),
    ]


CLOZE = CardKind(
    name="cloze",
    required=("text",),
    optional=("extra",),
    note_fields=("Text", "Zh", "Extra", "Figure", "CardId"),
    templates=(("Cloze", "cloze"),),
    fields=lambda card, to: {
        "Text": to.markdown(card.text["text"]),
        "Extra": to.markdown(card.text.get("extra", "")),
    },
    anki_cards=lambda card: len(
        set(CLOZE_OPENING.findall(card.text["text"]))
    ),  # one per deletion number
    markdown_entry=_cloze_markdown,
    study=lambda card: (
        StudyCard("cloze", ("text",), ("extra",)),
    ),  # the deletions are the answers
    source_problems=_cloze_problems,
    is_cloze=True,
)


# ---------------------------------------------------------------- code


def _code_fields(card: Card, to: FieldRenderer) -> dict[str, str]:
    return {
        "Task": to.markdown(card.text["task"], inline=True),
        "Code": to.code(card.text["code"], card.language),
        "Explanation": to.markdown(card.text.get("explanation", "")),
    }


def _code_fence(code: str) -> str:
    """A backtick fence longer than any backtick run in the code (CommonMark closes a fence at a
    run at least as long as the opening one), so no line of the code can end the block."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def _code_markdown(card: Card, text: dict[str, str], zh: str) -> list[str]:
    fence = _code_fence(card.text["code"])
    code = f"{fence}{card.language}\n{card.text['code'].rstrip()}\n{fence}"
    return [f"**{_one_line(text['task'])}**{zh}", code, text.get("explanation", "")]


CODE = CardKind(
    name="code",
    required=("task",),
    # `code` is required in effect: written inline, or read from `code_file` (exactly one of them)
    optional=("code", "explanation"),
    options=("code_file", "language"),
    not_markdown=("code",),
    note_fields=("Task", "Zh", "Code", "Explanation", "Figure", "CardId"),
    templates=(("Task → Code", "task"),),
    fields=_code_fields,
    anki_cards=lambda card: 1,
    markdown_entry=_code_markdown,
    study=lambda card: (StudyCard("task", ("task",), ("code", "explanation")),),
)


# ------------------------------------------------------ basic (Anki's "Basic (and reversed card)")


BASIC = CardKind(
    name="basic",
    required=("front", "back"),
    optional=(),
    options=("reverse",),
    note_fields=("Front", "Zh", "Back", "Figure", "Reverse", "CardId"),
    templates=(("Front → Back", "forward"), ("Back → Front", "reverse")),
    fields=lambda card, to: {
        "Front": to.markdown(card.text["front"], inline=True),
        "Back": to.markdown(card.text["back"]),
        "Reverse": "y" if card.reverse else "",
    },
    anki_cards=_with_reverse,
    markdown_entry=lambda card, text, zh: [f"**{_one_line(text['front'])}**{zh}", text["back"]],
    study=_forward_and_reverse("front", "back"),
)


# The order is the order of `unknown kind` messages and of the build summary.
KINDS: dict[str, CardKind] = {kind.name: kind for kind in (FORMULA, QA, CLOZE, CODE, BASIC)}
