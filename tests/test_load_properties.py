"""Property-based: whatever text a card file holds, loading either works or raises SourceError
with file and line; it never escapes as another exception (issue 5)."""

from __future__ import annotations

import shutil
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.load import load_deck
from builder.problems import SourceError
from builds import MINIMAL

YAML_ALPHABET = string.ascii_letters + string.digits + " \n\t:-[]{}&*!|>'\"%@`#,?$\\_.<=/" + "é中"

# Realistic fragments glued together find more interesting shapes than raw characters alone.
FRAGMENTS = st.sampled_from(
    [
        "subdeck: S\n",
        "cards:\n",
        "  - id: a\n",
        "    kind: qa\n",
        "    kind: formula\n",
        "    question: Q?\n",
        "    answer: A\n",
        "    concept: C\n",
        "    formula: $x$\n",
        "    tags: [a, b]\n",
        "    level: L2\n",
        "    reverse: true\n",
        "    figure: f\n",
        "    code_file: x.py\n",
        "  - &a [1]\n",
        "  - *a\n",
        "tags: t\n",
        "- x\n",
        "? k\n",
        ": v\n",
        "!!python/object:os.system\n",
        "{",
        "}",
        "[",
        "]",
        "|\n",
        ">\n",
        "\t",
        '"',
        "'",
    ]
)


def load_text(folder, text: str) -> None:
    (folder / "cards.yaml").write_text(text, encoding="utf-8")
    try:
        deck = load_deck(folder)
    except SourceError as error:
        assert error.problems
        for problem in error.problems:
            assert (
                problem.location.file.parent == folder
                and problem.location.line >= 0
                and problem.message
            )
    else:
        assert all(card.id for card in deck.cards)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=YAML_ALPHABET, max_size=300))
def test_any_text_loads_or_fails_cleanly(tmp_path, text):
    folder = tmp_path / "cards"
    if not folder.exists():
        folder.mkdir()
        shutil.copy(MINIMAL / "cards" / "deck.yaml", folder)
    load_text(folder, text)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(FRAGMENTS, max_size=25))
def test_any_arrangement_of_card_fragments_loads_or_fails_cleanly(tmp_path, pieces):
    folder = tmp_path / "cards"
    if not folder.exists():
        folder.mkdir()
        shutil.copy(MINIMAL / "cards" / "deck.yaml", folder)
    load_text(folder, "".join(pieces))


# Shapes near the field limits: runs of backslashes, indentation of spaces and tabs, quotes.
SHAPE_PIECES = st.lists(
    st.sampled_from(["\\" * 30, "\\", "    " * 16, "  ", "\t", " > " * 10, ">", "\n", "- ", "x"]),
    max_size=40,
)


@given(SHAPE_PIECES)
@settings(max_examples=300, deadline=None)
def test_field_shape_limits_are_found_as_their_patterns_find_them(pieces):
    """bounds.text_shape_problems tries its patterns only where a match can be: it must agree with
    trying them everywhere."""
    from builder import bounds

    text = "".join(pieces)
    run = bounds._LONG_BACKSLASH_RUN.search(text)
    deep = bounds._DEEP_INDENT.search(text) or bounds._DEEP_QUOTE.search(text)
    problems = bounds.text_shape_problems(text)
    assert any("backslashes in a row" in problem for problem in problems) == bool(run)
    assert any("levels deep" in problem for problem in problems) == bool(deep)
