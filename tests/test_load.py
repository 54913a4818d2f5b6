"""load: YAML sources → typed cards, every problem reported with file and line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from builder.load import load_deck
from builder.problems import SourceError
from builds import MINIMAL


@pytest.fixture
def cards(tmp_path) -> Path:
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(MINIMAL / "cards" / "deck.yaml", folder)
    return folder


def write(folder: Path, text: str, name: str = "c.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(SourceError) as error:
        load_deck(folder)
    return [
        f"{p.location.file.name}:{p.location.line}: {p.message}"
        for p in sorted(error.value.problems)
    ]


def test_minimal_fixture_loads_every_kind():
    deck = load_deck(MINIMAL / "cards")
    assert [c.kind for c in deck.cards] == ["formula", "qa", "code"]
    bayes, kl, code = deck.cards
    assert bayes.reverse and bayes.zh == "贝叶斯定理" and bayes.level == "L1"
    assert bayes.all_tags == ("L1", "part1", "probability", "sec-1-1")
    assert bayes.location.line == 4 and bayes.text_locations["formula"].line == 8
    assert kl.text["followup_question"].startswith("How do forward")
    assert "def softmax" in code.text["code"] and code.code_file == "snippets/softmax.py"
    assert deck.config.version == "0.1.0" and deck.config.note_type_ids["qa"] == 1764080000102


def test_answers_that_look_like_booleans_and_dates_stay_text(cards):
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: qa
            question: Is it?
            answer: no
          - id: b
            kind: qa
            question: When?
            answer: 2024-05-01
          - id: c
            kind: qa
            question: Which?
            answer: 1e3
    """,
    )
    answers = [c.text["answer"] for c in load_deck(cards).cards]
    assert answers == ["no", "2024-05-01", "1e3"]


def test_unknown_key_suggests_the_right_one(cards):
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: formula
            concept: C
            formual: $x$
    """,
    )
    assert problems_of(cards) == [
        "c.yaml:3: card 'a': missing required key 'formula'",
        "c.yaml:6: unknown key 'formual' in a formula card (did you mean 'formula'?)",
    ]


def test_all_problems_are_reported_at_once_and_sorted(cards):
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: Bad_Id
            kind: qa
            question: Q
            answer: A
          - id: ok
            kind: quiz
          - id: empty
            kind: qa
            question: "  "
            answer: A
            level: L4
    """,
    )
    assert problems_of(cards) == [
        "c.yaml:3: id 'Bad_Id' must be a slug: lowercase letters, digits and single hyphens",
        "c.yaml:8: unknown kind 'quiz'; kinds are: formula, qa, cloze, code, basic",
        "c.yaml:11: card 'empty': 'question' is empty",
        "c.yaml:13: level 'L4' must be one of L1, L2, L3",
    ]


def test_duplicate_ids_across_files_name_the_first(cards):
    card = """
        subdeck: S
        cards:
          - id: twin
            kind: qa
            question: Q
            answer: A
    """
    write(cards, card, "a.yaml")
    write(cards, card, "b.yaml")
    assert problems_of(cards) == [
        f"b.yaml:3: id 'twin' is already used by the card at {cards / 'a.yaml'}:3"
    ]


def test_malformed_yaml_names_the_line(cards):
    write(cards, "subdeck: S\ncards:\n  - id: a\n    question: [unclosed\n")
    [message] = problems_of(cards)
    assert message.startswith("c.yaml:") and "malformed YAML" in message


def test_alias_bombs_are_refused(cards):
    write(cards, 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nsubdeck: S\ncards: [*c]\n')
    assert problems_of(cards) == [
        "c.yaml:1: YAML anchors and aliases (&name / *name) are not allowed"
    ]


def test_deep_nesting_is_refused(cards):
    write(cards, "subdeck: S\ncards: " + "[" * 5000 + "]" * 5000 + "\n")
    [message] = problems_of(cards)
    assert message.startswith("c.yaml:") and "nesting" in message


def test_huge_files_are_refused(cards):
    (cards / "c.yaml").write_text("subdeck: S\ncards: []\n# " + "x" * 3_000_000 + "\n")
    assert problems_of(cards) == ["c.yaml:0: file is 3,000,024 bytes; the limit is 2,097,152"]


def test_code_file_must_exist_and_stay_inside_cards(cards):
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: code
            task: T
            code_file: snippets/missing.py
          - id: b
            kind: code
            task: T
            code_file: ../../etc/passwd
    """,
    )
    assert problems_of(cards) == [
        "c.yaml:6: card 'a': code_file 'snippets/missing.py' cannot be read (missing or not "
        "UTF-8 text)",
        f"c.yaml:10: card 'b': code_file '../../etc/passwd' must be inside {cards}",
    ]


def test_titles_are_short_and_never_cut_a_formula_in_half(cards):
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: qa
            question: Short question?
            answer: A
          - id: b
            kind: qa
            question: Bias–variance decomposition of the expected squared error at a point $x$, """
        """for $y = f(x) + \\varepsilon$ with noise
            answer: A
    """,
    )
    short, long = load_deck(cards).cards
    assert short.title == "Short question?"
    assert (
        long.title
        == "Bias–variance decomposition of the expected squared error at a point $x$, for …"
    )


