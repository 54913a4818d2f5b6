"""Every item of the seed cheat sheet is covered by at least one card of the flagship deck."""

from __future__ import annotations

from builder.coverage import coverage, load_seed_items
from builder.load import load_deck
from conftest import CARDS_DIR


def test_every_seed_item_is_covered_and_every_covers_entry_exists():
    deck = load_deck(CARDS_DIR)
    items = load_seed_items(CARDS_DIR)
    _, problems = coverage(deck, items)
    assert not problems, "\n".join(str(p) for p in problems)
    assert len(items) > 150 and len(deck.cards) > 150


def test_seed_items_cover_every_part_of_the_seed():
    ids = {item.id for item in load_seed_items(CARDS_DIR)}
    for number in range(1, 33):
        assert f"q{number}" in ids and f"q{number}-followup" in ids, (
            f"Q{number} or its follow-up is missing"
        )
    for snippet in range(1, 8):
        assert any(i.startswith(f"s2.{snippet}") for i in ids), f"snippet 2.{snippet} is missing"
    for section in [
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "1.7.1",
        "1.7.2",
        "1.7.3",
        "1.7.4",
        "1.7.5",
        "1.7.6",
        "1.8.1",
        "1.8.2",
        "1.9.1",
        "1.9.2",
        "1.9.3",
        "1.9.4",
        "1.9.5",
        "1.10",
        "1.11",
        "1.12",
    ]:
        assert any(i.startswith(f"s{section}-") for i in ids), (
            f"section {section} has no seed items"
        )
