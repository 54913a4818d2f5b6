"""check.check_code_width: code lines a phone's code box cannot show whole, each a warning at its
own line; a line wide only with trailing spaces fits."""

from __future__ import annotations

import shutil
from pathlib import Path

from builder.check import check_code_width
from builder.load import load_deck
from builder.model import DEFAULT_PHONE_WIDTH
from builder.phone_budget import PhoneBudget
from builds import MINIMAL


def deck_with_code(tmp_path: Path, code_by_card: dict[str, list[str]]):
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(MINIMAL / "cards" / "deck.yaml", folder)
    cards = "".join(
        f"  - id: {card_id}\n    kind: code\n    task: Task {card_id}.\n    code: |\n"
        + "".join(f"      {line}\n" for line in lines)
        for card_id, lines in code_by_card.items()
    )
    (folder / "c.yaml").write_text(f"subdeck: Code\ncards:\n{cards}")
    return load_deck(folder)


def test_only_lines_wider_than_the_box_are_reported_at_their_own_line(tmp_path):
    columns = PhoneBudget(DEFAULT_PHONE_WIDTH).code_columns
    deck = deck_with_code(
        tmp_path,
        {
            "fits": ["x = 1", "z = " + "1" * (columns - 4)],  # the last line fills the box
            "spaces": ["w = 3" + " " * 2 * columns],  # wide only with trailing spaces
            "wide": ["y = 2", "v = " + "2" * (columns - 3), "u = 4"],  # one column over
        },
    )
    problems = check_code_width(deck)
    assert [(p.location.file.name, p.location.line, p.card) for p in problems] == [
        ("c.yaml", 19, "wide")
    ]
    assert f"code line of {columns + 1} columns" in problems[0].message
    assert problems[0].severity == "warning"
