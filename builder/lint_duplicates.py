"""lint_duplicates: the linter's MD301, cards that nearly repeat another (README, "Card linter").

A note's fronts are compared with every other note's fronts and its main answers with their
answers (builder/near_duplicates.py finds the pairs). The rule is split where a build keeps its
work (builder/lint_memo.py): which texts a card offers (`compared_keys`, a function of the card),
the pairs among one side's texts (`duplicate_pairs`, a function of the texts), the cards that
repeat others (`find_repeats`, by position), and last the warnings, made from the cards as they
stand (their lines may have moved since the pairs were found).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .model import KINDS, Card
from .near_duplicates import Pair, near_duplicates, text_tokens
from .problems import Problem

SIMILARITY = 0.75  # Jaccard of near_duplicates.text_tokens from which two texts are duplicates
SIDES = ("front", "back")


class ComparedText(NamedTuple):  # a tuple: a deck has tens of thousands
    at: int  # the card's position in the deck's cards
    card: Card
    key: str


@dataclass(frozen=True)
class Repeat:
    """MD301 found: the text `key` of the card at `later` (a position in the deck's cards) nearly
    repeats the text `earlier_key` of the card at `earlier`."""

    later: int
    key: str
    earlier: int
    earlier_key: str
    similarity: float  # Jaccard, 0..1


def compared_keys(card: Card) -> tuple[tuple[str, str], ...]:
    """(key, side): what each Anki card of the note asks, and its main answer (explanations
    aside). A reverse card's front is its forward card's back, so formulas are compared once, as
    backs."""
    keys: dict[str, str] = {}
    for study in KINDS[card.kind].study(card):
        if study.asks_for_name:
            continue  # its front is the forward card's answer, its answer the forward card's front
        for key in study.front:
            keys.setdefault(key, "front")
        if study.back and study.back[0] in card.text:
            keys.setdefault(study.back[0], "back")
    return tuple((key, side) for key, side in keys.items() if card.text.get(key, "").strip())


def duplicate_pairs(texts: Sequence[ComparedText]) -> list[Pair]:
    """For each text, the most similar earlier text of another card, if alike enough."""
    sets = [text_tokens(text.card.text[text.key]) for text in texts]
    return near_duplicates(sets, SIMILARITY, [text.card.id for text in texts])


def find_repeats(
    offered: Iterable[tuple[int, Card, tuple[tuple[str, str], ...]]],
    pairs_of: Callable[[Sequence[ComparedText]], list[Pair]] = duplicate_pairs,
) -> list[Repeat]:
    """Fronts like another card's front, backs like another card's back, among the cards offered
    as (position, card, the (key, side) it offers: compared_keys): each card once, with the
    earlier card it nearly repeats. `pairs_of` is duplicate_pairs or what a build remembers."""
    sides: dict[str, list[ComparedText]] = {side: [] for side in SIDES}
    for at, card, keys in offered:
        for key, side in keys:
            sides[side].append(ComparedText(at, card, key))
    repeats, seen = [], set()
    for texts in sides.values():
        for pair in pairs_of(texts):
            later, earlier = texts[pair.later], texts[pair.earlier]
            if later.card.id not in seen:
                seen.add(later.card.id)
                repeats.append(
                    Repeat(later.at, later.key, earlier.at, earlier.key, pair.similarity)
                )
    return repeats


def repeat_problem(repeat: Repeat, cards: Sequence[Card]) -> Problem:
    """The warning, at the later card's text as it stands, naming where the earlier one is."""
    card, earlier = cards[repeat.later], cards[repeat.earlier]
    other = earlier.text_locations.get(repeat.earlier_key, earlier.location)
    return Problem(
        card.text_locations.get(repeat.key, card.location),
        f"card '{card.id}': '{repeat.key}' nearly repeats the '{repeat.earlier_key}' of card "
        f"'{earlier.id}' ({other}; {repeat.similarity:.0%} alike): merge them, make each ask "
        "something the other does not, or retire one (`retired: true`)",
        "warning",
        card.id,
        "MD301",
    )


def near_duplicate_problems(cards: Sequence[Card]) -> list[Problem]:
    """MD301 alone, over every card given (what `mathdeck bench` times)."""
    offered = ((at, card, compared_keys(card)) for at, card in enumerate(cards))
    return [repeat_problem(repeat, cards) for repeat in find_repeats(offered)]
