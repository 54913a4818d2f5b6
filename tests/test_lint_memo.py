"""The linter behind the build's lint cache (builder/lint_memo.py, issue 18): a build prints the
same warnings with the cache as without it, through edits, moved lines and changed settings, and
an unchanged deck, card or side of texts is not linted again."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import lint, near_duplicates, token_sets
from builder.cache import BuildCache
from builder.lint import lint_deck
from builder.lint_memo import lint_deck_memoised
from builder.model import Card, Deck, DeckConfig, LintSettings, card_digest
from builder.parsed_cards import load_sources_memoised
from builder.problems import Location
from test_lint import run_cli

DECK_YAML = """\
title: Lint Memo Test
slug: lint-memo-test
deck_id: 1764070000002
version: 0.1.0
phone_width: 600  # the formulas are of a width, not the subject
note_types:
  formula: 1764070000201
  qa: 1764070000202
"""
# One finding of every rule: MD301 (twice, fronts and backs), MD302, MD303, MD304, MD305.
CARDS = r"""subdeck: Test
cards:
  - id: warm-up
    kind: qa
    question: What does the learning rate warm-up do at the start of training?
    answer: It ramps the step size up over the first steps of the optimiser.
  - id: warm-up-again
    kind: qa
    question: What does learning rate warm-up do at the start of the training?
    answer: Avoids large early updates while the statistics of Adam settle.
  - id: variance-of-sum
    kind: formula
    concept: Variance of a sum
    formula: '$$V(X + Y) = V(X) + V(Y) + 2\,C(X, Y)$$'
    explanation: The seed says so.
  - id: adding-variables
    kind: formula
    concept: Adding two random variables
    formula: '$$V(X + Y) = V(X) + V(Y) + 2 C(X, Y)$$'
    explanation: TODO
  - id: mle
    kind: formula
    concept: Maximum likelihood estimation (MLE)
    formula: '$$\hat\theta_{\text{MLE}} = \arg\max_\theta \sum_i \log p(x_i \mid \theta)$$'
    reverse: true
    explanation: WORDS