def test_aliases_must_be_slugs_like_ids(cards):
    # An alias is searched for in Anki by `mathdeck push`: '*' or '_' there would be a wildcard.
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: qa
            question: Q?
            answer: A.
            aliases: ['*', old-a, 'alph_', 'b:c']
    """,
    )
    assert problems_of(cards) == [
        "c.yaml:7: alias '*' must be a slug like an id: lowercase letters, digits and single "
        "hyphens",
        "c.yaml:7: alias 'alph_' must be a slug like an id: lowercase letters, digits and single "
        "hyphens",
        "c.yaml:7: alias 'b:c' must be a slug like an id: lowercase letters, digits and single "
        "hyphens",
    ]


def test_slug_aliases_load(cards):  # the control: the check above rejects only non-slugs
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: qa
            question: Q?
            answer: A.
            aliases: [old-a, a2]
    """,
    )
    assert load_deck(cards).cards[0].aliases == ("old-a", "a2")


def test_lint_settings_are_a_mapping_the_linter_reads(cards):
    """`lint:` in deck.yaml and on a card belongs to the card linter: load takes any mapping
    there."""
    deck = cards / "deck.yaml"
    deck.write_text(deck.read_text() + "lint: {strict: true, ignore: [MD201], word_budget: 120}\n")
    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: qa
            question: Q?
            answer: A
            lint: {ignore: [MD201]}
          - id: b
            kind: qa
            question: Q?
            answer: A
            lint: [MD201]
    """,
    )
    assert problems_of(cards) == ["c.yaml:12: 'lint' must be a mapping, not list"]


def test_a_card_with_a_problem_is_left_out_and_the_others_are_kept(cards):
    from builder.load import load_sources

    write(
        cards,
        """
        subdeck: S
        cards:
          - id: a
            kind: qa
            question: Q?
            answr: A
          - id: b
            kind: qa
            question: Q?
            answer: A
    """,
    )
    loaded = load_sources(cards)
    assert [card.id for card in loaded.deck.cards] == ["b"]
    assert [(p.location.line, p.location.column, p.code) for p in loaded.problems] == [
        (3, 5, "MD111"),
        (6, 5, "MD110"),
    ]


def test_only_plain_null_forms_are_empty_values_and_every_other_scalar_is_its_text(tmp_path):
    """YAML 1.1 types (yes, 2024-05-01, 0x1F) stay the text written; `~`, `null` and an empty
    value are empty only when written plain, as PyYAML's own resolver types them."""
    import yaml

    from builder.yamlsource import read_yaml

    source = write(
        tmp_path,
        """
        plain: [~, null, Null, NULL, nULL, yes, 2024-05-01, 0x1F, 1.5, .inf]
        quoted: ['~', "null", '', "NULL"]
        empty:
        tagged: !!str null
        """,
    )
    root = read_yaml(source).value
    assert isinstance(root, dict)

    def values(key):
        node = root[key]
        return [item.value for item in node.value] if isinstance(node.value, list) else node.value

    assert values("plain") == [
        None,
        None,
        None,
        None,
        "nULL",
        "yes",
        "2024-05-01",
        "0x1F",
        "1.5",
        ".inf",
    ]
    assert values("quoted") == ["~", "null", "", "NULL"]
    assert values("empty") is None
    assert values("tagged") == "null"
    # the same as PyYAML's own typing of null
    safe = yaml.compose(source.read_text(), Loader=yaml.SafeLoader)
    nulls = [n.tag.endswith(":null") for n in safe.value[0][1].value]
    assert [value is None for value in values("plain")] == nulls


def test_each_card_file_is_seen_as_it_is_read_in_deck_order(cards):
    """load_sources' on_card_file (the build sends each file's formulas to node from it) sees
    every card file once, with deck.yaml's settings, its cards in the order the deck has them."""
    from builder.load import load_sources

    for name, ids in (("b.yaml", ["b1", "b2"]), ("a.yaml", ["a1"])):
        write(
            cards,
            "subdeck: S\ncards:\n"
            + "".join(
                f"  - id: {id_}\n    kind: qa\n    question: Q\n    answer: A\n" for id_ in ids
            ),
            name,
        )
    seen = []
    loaded = load_sources(
        cards, on_card_file=lambda config, card_file: seen.append((config.slug, card_file))
    )
    assert [slug for slug, _ in seen] == [loaded.deck.config.slug] * 2
    assert [card.id for _, card_file in seen for card in card_file.cards] == ["a1", "b1", "b2"]
    assert [card for _, card_file in seen for card in card_file.cards] == loaded.deck.cards
    assert [d for _, card_file in seen for d in card_file.digests] == loaded.digests


def test_pyyaml_is_imported_with_its_patterns_compiled_when_used():
    """yaml_loader.pyyaml() leaves PyYAML's regular expressions uncompiled until used (~10 ms of
    every build that parses a file), and they then match as re.compile's would; nobody else's
    compile is deferred. Run in a fresh interpreter: this one may have imported yaml already."""
    import subprocess
    import sys

    from builds import REPO

    script = """
import re
from builder.yaml_loader import pyyaml
yaml = pyyaml()
assert re.compile("x").pattern == "x"  # the patch is gone
reader = yaml.reader.Reader.NON_PRINTABLE
assert type(reader).__name__ == "_PatternWhenUsed" and reader._compiled is None
assert yaml.safe_load("a: 2024-05-01\\nb: yes\\nc: 0x1f\\nd: ~") == {
    "a": __import__("datetime").date(2024, 5, 1), "b": True, "c": 31, "d": None}
try:
    yaml.load("a: \\x07", Loader=yaml.SafeLoader)  # the pure-Python reader's own check
except yaml.reader.ReaderError as error:
    assert "special characters are not allowed" in str(error)
else:
    raise AssertionError("NON_PRINTABLE did not match")
assert reader._compiled == re.compile(reader._compiled.pattern)
print("ok")
"""
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert run.stdout == "ok\n", run.stderr
