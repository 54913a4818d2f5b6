"""bench_decks: the synthetic projects `mathdeck bench` builds, and the edits it makes to them.

Like real notes, each card has a few formulas of its own (a display formula, a value) among
common notation that recurs across the deck ($p(x)$, $\\sigma^2$, ...): 5.4 formulas per card,
about 2.2 of them found on no other card. The deck is clean (no warnings), as an author keeps
one: its code lines fit a phone's code box, and each card's prose names things of its own (a few
made-up words per field, `_words`) so that no two cards read nearly alike to the linter's
near-duplicate rule, as in a real deck.
"""

from __future__ import annotations

import random
import re
from functools import cache
from pathlib import Path

CARDS_PER_FILE = 200
DECK_YAML = """\
title: Synthetic Bench Deck
slug: bench
deck_id: 1764090000001
version: 1.0.0
description: |
  A synthetic deck of {count:,} cards for `mathdeck bench`.
macros:
  E: '\\mathbb{{E}}'
  KL: 'D_{{\\mathrm{{KL}}}}(#1 \\,\\|\\, #2)'
note_types:
  formula: 1764090000101
  qa: 1764090000102
  code: 1764090000103
  cloze: 1764090000104
paths:  # the flagship's layout: figures/, dist/ and .cache/ beside cards/
  figures: ../figures
  dist: ../dist
  cache: ../.cache
"""


SYLLABLES = [consonant + vowel for consonant in "bdklmn" for vowel in "aeiou"]


@cache
def _vocabulary() -> list[str]:
    """27,000 made-up words, each with its own first six letters (the linter's stem)."""
    return [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]


def _words(i: int, field: str, count: int = 3) -> str:
    """`count` made-up words for one field of card `i`: the same on every run."""
    pick = random.Random(f"{i}/{field}")
    return " ".join(pick.choice(_vocabulary()) for _ in range(count))


def _formula_card(i: int) -> str:
    k = i % 20
    return f"""\
  - id: syn-{i:05d}-formula
    kind: formula
    concept: Expectation of the {_words(i, "concept")} $X_{{{k}}}$ under $\\mathcal{{N}}(\\mu, \\sigma^2)$ (case {i})
    formula: |
      $$\\E[X_{{{i}}}] = \\int x\\,\\mathcal{{N}}(x \\mid \\mu_{{{i}}}, \\sigma^2)\\,\\mathrm{{d}}x$$
    explanation: |
      Linearity gives $\\E[a X + b] = a\\,\\E[X] + b$, and the variance is $\\sigma^2 + {i}$;
      see **{_words(i, "explanation", 2)}** and `np.mean(x[{i}])`, {_words(i, "why", 4)}.
    reverse: {"true" if i % 2 else "false"}
    level: L{1 + i % 3}
    tags: [synthetic, t{i % 17}]
"""


def _qa_card(i: int) -> str:
    k = i % 20
    return f"""\
  - id: syn-{i:05d}-qa
    kind: qa
    zh: 相对熵 {i}
    question: 'Why is $\\KL{{p}}{{q_{{{k}}}}} \\ge 0$ for the {_words(i, "question")}?'
    answer: |
      By Jensen's inequality on the convex $-\\log$:

      $$\\begin{{aligned}} \\KL{{p}}{{q}} &= \\sum_x p(x)\\log\\frac{{p(x)}}{{q_{{{i}}}(x)}} \\\\ &\\ge -\\log \\sum_x q_{{{i}}}(x) = 0 \\end{{aligned}}$$

      - Equality iff $p = q$ almost everywhere.
      - Not symmetric: $\\KL{{p}}{{q}} \\ne \\KL{{q}}{{p}}$ in general ({_words(i, "answer", 8)}).
    followup_question: 'What is $\\KL{{\\mathcal{{N}}(\\mu, 1)}}{{\\mathcal{{N}}(0, 1)}}$ for the {_words(i, "followup")} $\\mu = {i}$?'
    followup_answer: |
      $\\frac{{1}}{{2}}\\mu^2 = {i * i / 2:g}$: half the squared distance between the means ({_words(i, "means")}).
    level: L2
    tags: [synthetic, info, q{i % 23}]
"""