"""
WORDS = " ".join(f"word{i}" for i in range(130))


def write_cards(cards_dir: Path, cards: str = CARDS, deck_extra: str = "") -> None:
    cards_dir.mkdir(parents=True, exist_ok=True)
    (cards_dir / "deck.yaml").write_text(DECK_YAML + textwrap.dedent(deck_extra))
    (cards_dir / "cards.yaml").write_text(cards.replace("WORDS", WORDS))


def printed(problems) -> list[str]:
    return [f"{problem} [{problem.card}]" for problem in problems]


def linted_with_and_without(cards_dir: Path, caches: Path) -> list[str]:
    """The warnings through the lint cache kept in `caches`, checked against a fresh linter."""
    loaded = load_sources_memoised(cards_dir, BuildCache(None, "cards", ""))
    assert loaded.deck is not None
    cache = BuildCache(caches, "lint", "test")
    remembered = printed(lint_deck_memoised(loaded.deck, cache, loaded.digests))
    cache.save()
    assert remembered == printed(lint_deck(loaded.deck))
    return remembered


@pytest.fixture
def cards_dir(tmp_path) -> Path:
    write_cards(tmp_path / "cards")
    return tmp_path / "cards"


def test_every_rule_fires_on_the_test_deck(cards_dir, tmp_path):
    found = linted_with_and_without(cards_dir, tmp_path / "cache")
    codes = sorted(line.split(": warning: ")[1][:5] for line in found)
    assert codes == ["MD301", "MD301", "MD302", "MD303", "MD304", "MD305"]


def test_the_same_warnings_with_the_cache_through_edits(cards_dir, tmp_path):
    caches = tmp_path / "cache"
    first = linted_with_and_without(cards_dir, caches)
    assert linted_with_and_without(cards_dir, caches) == first  # no-op
    edits = [
        # an edited explanation: the MD305 finding goes, the pairs stay
        CARDS.replace("The seed says so.", "Covariance adds twice."),
        # an edited front: the pair of fronts goes
        CARDS.replace("at the start of the training?", "when the batch size doubles?"),
        # lines moved above every card: the same findings, at new lines
        "# a comment\n\n" + CARDS,
        # the earlier card of a pair ignores MD301; a card's id changes
        CARDS.replace("says so.", "says so.\n    lint: {ignore: [MD301]}"),
        CARDS.replace("  - id: warm-up\n", "  - id: warm-up-first\n"),
    ]
    for cards in edits:
        write_cards(cards_dir, cards)
        edited = linted_with_and_without(cards_dir, caches)
        assert edited != first or cards.startswith("#")
    write_cards(cards_dir, "# a comment\n\n" + CARDS)
    moved = linted_with_and_without(cards_dir, caches)
    assert [codes_and_cards(line) for line in moved] == [codes_and_cards(line) for line in first]
    assert moved != first  # at their new lines


def codes_and_cards(line: str) -> tuple[str, str]:
    return line.split(": warning: ")[1][:5], line.rsplit(" ", 1)[1]


@pytest.mark.parametrize(
    "setting",
    ["lint: {word_budget: 200}\n", "lint: {word_budget: 12}\n", "lint: {ignore: [MD301]}\n"],
)
def test_deck_settings_change_what_is_remembered(cards_dir, tmp_path, setting):
    caches = tmp_path / "cache"
    before = linted_with_and_without(cards_dir, caches)
    write_cards(cards_dir, deck_extra=setting)
    assert linted_with_and_without(cards_dir, caches) != before


def test_an_unchanged_deck_card_or_side_is_not_linted_again(cards_dir, tmp_path, monkeypatch):
    caches = tmp_path / "cache"
    linted_with_and_without(cards_dir, caches)
    cards_linted, sides_paired, tokenised = [], [], []
    # where side_repeats imports them from when it runs
    real_card, real_pairs = lint.lint_card, near_duplicates.near_duplicates
    real_tokens = token_sets.tokenise
    monkeypatch.setattr(
        lint,
        "lint_card",
        lambda card, *budgets: cards_linted.append(card.id) or real_card(card, *budgets),
    )
    monkeypatch.setattr(
        near_duplicates,
        "near_duplicates",
        lambda sets, *more: sides_paired.append(sets.texts) or real_pairs(sets, *more),
    )
    monkeypatch.setattr(
        token_sets, "tokenise", lambda texts: tokenised.append(texts) or real_tokens(texts)
    )

    def remembered() -> list[str]:
        loaded = load_sources_memoised(cards_dir, BuildCache(None, "cards", ""))
        assert loaded.deck is not None
        cache = BuildCache(caches, "lint", "test")
        found = printed(lint_deck_memoised(loaded.deck, cache, loaded.digests))
        cache.save()
        return found

    remembered()
    assert cards_linted == sides_paired == tokenised == []  # a no-op build lints nothing
    explained = CARDS.replace("The seed says so.", "Covariance adds twice.")
    write_cards(cards_dir, explained)
    remembered()
    assert cards_linted == ["variance-of-sum"]
    assert sides_paired == tokenised == []  # no compared text changed
    write_cards(cards_dir, explained.replace("start of training?", "start of a long training?"))
    remembered()
    assert cards_linted == ["variance-of-sum", "warm-up"]
    assert sides_paired == [5]  # the five fronts again (a reverse card's front is a back)
    assert len(tokenised) == 1 and len(tokenised[0]) == 5  # read at once: cheaper than kept


def test_check_prints_the_same_warnings_with_and_without_its_caches(cards_dir):
    project = cards_dir.parent
    cold = run_cli(["check"], project)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count("warning: MD3") == 6
    assert run_cli(["check"], project).stderr == cold.stderr  # every finding from the cache
    write_cards(cards_dir, "# moved\n" + CARDS.replace("start of training?", "start of it?"))
    warm = run_cli(["check"], project)
    shutil.rmtree(cards_dir / ".cache")
    assert run_cli(["check"], project).stderr == warm.stderr != cold.stderr


# ---------------------------------------------------------------- any sequence of edits

WORDS_POOL = ("gradient", "variance", "loss", "matrix", "expected", "prior", "kernel", "rank")


def card_strategy(index: int):
    text = st.lists(st.sampled_from(WORDS_POOL), min_size=3, max_size=6).map(" ".join)
    return st.builds(
        lambda front, back, explanation, reverse, retired, ignore: Card(
            f"card-{index}",
            "formula",
            {"concept": front, "formula": f"$$a_{{{len(back)}}}$$ {back}"}
            | ({"explanation": explanation} if explanation else {}),
            "Test",
            Location(Path("cards/test.yaml"), index + 1),
            reverse=reverse,
            retired=retired,
            lint=LintSettings(((ignore, Location(Path("cards/test.yaml"), 1)),) if ignore else ()),
        ),
        text,
        text,
        st.sampled_from(("", "TODO", "The seed says so.", "Fine.")),
        st.booleans(),
        st.booleans(),
        st.sampled_from(("", "MD301", "MD304")),
    )


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_sequence_of_edits_gives_the_same_warnings_as_a_fresh_linter(tmp_path_factory, data):
    """Edit after edit (a card redrawn: its texts, reverse, retired, an ignored rule; a card
    added or dropped), each deck linted through one cache kept on disk: always what a linter with
    no cache prints."""
    caches = tmp_path_factory.mktemp("cache")
    where = Location(Path("cards/deck.yaml"), 1)
    config = DeckConfig("T", "t", 1, "1.0.0", "", {"formula": 2}, where, where)
    cards = [data.draw(card_strategy(index)) for index in range(data.draw(st.integers(2, 8)))]
    for _ in range(6):
        deck = Deck(config, cards)
        cache = BuildCache(caches, "lint", "test")
        remembered = lint_deck_memoised(deck, cache, [card_digest(card) for card in cards])
        cache.save()
        assert printed(remembered) == printed(lint_deck(deck))
        at = data.draw(st.integers(0, len(cards)))
        edit = data.draw(st.sampled_from(("redraw", "ignore", "add", "drop")))
        if edit == "add" or not cards:
            cards.insert(at, data.draw(card_strategy(len(cards) + 10)))
        elif edit == "drop":
            del cards[min(at, len(cards) - 1)]
        elif edit == "ignore":
            card = cards[min(at, len(cards) - 1)]
            code = data.draw(st.sampled_from(("", "MD301", "MD302", "MD304", "MD305")))
            ignore = ((code, where),) if code else ()
            cards[min(at, len(cards) - 1)] = card.replace(lint=LintSettings(ignore))
        else:
            cards[min(at, len(cards) - 1)] = data.draw(card_strategy(min(at, len(cards) - 1)))
