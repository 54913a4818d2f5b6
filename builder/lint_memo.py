"""lint_memo: the card linter (builder/lint.py) behind the build's lint cache (builder/memo.py).

A card whose digest (model.card_digest) did not change is not linted again: its findings and the
texts it offers for MD301 come back from the last build's table, one row per card. The
near-duplicates among one side's texts come back while no text of that side changed (an edited
explanation changes none), keyed by a hash of each text. Only where a finding stands is made
anew each build, from the cards as they are: an edit above a card moves its lines, not its
findings. With the cache, without it or with a damaged one, a build prints the same warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple
from functools import partial

from .cache import BuildCache
from .content_hash import content_key
from .lint import CardLint, DeckLint, Linter, lint_deck
from .lint_duplicates import ComparedText, Repeat
from .lint_rules import Finding
from .memo import memoised
from .model import Card, Deck
from .near_duplicates import Pair
from .problems import Problem


def lint_deck_memoised(deck: Deck, cache: BuildCache, digests: Sequence[str]) -> list[Problem]:
    """lint.lint_deck, linting only the cards whose content changed. `digests` are the cards'
    model.card_digest(), in the deck's order."""
    return lint_deck(deck, RememberingLinter(deck, cache, digests))


class RememberingLinter(Linter):
    """lint.Linter answering from the lint cache what the last build found (the cache's
    fingerprint holds the linter's code)."""

    def __init__(self, deck: Deck, cache: BuildCache, digests: Sequence[str]):
        super().__init__(deck.config.lint)
        self.cache = cache
        self.digests = digests
        # card digest -> (findings as (key, code, message), compared texts as (key, side, hash))
        self.table_key = content_key("lint cards", self.word_budget, self.display_budget)
        self.before: dict[str, tuple] = {}
        self.table: dict[str, tuple] = {}
        self.digest_of: dict[int, str] = {}  # id of a card -> its digest
        self.text_hashes: dict[int, dict[str, str]] = {}  # id of a card -> key -> its text's hash
        self.shapes: dict[tuple, CardLint] = {}

    def deck(self, deck: Deck) -> DeckLint:
        """The last build's findings while no card, ignore or setting changed (a no-op build)."""
        ignores = [
            (at, sorted(card.lint.ignored))
            for at, card in enumerate(deck.cards)
            if card.lint.ignore
        ]
        key = content_key(
            "lint deck",
            self.word_budget,
            self.display_budget,
            sorted(deck.config.lint.ignored),
            ignores,
            list(self.digests),
        )
        return memoised(self.cache, key, partial(self._deck_linted, deck), _deck_plain, _deck_lint)

    def _deck_linted(self, deck: Deck) -> DeckLint:
        self.before = self.cache.get(self.table_key) or {}
        self.digest_of = {
            id(card): digest for card, digest in zip(deck.cards, self.digests, strict=True)
        }
        found = super().deck(deck)
        self.cache.put(self.table_key, self.table)  # this build's cards only: it stays their size
        return found

    def card(self, card: Card) -> CardLint:
        digest = self.digest_of[id(card)]
        row = self.before.get(digest)
        if row is None:
            lint = super().card(card)
            row = (
                tuple((finding.key, finding.code, finding.message) for finding in lint.findings),
                lint.compared,
                tuple(content_key(card.text[key]) for key, _ in lint.compared),
            )
        self.table[digest] = row
        findings, compared, hashes = row
        self.text_hashes[id(card)] = dict(zip((key for key, _ in compared), hashes, strict=True))
        # Most cards share one of a few shapes (no findings; the keys of their kind): one
        # CardLint each, not one a card.
        shape = (findings, compared)
        if shape not in self.shapes:
            self.shapes[shape] = CardLint(
                tuple(Finding(*finding) for finding in findings), tuple(map(tuple, compared))
            )
        return self.shapes[shape]

    def pairs(self, texts: Sequence[ComparedText]) -> list[Pair]:
        """The last build's pairs while no text of the side changed (an edited explanation)."""
        hashes = self.text_hashes
        key = content_key(  # card ids are slugs: spaces and newlines part them from the hashes
            "pairs",
            "\n".join(f"{text.card.id} {hashes[id(text.card)][text.key]}" for text in texts),
        )
        return memoised(
            self.cache,
            key,
            partial(super().pairs, texts),
            to_plain=lambda pairs: [(pair.later, pair.earlier, pair.similarity) for pair in pairs],
            from_plain=lambda rows: [Pair(*row) for row in rows],
        )


def _deck_plain(found: DeckLint) -> tuple:
    return (
        [(at, finding.key, finding.code, finding.message) for at, finding in found.findings],
        [astuple(repeat) for repeat in found.repeats],
    )


def _deck_lint(plain: tuple) -> DeckLint:
    findings, repeats = plain
    return DeckLint(
        tuple((at, Finding(*finding)) for at, *finding in findings),
        tuple(Repeat(*repeat) for repeat in repeats),
    )
