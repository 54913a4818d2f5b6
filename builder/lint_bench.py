"""The linter at scale, for `mathdeck bench`: `lint_deck` on a synthetic deck of 20,000 cards in
memory (no YAML, no MathJax), with near-duplicates planted that it must find; and the linter as a
build runs it, behind its cache, after a build of the same deck with nothing or one card changed.

Each card's front and back are drawn from a made-up vocabulary with a formula of their own, so
unplanted cards share only common words and notation, as real cards do; every 50th card
repeats an earlier card's front with one word added, and as many repeat an earlier card's back.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import BuildCache
from .lint import lint_deck
from .lint_duplicates import near_duplicate_problems
from .lint_memo import lint_deck_memoised
from .memo import lint_fingerprint
from .model import Card, Deck, DeckConfig, card_digest
from .problems import Location, Problem

PLANTED_EVERY = 50
SYLLABLES = tuple(
    consonant + vowel for consonant in "bcdfghklmnprstvwz" for vowel in "aeiou"
)  # made-up words
COMMON = (
    "the",
    "of",
    "a",
    "variance",
    "gradient",
    "matrix",
    "expected",
    "loss",
    "what",
    "is",
    "how",
    "for",
)


@dataclass(frozen=True)
class LintTiming:
    duplicates: list[tuple[float, float]]  # (seconds, CPU seconds) of MD301 alone, per run
    linter: list[tuple[float, float]]  # (seconds, CPU seconds) of lint_deck, every rule, per run
    cards: int
    planted: int  # near-duplicates planted
    found: int  # planted cards that MD301 reported


def synthetic_deck(count: int, seed: int = 15) -> tuple[Deck, set[str]]:
    """`count` formula cards and the ids of those planted as near-duplicates."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(6_000)
    ]

    def sentence(words: int) -> str:
        return " ".join(
            rng.choice(COMMON) if rng.random() < 0.3 else rng.choice(vocabulary)
            for _ in range(words)
        )

    where = Location(Path("cards/synthetic.yaml"), 1)
    cards: list[Card] = []
    planted: set[str] = set()
    for i in range(count):
        front = f"{sentence(rng.randint(6, 12))} $x_{{{i}}}$"
        formula = (
            f"$$\\sum_{{j={i % 7}}}^{{{i}}} a_j^{{{i % 5}}} = \\frac{{{i}}}{{b_{{{i % 11}}}}}$$"
        )
        back = f"{formula}\n\n{sentence(rng.randint(20, 50))}"
        if i % PLANTED_EVERY in (0, PLANTED_EVERY // 2) and i:
            key = "concept" if i % PLANTED_EVERY == 0 else "formula"
            words = cards[rng.randrange(i)].text[key].split(" ")
            words.insert(rng.randrange(1, len(words)), rng.choice(vocabulary))  # one word more
            front, back = (" ".join(words), back) if key == "concept" else (front, " ".join(words))
            planted.add(f"card-{i}")
        cards.append(
            Card(
                f"card-{i}",
                "formula",
                {"concept": front, "formula": back},
                "Synthetic",
                where,
                {"concept": where, "formula": where},
            )
        )
    config = DeckConfig("Synthetic", "synthetic", 1, "1.0.0", "", {"formula": 2}, where, where)
    return Deck(config, cards), planted


# The linter inside a build (builder/lint_memo.py), after a build of the same deck: what changed.
BUILD_CASES = ("nothing changed", "one explanation added", "one front edited")


def time_lint_in_builds(count: int = 20_000, runs: int = 3) -> dict[str, list[tuple[float, float]]]:
    """(seconds, CPU seconds) of lint_deck_memoised per case and run, each after a build that
    linted the deck and saved its cache to disk, as consecutive builds do."""
    deck, _ = synthetic_deck(count)
    middle = count // 2
    edits: dict[str, dict[str, str]] = {
        "nothing changed": {},
        "one explanation added": {"explanation": "An explanation, which MD301 does not compare."},
        "one front edited": {"concept": deck.cards[middle].text["concept"] + " edited"},
    }
    timings: dict[str, list[tuple[float, float]]] = {case: [] for case in BUILD_CASES}
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="mathdeck-lint-bench-") as folder:
            _lint_in_build(deck, Path(folder))
            for case in BUILD_CASES:
                card = deck.cards[middle]
                edited = card.replace(text={**card.text, **edits[case]})
                changed = Deck(
                    deck.config, [*deck.cards[:middle], edited, *deck.cards[middle + 1 :]]
                )
                timings[case].append(_lint_in_build(changed, Path(folder)))
    return timings


def _lint_in_build(deck: Deck, folder: Path) -> tuple[float, float]:
    cache = BuildCache(folder, "lint", lint_fingerprint())
    digests = [card_digest(card) for card in deck.cards]  # the loader's work, not the linter's
    collecting = gc.isenabled()
    gc.disable()  # as build.py does: the collector would scan the deck's objects over and over
    try:
        started, cpu = time.perf_counter(), time.process_time()
        lint_deck_memoised(deck, cache, digests)
        timing = (time.perf_counter() - started, time.process_time() - cpu)
    finally:
        if collecting:
            gc.enable()
    cache.save()
    return timing


def time_lint(count: int = 20_000, runs: int = 3) -> LintTiming:
    deck, planted = synthetic_deck(count)
    duplicates, linter, found = [], [], 0
    for _ in range(runs):
        _, seconds = _timed(near_duplicate_problems, deck.cards)
        duplicates.append(seconds)
        problems, seconds = _timed(lint_deck, deck)
        linter.append(seconds)
        found = len({problem.card for problem in problems if problem.code == "MD301"} & planted)
    return LintTiming(duplicates, linter, count, len(planted), found)


def _timed(work: Callable[[Any], list[Problem]], argument: Any) -> tuple[list[Problem], tuple]:
    """What the work returns, with its (seconds, CPU seconds): on a busy machine only the CPU
    says what it costs."""
    started, cpu = time.perf_counter(), time.process_time()
    found = work(argument)
    return found, (time.perf_counter() - started, time.process_time() - cpu)
