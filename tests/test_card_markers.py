"""Every numeric test names a card that exists, so a renamed card cannot silently lose its check."""

from __future__ import annotations

from builder.load import load_deck
from conftest import CARDS_DIR


def test_every_card_marker_names_a_card_in_the_deck(request):
    ids = {card.id for card in load_deck(CARDS_DIR).cards}
    claimed = request.config.card_marker_ids
    unknown = sorted((card_id, test) for card_id, test in claimed if card_id not in ids)
    assert not unknown, f"tests name cards that do not exist: {unknown}"
