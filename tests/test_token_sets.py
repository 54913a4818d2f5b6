"""The tokeniser of near-duplicate texts (builder/token_sets.py), reading every text of a side at
once, against the one it replaced (tests/token_reference.py), one text at a time: the same
token sets on every flagship and benchmark text and on generated text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import token_sets
from builder.lint_bench import synthetic_deck
from builder.load import load_deck
from builder.near_duplicates import near_duplicates
from builder.tex_tokens import TOKEN, _ascii_tokens, _tokens
from builder.token_sets import MATH, TokenSets, tokenise
from test_near_duplicates import loop_near_duplicates
from token_reference import MATH as REFERENCE_MATH
from token_reference import text_tokens

REPO = Path(__file__).resolve().parent.parent


def as_frozensets(sets: TokenSets) -> list[frozenset[str]]:
    numbers = sorted(set(sets.token.tolist()))
    spelled = dict(zip(numbers, sets.spelling(np.array(numbers, np.int64)), strict=True))
    found: list[list[str]] = [[] for _ in range(sets.texts)]
    for row, token in zip(sets.row.tolist(), sets.token.tolist(), strict=True):
        found[row].append(spelled[token])
    assert all(len(set(words)) == len(words) for words in found)  # each token once a text
    return [frozenset(words) for words in found]


def assert_same_tokens(texts: list[str]) -> None:
    assert as_frozensets(tokenise(texts)) == [text_tokens(text) for text in texts]


def test_every_flagship_text():
    deck = load_deck(REPO / "cards")
    texts = [text for card in deck.cards for text in card.text.values()]
    assert len(texts) > 700
    assert_same_tokens(texts)


def test_every_benchmark_text():
    deck, _ = synthetic_deck(20_000)
    for key in ("concept", "formula"):
        assert_same_tokens([card.text[key] for card in deck.cards])


@pytest.mark.parametrize("threshold", [0.5, 0.75])
def test_benchmark_pairs_are_the_reference_loops_on_the_reference_tokens(threshold):
    """End to end: the bench deck's fronts and answers paired as the loop over the old token
    sets pairs them (tests/test_near_duplicates.py), pair for pair."""
    deck, _ = synthetic_deck(2_000)
    for key in ("concept", "formula"):
        texts = [card.text[key] for card in deck.cards]
        groups = list(range(len(texts)))
        expected = loop_near_duplicates([text_tokens(text) for text in texts], threshold, groups)
        assert near_duplicates(tokenise(texts), threshold, groups) == expected
        assert len(expected) > 30


# Text made of what the tokeniser treats specially: dollars, backslashes, braces, the noise
# commands, stop words, long words, NUL (its separator), letters that lowercase to other ones.
PIECES = st.sampled_from(
    [
        "$",
        "$$",
        "\\$",
        "\\",
        "\\\\",
        "{",
        "}",
        "&",
        "~",
        " ",
        "\n",
        "\0",
        "\ue000",
        "_",
        "x",
        "ab",
        "The",
        "of",
        "Regularisation",
        "variances",
        "12345678",
        "\\frac",
        "\\dfrac",
        "\\tfrac",
        "\\left.",
        "\\right(",
        "\\big",
        "\\bigl",
        "\\,",
        "\\ ",
        "\\text",
        "\\textbf",
        "\\operatorname*",
        "\\mathrm",
        "\\alpha",
        "\\alpha2",
        "\\sum",
        "^",
        "+",
        "=",
        "(",
        ")",
        "é",
        "Σ",
        "İ",
        "K",
        "ﬁ",
        "≤",
        "\x1f",
        "\x01",
    ]
)
TEXTS = st.lists(
    st.one_of(st.lists(PIECES, max_size=30).map("".join), st.text(max_size=30)), max_size=12
)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_generated_texts(texts):
    assert_same_tokens(texts)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_math_finds_what_it_found_before(text):
    """MATH, rewritten to start with its `$`, splits every text as the pattern it replaced."""
    assert MATH.split(text) == REFERENCE_MATH.split(text)


def test_sets_of_strings_keep_their_tokens():
    sets = [frozenset({"a", "b"}), frozenset(), frozenset({"b", "c a"})]
    assert as_frozensets(TokenSets.of_sets(sets)) == sets


def test_tokens_too_wide_for_one_key_are_numbered_first(monkeypatch):
    """A deck with millions of distinct TeX tokens numbers its tokens before sorting them with
    their texts: the same sets (forced here by narrowing the key)."""
    monkeypatch.setattr(token_sets, "_KEY_BITS", 12)
    deck, _ = synthetic_deck(300)
    for key in ("concept", "formula"):
        assert_same_tokens([card.text[key] for card in deck.cards])
    test_sets_of_strings_keep_their_tokens()


ASCII_TEX = st.lists(
    st.sampled_from(
        [
            "\\",
            "\\\\",
            "\\ab",
            "\\abcdefghij",
            "a",
            "b1",
            "12",
            "3c",
            "_",
            " ",
            "\0",
            "\x01",
            "\x1f",
            "+",
            "^",
            "{",
            "abcdefghijk",
            "123456789",
            "\\alpha2x",
            "\t",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(ASCII_TEX)
def test_ascii_tex_is_tokenised_as_token_findall_does(text):
    """The numpy tokeniser of ASCII TeX finds TOKEN's tokens (tex_tokens, by either path)."""
    fast, slow = _ascii_tokens(text, "\0"), _tokens(text, "\0")
    assert [fast.words[at] for at in fast.ids.tolist()] == TOKEN.findall(text)
    assert [slow.words[at] for at in slow.ids.tolist()] == TOKEN.findall(text)
    assert (fast.separator >= 0) == ("\0" in text)
    assert fast.separator < 0 or fast.words[fast.separator] == "\0"
