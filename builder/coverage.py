"""Seed coverage: every item of the source cheat sheet is covered by at least one card.

cards/seed/*.yaml list the seed's items (`items: [{id, text}]`); cards name what they cover with
`covers: [item-id, ...]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import Deck
from .problems import Location, Problem, SourceError
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
    problems, items, seen = [], [], {}
    for path in sorted((cards_dir / SEED_DIR).glob("*.yaml")):
        try:
            root = read_yaml(path)
        except SourceError as error:
            problems += error.problems
            continue
        entries = root.value.get("items") if isinstance(root.value, dict) else None
        if entries is None or not isinstance(entries.value, list):
            problems.append(Problem(root.location, "a seed file must be a mapping with an 'items' list"))
            continue
        for entry in entries.value:
            fields = entry.value if isinstance(entry.value, dict) else {}
            item_id, text = fields.get("id"), fields.get("text")
            if not (item_id and isinstance(item_id.value, str) and text and isinstance(text.value, str)):
                problems.append(Problem(entry.location, "each seed item needs text 'id' and 'text'"))
            elif item_id.value in seen:
                problems.append(Problem(entry.location, f"seed item '{item_id.value}' is already listed at {seen[item_id.value]}"))
            else:
                seen[item_id.value] = entry.location
                items.append(SeedItem(item_id.value, text.value, entry.location))
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
                problems.append(Problem(card.location, f"card '{card.id}' covers unknown seed item '{item_id}'"))
    result = Coverage(items, covering)
    for item in result.uncovered:
        problems.append(Problem(item.location, f"seed item '{item.id}' ({item.text}) is covered by no card"))
    return result, sorted(problems)
