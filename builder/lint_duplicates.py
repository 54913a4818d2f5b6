"""lint_duplicates: the linter's MD301, cards that nearly repeat another (README, "Card linter").

A note's fronts are compared with every other note's fronts and its main answers with their
answers (builder/near_duplicates.py finds the pairs). The rule is split where a build keeps its
work (builder/lint_memo.py): which texts a card offers (`compared_keys`, a function of the card),
the texts of one side that repeat others (`side_repeats`, a function of the offered cards, by
position), and last the warnings, made from the cards as they stand (their lines may have moved
since the repeats were found).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from .model import KINDS, Card
from .problems import Problem
from .records import Record

SIMILARITY = 0.75  # Jaccard of token_sets' tokens from which two texts are duplicates
SIDES = ("front", "back")


# A card MD301 compares: (its position in the deck's cards, the card, the (key, side) it offers)
Offered = tuple[int, Card, tuple[tuple[str, str], ...]]


class Repeat(Record):
    """MD301 found: the text `key` of the card at `later` (a position in the deck's cards) nearly
    repeats the text `earlier_key` of the card at `earlier`."""

    __slots__ = field_names = ("later", "key", "earlier", "earlier_key", "similarity")
    later: Final[int]
    key: Final[str]
    earlier: Final[int]
    earlier_key: Final[str]
    similarity: Final[float]  # Jaccard, 0..1

    def __init__(
        self, later: int, key: str, earlier: int, earlier_key: str, similarity: float
    ) -> None:
        self.later = later
        self.key = key
        self.earlier = earlier
        self.earlier_key = earlier_key
        self.similarity = similarity


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


def side_repeats(offered: Sequence[Offered], side: str) -> list[Repeat]:
    """The texts of one side ("front" or "back") that nearly repeat an earlier text of another
    card, each with the one it is most like."""
    # here: a build that compares no new text never loads them (nor numpy)
    from .near_duplicates import near_duplicates
    from .token_sets import tokenise

    texts = [(at, card, key) for at, card, keys in offered for key, on in keys if on == side]
    sets = tokenise([card.text[key] for _, card, key in texts])
    return [
        Repeat(*texts[pair.later][::2], *texts[pair.earlier][::2], pair.similarity)
        for pair in near_duplicates(sets, SIMILARITY, [at for at, _, _ in texts])
    ]


def find_repeats(
    offered: Sequence[Offered],
    repeats_of: Callable[[Sequence[Offered], str], list[Repeat]] = side_repeats,
) -> list[Repeat]:
    """Fronts like another card's front, backs like another card's back: each card once, with the
    earlier card it nearly repeats. `repeats_of` is side_repeats or what a build remembers."""
    found, seen = [], set()
    for side in SIDES:
        for repeat in repeats_of(offered, side):
            if repeat.later not in seen:
                seen.add(repeat.later)
                found.append(repeat)
    return found


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
    offered = [(at, card, compared_keys(card)) for at, card in enumerate(cards)]
    return [repeat_problem(repeat, cards) for repeat in find_repeats(offered)]
