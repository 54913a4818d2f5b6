"""Every numeric test names a card that exists, so a renamed card cannot silently lose its check."""

from __future__ import annotations

from builder.load import load_deck
from conftest import CARDS_DIR


def test_every_card_marker_names_a_card_in_the_deck(request):
    ids = {card.id for card in load_deck(CARDS_DIR).cards}
    claimed = request.config.card_marker_ids
    unknown = sorted((card_id, test) for card_id, test in claimed if card_id not in ids)
    assert not unknown, f"tests name cards that do not exist: {unknown}"


def test_every_formula_and_code_card_has_a_numeric_test():
    """Static scan of tests/math: a formula or snippet card without a test is a defect."""
    import re

    marked = set()
    for path in (CARDS_DIR.parent / "tests" / "math").glob("test_*.py"):
        marked |= set(
            re.findall(r'pytest\.mark\.card\(\s*"([^"]+)"', path.read_text(encoding="utf-8"))
        )
    untested = [
        card.id
        for card in load_deck(CARDS_DIR).cards
        if card.kind in ("formula", "code") and card.id not in marked
    ]
    assert not untested, f"formula/code cards with no numeric test: {untested}"
