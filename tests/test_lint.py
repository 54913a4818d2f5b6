"""The card linter (builder/lint.py, issue 15): each rule on cards written for it, the opt-outs,
--strict, and the flagship clean under --strict."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.lint import RULES, lint_deck
from builder.lint_bench import synthetic_deck, time_lint
from builder.lint_text import count_words, may_exceed_budgets
from builder.load import load_deck
from builder.near_duplicates import near_duplicates
from builder.problems import SourceError
from builder.token_sets import TokenSets, tokenise

REPO = Path(__file__).resolve().parent.parent
DECK_YAML = """\
title: Lint Test
slug: lint-test
deck_id: 1764070000001
version: 0.1.0
note_types:
  formula: 1764070000101
  qa: 1764070000102
  code: 1764070000103
  cloze: 1764070000104
  basic: 1764070000105
"""


def write_deck(folder: Path, cards: str, deck_extra: str = "") -> Path:
    cards_dir = folder / "cards"
    cards_dir.mkdir(parents=True, exist_ok=True)
    (cards_dir / "deck.yaml").write_text(DECK_YAML + textwrap.dedent(deck_extra))
    (cards_dir / "cards.yaml").write_text(
        "subdeck: Test\ncards:\n" + textwrap.indent(textwrap.dedent(cards), "  ")
    )
    return cards_dir


def lint(tmp_path: Path, cards: str, deck_extra: str = "") -> list:
    return lint_deck(load_deck(write_deck(tmp_path, cards, deck_extra)))


def codes(problems) -> list[tuple[str, str]]:
    return sorted((problem.code, problem.card) for problem in problems)


def words(count: int, start: int = 0) -> str:
    return " ".join(f"word{i}" for i in range(start, start + count))


# ---------------------------------------------------------------- MD301 near-duplicate


def test_near_duplicate_fronts_name_both_cards(tmp_path):
    problems = lint(
        tmp_path,
        """\
        - id: first
          kind: qa
          question: What does the learning rate warm-up do at the start of training?
          answer: It ramps the step size up over the first steps.
        - id: second
          kind: qa
          question: What does learning rate warm-up do at the start of the training?
          answer: Avoids large early updates while Adam's statistics settle.
        - id: unrelated
          kind: qa
          question: Why is the Hessian of a convex function positive semidefinite?
          answer: Curvature is never negative along any direction.
    """,
    )
    assert codes(problems) == [("MD301", "second")]
    [problem] = problems
    assert "card 'first'" in problem.message and "'question'" in problem.message
    assert str(problem.location).endswith("cards/cards.yaml:9") and not problem.is_error


def test_near_duplicate_formulas_of_reverse_cards(tmp_path):
    formula = (
        r"$$\operatorname{Var}(X + Y) = \operatorname{Var}(X) + \operatorname{Var}(Y)"
        r" + 2\operatorname{Cov}(X, Y)$$"
    )
    problems = lint(
        tmp_path,
        f"""\
        - id: sum-variance
          kind: formula
          concept: Variance of a sum
          formula: '{formula}'
          reverse: true
        - id: other-sum-variance
          kind: formula
          concept: Adding two random variables
          formula: '{formula.replace("2", "2 ")}'
          reverse: true
    """,
    )
    assert codes(problems) == [("MD301", "other-sum-variance")]
    assert "'formula'" in problems[0].message


def test_different_cards_are_not_duplicates(tmp_path):
    problems = lint(
        tmp_path,
        r"""
        - id: entropy
          kind: formula
          concept: Entropy of a discrete random variable
          formula: '$$H(X) = -\sum_x p(x)\log p(x)$$'
        - id: kl
          kind: formula
          concept: KL divergence between two distributions
          formula: '$$D_{\mathrm{KL}}(p \,\|\, q) = \sum_x p(x)\log\frac{p(x)}{q(x)}$$'
    """,
    )
    assert problems == []


def test_tokens_ignore_spacing_sizing_and_inflection():
    sets = tokenise(
        [
            r"The regularisation of $\frac{a}{b}$ and variances",
            r"the regularization of $\left.\dfrac{a}{b}\right.\,$ and the variance",
        ]
    )
    assert [pair.similarity for pair in near_duplicates(sets, 0.75)] == [1.0]


def test_near_duplicates_pairs_each_set_with_its_most_similar_earlier_one():
    sets = [
        frozenset("abcdefghij"),
        frozenset("klmnopqrst"),
        frozenset("abcdefghiz"),
        frozenset("abcdefghij"),
    ]
    pairs = near_duplicates(TokenSets.of_sets(sets), 0.75)
    assert [(pair.later, pair.earlier) for pair in pairs] == [(2, 0), (3, 0)]
    assert (
        near_duplicates(TokenSets.of_sets(sets), 0.75, groups=[1, 2, 1, 1]) == []
    )  # one note's texts are never paired


CLUSTERED = """
import random
from builder.near_duplicates import near_duplicates
from builder.token_sets import tokenise
rng = random.Random(5)
words = [f"w{i}" for i in range(16)]
sets = tokenise([" ".join(rng.sample(words, 12)) for _ in range(3000)])
print([(pair.later, pair.earlier, pair.similarity) for pair in near_duplicates(sets, 0.75)])
"""


def test_near_duplicates_are_the_same_in_every_process():
    """3,000 texts of 12 words from 16: equally rare tokens everywhere. Their ties are broken by
    the tokens, never by a set's order, which string hashing changes between processes: a
    build prints the same warnings as the last one, with or without its caches."""
    found = {
        subprocess.run(
            [sys.executable, "-c", CLUSTERED],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(found) == 1 and len(eval(found.pop())) > 100


def test_the_benchmark_deck_has_its_planted_duplicates_found():
    deck, planted = synthetic_deck(300)
    found = {problem.card for problem in lint_deck(deck) if problem.code == "MD301"}
    assert planted and found == planted
    assert time_lint(120, runs=1).found == time_lint(120, runs=1).planted


# ---------------------------------------------------------------- MD302 too-long


def test_long_back_is_reported_once_per_note(tmp_path):
    problems = lint(
        tmp_path,
        f"""\
        - id: long
          kind: formula
          concept: Something long
          formula: '$$a = b$$'
          explanation: {words(121)}
          reverse: true
        - id: fine
          kind: qa
          question: Short?
          answer: {words(120)}
    """,
    )
    assert codes(problems) == [("MD302", "long")]
    assert (
        "reverse card has 123 words (budget 120)" in problems[0].message
    )  # the concept and the explanation


def test_inline_math_counts_as_one_word_and_display_math_as_none(tmp_path):
    formulas = " ".join(r"$a + b \cdot c$" for _ in range(20))
    problems = lint(
        tmp_path,
        f"""\
        - id: mathy
          kind: qa
          question: Many formulas?
          answer: |
            {words(100)} {formulas}

            $$x = {" + ".join("y" for _ in range(200))}$$
    """,
    )
    assert problems == []


def test_display_formula_budget_and_deck_budgets(tmp_path):
    rows = r" \\ ".join(f"x_{i} &= {i}" for i in range(7))  # 7 lines: over the default 6
    cards = f"""\
        - id: derivation
          kind: qa
          question: Derive it.
          answer: |
            $$\\begin{{aligned}} {rows} \\end{{aligned}}$$
        - id: wordy
          kind: qa
          question: Explain.
          answer: {words(60)}
    """
    assert codes(lint(tmp_path / "default", cards)) == [("MD302", "derivation")]
    tight = lint(tmp_path / "tight", cards, "lint: {word_budget: 50, display_budget: 7}\n")
    assert codes(tight) == [("MD302", "wordy")]
    assert "60 words (budget 50)" in tight[0].message


MARKDOWN_PIECES = st.sampled_from(
    ["$", "$$", "`", "```", "~~~", "~", " ", "\n", "a", "word", "x$y", "(a", "é", "\u3000", ","]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(MARKDOWN_PIECES, max_size=40).map("".join))
def test_the_cheap_bound_never_skips_a_back_over_its_word_budget(text):
    """may_exceed_budgets lets long_back_problems skip count_words: it must never be below it."""
    words = count_words(text)
    assert words == 0 or may_exceed_budgets([text], words - 1, 10**9)


# ---------------------------------------------------------------- MD303 gives-away


def test_reverse_front_showing_the_name_gives_it_away(tmp_path):
    problems = lint(
        tmp_path,
        r"""
        - id: mle
          kind: formula
          concept: Maximum likelihood estimation (MLE)
          formula: '$$\hat\theta_{\text{MLE}} = \arg\max_\theta \sum_i \log p(x_i \mid \theta)$$'
          reverse: true
        - id: decomposition
          kind: formula
          concept: Bias–variance decomposition
          formula: >-
            $$\mathbb{E}[(y - \hat f)^2] = \underbrace{b^2}_{\text{bias}^2}
            + \underbrace{v}_{\text{variance}} + \sigma^2$$
          reverse: true
        - id: forward-only
          kind: formula
          concept: Maximum a posteriori (MAP) estimation
          formula: '$$\hat\theta_{\text{MAP}} = \arg\max_\theta p(\theta \mid D)$$'
        - id: hidden
          kind: formula
          concept: Least squares (LS)
          formula: '$$\hat w = (X^\top X)^{-1} X^\top y$$'
          reverse: true
    """,
    )
    assert codes(problems) == [("MD303", "decomposition"), ("MD303", "mle")]
    assert "'MLE'" in next(p.message for p in problems if p.card == "mle")


def test_cloze_answer_visible_elsewhere_on_its_front(tmp_path):
    problems = lint(
        tmp_path,
        r"""
        - id: jensen
          kind: cloze
          text: >-
            {{c1::Jensen's inequality}} bounds a convex function's mean;
            Jensen's inequality gives the ELBO.
        - id: hinted
          kind: cloze
          text: "The mode of a Gaussian is its {{c1::mean::the mean}}."
        - id: fine
          kind: cloze
          text: "{{c1::Adam}} keeps running moments; {{c2::AdamW}} decouples the decay."
    """,
    )
    assert codes(problems) == [("MD303", "hinted"), ("MD303", "jensen")]


# ------------------------------------------------ MD304 placeholder, MD305 refers-to-document


@pytest.mark.parametrize(
    "explanation, reported",
    [
        ("TODO", True),
        ("'...'", True),
        ("'TBD: write the proof'", True),
        ('""', True),
        ("A todo list is fine prose.", False),
        ("Use `# TODO` markers in code.", False),
    ],
)
def test_placeholder_explanations(tmp_path, explanation, reported):
    problems = lint(
        tmp_path,
        f"""\
        - id: card
          kind: formula
          concept: A thing
          formula: '$$a = b$$'
          explanation: {explanation}
    """,
    )
    assert codes(problems) == ([("MD304", "card")] if reported else [])


@pytest.mark.parametrize(
    "prose, reported",
    [
        ("The seed says the variance is biased.", True),
        ("The cheat sheet says otherwise.", True),
        ("As mentioned above, it is convex.", True),
        ("See the table below.", False),  # a table on this very card
        ("Fix the seed of the generator with `torch.manual_seed(0)`.", False),
        ("The values above the mean are rare.", False),
    ],
)
def test_prose_about_a_source_document(tmp_path, prose, reported):
    problems = lint(
        tmp_path,
        f"""\
        - id: card
          kind: qa
          question: Is it?
          answer: {prose}
    """,
    )
    assert codes(problems) == ([("MD305", "card")] if reported else [])


# ---------------------------------------------------------------- opting out, settings, --strict

TWO_FINDINGS = """\
    - id: placeholder
      kind: formula
      concept: A thing
      formula: '$$a = b$$'
      explanation: TODO
    - id: document
      kind: qa
      question: Is it?
      answer: The cheat sheet says so.
"""


def test_a_card_ignores_a_finding_the_deck_ignores_a_rule(tmp_path):
    ignored_on_card = TWO_FINDINGS.replace(
        "      explanation: TODO\n", "      explanation: TODO\n      lint: {ignore: [MD304]}\n"
    )
    assert codes(lint(tmp_path / "card", ignored_on_card)) == [("MD305", "document")]
    assert codes(lint(tmp_path / "deck", TWO_FINDINGS, "lint: {ignore: [MD305]}\n")) == [
        ("MD304", "placeholder")
    ]


def test_an_unknown_code_is_an_error_with_a_suggestion(tmp_path):
    problems = lint(
        tmp_path,
        TWO_FINDINGS.replace(
            "      explanation: TODO\n", "      explanation: TODO\n      lint: {ignore: [MD304x]}\n"
        ),
    )
    [error] = [problem for problem in problems if problem.is_error]
    assert (
        error.code == "MD300"
        and "unknown lint code 'MD304x'" in error.message
        and "did you mean 'MD304'" in error.message
    )
    assert error.location.file.name == "cards.yaml" and error.location.line == 8


def test_lint_settings_have_a_shape(tmp_path):
    with pytest.raises(SourceError) as raised:
        lint(
            tmp_path,
            TWO_FINDINGS.replace(
                "      explanation: TODO\n", "      explanation: TODO\n      lint: {strict: true}\n"
            ),
            "lint: {word_budget: many, ignore: MD301}\n",
        )
    messages = str(raised.value)
    assert "unknown key 'strict' in 'lint'" in messages
    assert "'word_budget' must be a number of words from 1 to 9999" in messages
    assert "'ignore' must be a list" in messages


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )


def test_warnings_pass_strict_fails(tmp_path):
    write_deck(tmp_path, TWO_FINDINGS)
    lenient = run_cli(["check"], tmp_path)
    assert lenient.returncode == 0, lenient.stderr
    assert "warning: MD304 card 'placeholder'" in lenient.stderr
    strict = run_cli(["check", "--strict"], tmp_path)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert (
        "cards/cards.yaml:7: MD304 card 'placeholder'" in strict.stderr
        and "2 problems" in strict.stderr
    )
    built = run_cli(["build", "--strict"], tmp_path)
    assert built.returncode == 1 and not (tmp_path / "dist").exists()


def test_strict_deck_setting(tmp_path):
    write_deck(tmp_path, TWO_FINDINGS, "lint: {strict: true}\n")
    result = run_cli(["check"], tmp_path)
    assert result.returncode == 1 and "MD305" in result.stderr


def test_the_flagship_is_clean_under_strict():
    result = run_cli(["check", "--strict"], REPO)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_every_rule_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"`{rule.code}`" in readme and rule.name in readme, rule.code
    assert "--strict" in readme


def test_counted_runs_start_at_the_characters_they_name():
    # COUNTED_RUN names its first characters by what they are not (quicker to compile): the same
    # as [A-Za-z0-9\u00c0-\uffff] that is not a space, on every code point.
    import re

    from builder.lint_text import COUNTED_RUN

    named = re.compile(r"[A-Za-z0-9\u00c0-\uffff](?<!\s)")
    differ = [
        code
        for code in range(sys.maxunicode + 1)
        if bool(COUNTED_RUN.match(chr(code))) != bool(named.match(chr(code)))
    ]
    assert differ == []
    assert COUNTED_RUN.findall("wörld — $x$ 中文\u3000foo 🙂 a-b") == [
        "wörld",
        "—",
        "x$",
        "中文",
        "foo",
        "a-b",
    ]
