"""The cheat sheet's structure (builder/sheet.py) and its Markdown details, on a small deck:
outline order, deepest section wins, retired cards left out, deck macros expanded inside math
only, cloze deletions revealed, and a mistyped outline reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.cloze import reveal_clozes
from builder.load import load_deck
from builder.problems import SourceError
from builder.render import render_deck
from builder.sheet import build_sheet, load_outline, outline_problems
from builder.sheet_markdown import sheet_markdown
from builds import MINIMAL

CARDS = """\
subdeck: Concepts
tags: [sec-1]
cards:
  - id: deep
    kind: formula
    concept: Deep
    formula: $$\\E[X] = \\sum_x x\\,p(x)$$
    tags: [sec-1-2]
  - id: top
    kind: formula
    concept: Top
    zh: 顶
    formula: $$x^2$$
  - id: question
    kind: qa
    question: Why?
    answer: Because $\\E[Y] \\ge 0$; `$\\E$ in code` stays.
  - id: gap
    kind: cloze
    text: The mean is {{c1::$\\E[X]$}}, the ratio {{c2::$x^{\\frac{a}{b}}$::a fraction}}.
  - id: old
    kind: formula
    concept: Old
    formula: $$y$$
    retired: true
"""

OTHER = """\
subdeck: Unlisted
cards:
  - id: loose
    kind: qa
    question: Loose?
    answer: Yes.
"""

OUTLINE = """\
parts:
  - subdeck: Concepts
    title: Part A
    sections:
      - tag: sec-1
        title: 1 Top
        sections:
          - {tag: sec-1-2, title: 1.2 Deep}
          - {tag: sec-1-3, title: 1.3 Empty}
"""


@pytest.fixture
def cards_dir(tmp_path) -> Path:
    cards = tmp_path / "cards"
    cards.mkdir()
    deck_yaml = (MINIMAL / "cards" / "deck.yaml").read_text(encoding="utf-8")
    (cards / "deck.yaml").write_text(deck_yaml + "macros:\n  E: '\\mathbb{E}'\n", encoding="utf-8")
    (cards / "concepts.yaml").write_text(CARDS, encoding="utf-8")
    (cards / "other.yaml").write_text(OTHER, encoding="utf-8")
    (cards / "outline.yaml").write_text(OUTLINE, encoding="utf-8")
    return cards


def sheet_for(cards_dir: Path):
    deck = load_deck(cards_dir)  # outline.yaml is not read as a card file
    return deck, build_sheet(deck, render_deck(deck, {}), load_outline(cards_dir))


def test_cards_go_under_their_deepest_section_in_outline_order(cards_dir):
    deck, sheet = sheet_for(cards_dir)
    assert [part.title for part in sheet.parts] == ["Part A", "Unlisted"]
    part = sheet.parts[0]
    assert [(s.title, [n.card.id for n in s.notes]) for s in part.sections] == [
        ("1 Top", ["top", "question", "gap"]),
        ("1.2 Deep", ["deep"]),  # the empty 1.3 is left out
    ]
    assert [n.card.id for n in sheet.parts[1].notes] == ["loose"]
    assert "old" not in [n.card.id for n in sheet.notes]  # retired
    assert (
        outline_problems(load_outline(cards_dir), deck)[0].message
        == "no card in 'Concepts' has the tag 'sec-1-3'"
    )


def test_markdown_expands_macros_in_math_only_and_reveals_clozes(cards_dir):
    deck, sheet = sheet_for(cards_dir)
    text = sheet_markdown(sheet, "", deck.config.macros, {})
    assert "$$\\mathbb{E}[X] = \\sum_x x\\,p(x)$$" in text
    assert "$\\mathbb{E}[Y] \\ge 0$; `$\\E$ in code` stays." in text
    assert "The mean is **$\\mathbb{E}[X]$**, the ratio **$x^{\\frac{a}{b}}$**." in text
    assert "**Top** (顶)" in text and "### 1 Top" in text and "#### 1.2 Deep" in text
    assert text.index("## Part A") < text.index("## Unlisted")


def test_reveal_clozes_keeps_text_without_deletions():
    assert reveal_clozes("no deletions {here}") == "no deletions {here}"
    assert reveal_clozes("{{c1::a::hint}} and {{c12::b}}") == "**a** and **b**"


def test_a_broken_outline_is_reported_with_its_line(cards_dir):
    (cards_dir / "outline.yaml").write_text(
        "parts:\n  - subdeck: Concepts\n    sections:\n      - tilte: Oops\n", encoding="utf-8"
    )
    with pytest.raises(SourceError) as error:
        load_outline(cards_dir)
    messages = sorted(str(problem).split("outline.yaml:")[1] for problem in error.value.problems)
    assert messages == [
        "4:9: MD110 unknown key 'tilte' in a section (did you mean 'title'?)",
        "4:9: MD111 missing required key 'title'",
    ]


def test_no_outline_means_one_part_per_subdeck_in_source_order(cards_dir):
    (cards_dir / "outline.yaml").unlink()
    _, sheet = sheet_for(cards_dir)
    assert [part.title for part in sheet.parts] == ["Concepts", "Unlisted"]
    assert [n.card.id for n in sheet.parts[0].notes] == ["deep", "top", "question", "gap"]