def _code_card(i: int) -> str:
    return f"""\
  - id: syn-{i:05d}-code
    kind: code
    task: Write a numerically stable log-sum-exp of the {_words(i, "task")} over `dim={i % 4}`.
    code: |
      import torch


      def {_words(i, "name", 1)}(x, dim={i % 4}):
          # The {_words(i, "comment", 5)}.
          m = x.amax(dim=dim, keepdim=True)
          {_words(i, "e", 1)} = (x - m).exp()
          {_words(i, "s", 1)} = {_words(i, "e", 1)}.sum(dim, keepdim=True)
          return (m + {_words(i, "s", 1)}.log()).squeeze(dim)
    explanation: |
      $\\log\\sum_j e^{{x_j}} = m + \\log\\sum_j e^{{x_j - m}}$ with $m = \\max_j x_j$, so no
      exponent exceeds $0$ ({_words(i, "code explanation", 4)}, $x \\in \\mathbb{{R}}^{{{i}}}$).
    level: L1
    tags: [synthetic, pytorch]
"""


CARD_MAKERS = (_formula_card, _qa_card, _formula_card, _qa_card, _code_card)


def write_synthetic_project(root: Path, count: int, per_file: int = CARDS_PER_FILE) -> Path:
    """A project with `count` cards in files of `per_file`; returns its cards folder."""
    cards = root / "cards"
    cards.mkdir(parents=True)
    (root / "figures").mkdir()
    (cards / "deck.yaml").write_text(DECK_YAML.format(count=count), encoding="utf-8")
    for start in range(0, count, per_file):
        body = "".join(
            CARD_MAKERS[i % len(CARD_MAKERS)](i) for i in range(start, min(count, start + per_file))
        )
        text = f'subdeck: "Synthetic {start // per_file:03d}"\ntags: [bench]\ncards:\n{body}'
        (cards / f"synthetic-{start // per_file:03d}.yaml").write_text(text, encoding="utf-8")
    return cards


def edit_one_card(cards: Path, serial: int) -> None:
    """Change one card's text and one of its formulas, as an author does between two builds."""
    files = sorted(p for p in cards.glob("*.yaml") if p.name != "deck.yaml")
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    edited, count = re.subn(
        r"(\n    explanation: \|\n      )",
        rf"\1Edit {serial}: $e^{{{serial}}} > 0$. ",
        text,
        count=1,
    )
    if not count:
        raise RuntimeError(f"no explanation to edit in {path}")
    path.write_text(edited, encoding="utf-8")


def distinct_formulas(count: int) -> list[tuple[str, bool]]:
    """`count` different formulas in the shapes cards use (fractions, sums, matrices, aligned)."""
    shapes = [
        r"\frac{{x_{{{i}}}}}{{\sqrt{{{i} + y}}}} + \sum_{{k=1}}^{{{i}}} a_k",
        r"\mathbb{{E}}[X_{{{i}}}] = \int_0^{{{i}}} x\,p(x)\,\mathrm{{d}}x",
        r"\begin{{aligned}} f_{{{i}}}(x) &= \lVert W x - b \rVert_2^2 \\ &\coloneqq \operatorname{{Var}}(x) + {i} \end{{aligned}}",
        r"\begin{{pmatrix}} {i} & \boldsymbol\mu \\ \mathcal{{N}}(0, \sigma^2) & \tfrac{{1}}{{{i}}} \end{{pmatrix}}",
        r"\underbrace{{a_1 + \dots + a_{{{i}}}}}_{{n}} \leq \log \frac{{p(x)}}{{q_{{{i}}}(x)}}",
    ]
    return [(shapes[i % len(shapes)].format(i=i), i % 2 == 0) for i in range(count)]
