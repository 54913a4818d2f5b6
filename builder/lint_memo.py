"""lint_memo: the card linter (builder/lint.py) behind the build's lint cache (builder/memo.py).

A deck whose cards, ignores and settings did not change is not linted again (a no-op build).
Otherwise a card whose digest (model.card_digest) did not change is not read again: its findings
and the texts it offers for MD301 come back from the last build's table, one row per card; and
the near-duplicates of one side come back while no text of that side changed (an edited
explanation changes none), keyed by each card's signature of that side. Only where a finding
stands is made anew each build, from the cards as they are: an edit above a card moves its
lines, not its findings. With the cache, without it or with a damaged one, a build prints the
same warnings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import partial

from .cache import BuildCache
from .content_hash import content_key
from .lint import CardLint, DeckLint, Linter, lint_deck
from .lint_duplicates import SIDES, Offered, Repeat, side_repeats
from .lint_rules import Finding
from .memo import memoised
from .model import Card, Deck
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
        # card digest -> (findings as (key, code, message), compared keys, a signature per side)
        self.table_key = content_key("lint cards", self.word_budget, self.display_budget)
        self.before: dict[str, tuple] = {}
        self.table: dict[str, tuple] = {}
        self.digest_of: dict[int, str] = {}  # id of a card -> its digest
        self.signatures: dict[int, tuple[str, ...]] = {}  # id of a card -> one per side
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
                tuple(_side_signature(card, lint.compared, side) for side in SIDES),
            )
        self.table[digest] = row
        findings, compared, self.signatures[id(card)] = row
        # Most cards share one of a few shapes (no findings; the keys of their kind): one
        # CardLint each, not one a card.
        shape = (findings, compared)
        if shape not in self.shapes:
            self.shapes[shape] = CardLint(
                tuple(Finding(*finding) for finding in findings), tuple(map(tuple, compared))
            )
        return self.shapes[shape]

    def side_repeats(self, offered: Sequence[Offered], side: str) -> list[Repeat]:
        """The last build's repeats while no text of the side changed (an edited explanation
        changes none): kept by the cards' places among the offered ones."""
        at_side = SIDES.index(side)
        signatures = "\n".join(self.signatures[id(card)][at_side] for _, card, _ in offered)
        key = content_key("repeats", side, signatures)
        return memoised(
            self.cache,
            key,
            partial(side_repeats, offered, side),
            partial(_repeats_plain, offered),
            partial(_repeats_from_plain, offered),
        )


def _side_signature(card: Card, compared: tuple[tuple[str, str], ...], side: str) -> str:
    """A hash of what a card offers on one side: its id (a card's texts are never paired), the
    keys and their texts. By hand, not content_key's JSON: a third of its time, for every card of
    a cold build; each text goes with its length, so no two offers read alike."""
    offered = "".join(
        f"\n{key}\n{len(card.text[key])}\n{card.text[key]}" for key, on in compared if on == side
    )
    data = (card.id + offered).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def _repeats_plain(offered: Sequence[Offered], repeats: list[Repeat]) -> list[tuple]:
    place = {at: place for place, (at, _, _) in enumerate(offered)}
    return [
        (
            place[repeat.later],
            repeat.key,
            place[repeat.earlier],
            repeat.earlier_key,
            repeat.similarity,
        )
        for repeat in repeats
    ]


def _repeats_from_plain(offered: Sequence[Offered], rows: list) -> list[Repeat]:
    return [
        Repeat(offered[later][0], key, offered[earlier][0], earlier_key, similarity)
        for later, key, earlier, earlier_key, similarity in rows
    ]


def _deck_plain(found: DeckLint) -> tuple:
    return (
        [(at, finding.key, finding.code, finding.message) for at, finding in found.findings],
        [repeat.as_tuple() for repeat in found.repeats],
    )


def _deck_lint(plain: tuple) -> DeckLint:
    findings, repeats = plain
    return DeckLint(
        tuple((at, Finding(*finding)) for at, *finding in findings),
        tuple(Repeat(*repeat) for repeat in repeats),
    )
