"""Seed coverage: every item of the source cheat sheet is covered by at least one card.

cards/seed/*.yaml list the seed's items (`items: [{id, text}]`); cards name what they cover with
`covers: [item-id, ...]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fields import Found, read
from .model import Deck
from .problems import Location, Problem, SourceError
from .schema import DUPLICATE, SEED_FILE, SEED_ITEM, UNKNOWN_NAME
from .yamlsource import read_yaml

SEED_DIR = "seed"


@dataclass(frozen=True)
class SeedItem:
    id: str
    text: str
    location: Location


@dataclass(frozen=True)
class Coverage:
    items: list[SeedItem]
    covering: dict[str, list[str]]  # seed item id -> card ids

    @property
    def uncovered(self) -> list[SeedItem]:
        return [item for item in self.items if not self.covering.get(item.id)]


def load_seed_items(cards_dir: Path) -> list[SeedItem]:
    problems, items = Found(), []
    seen: dict[str, Location] = {}  # seed item id -> where it is listed
    for path in sorted((cards_dir / SEED_DIR).glob("*.yaml")):
        try:
            root = read_yaml(path)
        except SourceError as error:
            problems += error.problems
            continue
        seed = read(
            root,
            SEED_FILE,
            problems,
            not_a_mapping="a seed file must be a mapping with an 'items' list",
        )
        for entry in seed.get("items", ()) if seed is not None else ():
            item = read(entry, SEED_ITEM, problems)
            if item is None or not item.ok:
                continue
            item_id = item.get("id")
            if item_id in seen:
                problems.add(
                    entry.at,
                    f"seed item '{item_id}' is already listed at {seen[item_id]}",
                    DUPLICATE,
                )
            else:
                seen[item_id] = entry.location
                items.append(SeedItem(item_id, item.get("text"), entry.location))
    if problems:
        raise SourceError(sorted(problems))
    return items


def coverage(deck: Deck, items: list[SeedItem]) -> tuple[Coverage, list[Problem]]:
    """The map from seed items to cards, and problems: uncovered items, unknown item ids."""
    known = {item.id for item in items}
    covering: dict[str, list[str]] = {item.id: [] for item in items}
    problems = []
    for card in deck.cards:
        for item_id in card.covers:
            if item_id in known:
                covering[item_id].append(card.id)
            else:
                problems.append(
                    Problem(
                        card.location,
                        f"card '{card.id}' covers unknown seed item '{item_id}'",
                        code=UNKNOWN_NAME,
                    )
                )
    result = Coverage(items, covering)
    for item in result.uncovered:
        problems.append(
            Problem(item.location, f"seed item '{item.id}' ({item.text}) is covered by no card")
        )
    return result, sorted(problems)
