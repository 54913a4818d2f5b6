"""Card kinds (builder/kinds.py): each kind is complete (templates found by its name), a deck needs
note-type ids only for the kinds it uses, and the `basic` kind goes through every stage: load,
check, render, a real import with the `anki` library, push through AnkiConnect, the HTML and
Markdown cheat sheets, and the build summary's counts."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from builder.kinds import FILE_KEYS, OPTION_KEYS
from builder.load import load_deck
from builder.model import KINDS
from builder.problems import SourceError
from builder.render import TEMPLATES_DIR, _environment, render_card, render_note_type
from builds import MINIMAL

BASIC_ID = 1764080000105
BASIC_CARDS = """\
subdeck: "Part 1: Concepts & Formulas"
tags: [part1]
cards:
  - id: sigmoid-name
    kind: basic
    front: What does $\\sigma(x)$ stand for?
    zh: S型函数
    back: |
      The logistic sigmoid:
      $$\\sigma(x) = \\frac{1}{1 + e^{-x}}$$
  - id: capital-of-france
    kind: basic
    front: Capital of France
    back: Paris
    reverse: true
"""


def add_basic(cards: Path, note_type_id: int | None = BASIC_ID, text: str = BASIC_CARDS) -> None:
    """The minimal project plus two basic cards (one with reverse: true) and, unless None, basic's
    note-type id."""
    if note_type_id is not None:
        deck_yaml = cards / "deck.yaml"
        deck_yaml.write_text(
            deck_yaml.read_text(encoding="utf-8") + f"  basic: {note_type_id}\n", encoding="utf-8"
        )
    (cards / "basic.yaml").write_text(text, encoding="utf-8")


def problems_of(cards: Path) -> list[str]:
    with pytest.raises(SourceError) as error:
        load_deck(cards)
    return [
        f"{p.location.file.name}:{p.location.line}: {p.message}"
        for p in sorted(error.value.problems)
    ]


@pytest.fixture
def cards(tmp_path) -> Path:
    folder = tmp_path / "cards"
    shutil.copytree(MINIMAL / "cards", folder)
    return folder


# ---------------------------------------------------------------- every kind is complete


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_finds_its_templates_by_name(name):
    kind = KINDS[name]
    blocks = set(_environment().get_template(kind.template_file).blocks)
    assert blocks == {f"{stem}_{side}" for _, stem in kind.templates for side in ("front", "back")}
    assert (TEMPLATES_DIR / kind.export_template).is_file()
    rendered = render_note_type(name)
    assert [t[0] for t in rendered.templates] == [t[0] for t in kind.templates] and all(
        t[1] and t[2] for t in rendered.templates
    )


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_declares_consistent_keys_and_fields(name):
    kind = KINDS[name]
    assert set(kind.not_markdown) <= set(kind.required + kind.optional)
    assert set(kind.options) <= set(OPTION_KEYS) and not set(kind.options) & set(
        kind.required + kind.optional
    )
    assert {"Zh", "Figure", "CardId"} <= set(kind.note_fields) and len(
        set(kind.note_fields)
    ) == len(kind.note_fields)
    assert kind.note_type_name == f"mathdeck {name}"
    for file_key in set(kind.options) & set(FILE_KEYS):
        assert FILE_KEYS[file_key] in kind.optional


def test_each_kind_fills_exactly_its_note_fields(cards):
    from builder.render import _FieldRenderer

    add_basic(cards)
    (cards / "cloze.yaml").write_text(
        "subdeck: S\ncards:\n  - {id: gap, kind: cloze, text: 'a {{c1::b}}', extra: c}\n",
        encoding="utf-8",
    )
    deck = load_deck(cards)
    assert {card.kind for card in deck.cards} == set(KINDS)
    for card in deck.cards:
        kind = KINDS[card.kind]
        assert {
            *kind.fields(card, _FieldRenderer((), kind.is_cloze)),
            "Zh",
            "Figure",
            "CardId",
        } == set(kind.note_fields), card.kind


def test_note_types_in_learners_collections_keep_their_names():
    """Field and template names are in every learner's collection (see anki-facts.md)."""
    assert {
        name: (kind.note_fields, [t for t, _ in kind.templates]) for name, kind in KINDS.items()
    } == {
        "formula": (
            ("Concept", "Zh", "Formula", "Explanation", "Figure", "Reverse", "CardId"),
            ["Concept → Formula", "Formula → Concept"],
        ),
        "qa": (
            ("Question", "Zh", "Answer", "FollowupQuestion", "FollowupAnswer", "Figure", "CardId"),
            ["Question", "Follow-up"],
        ),
        "cloze": (("Text", "Zh", "Extra", "Figure", "CardId"), ["Cloze"]),
        "code": (("Task", "Zh", "Code", "Explanation", "Figure", "CardId"), ["Task → Code"]),
        "basic": (
            ("Front", "Zh", "Back", "Figure", "Reverse", "CardId"),
            ["Front → Back", "Back → Front"],
        ),
    }


# ------------------------------------------------ note-type ids: only for the kinds in use


def test_a_kind_in_use_without_a_note_type_id_is_an_error_with_its_fix(cards):
    add_basic(cards, note_type_id=None)
    assert problems_of(cards) == [
        "deck.yaml:12: 'note_types' has no id for kind 'basic', which card 'sigmoid-name' "
        f"({cards / 'basic.yaml'}:4) uses: add 'basic: 1764080000105' under 'note_types' (any "
        "whole number no other note type has; keep it forever once released, or learners' notes "
        "are orphaned)"
    ]


def test_ids_are_needed_only_for_the_kinds_in_use(cards):
    (cards / "deck.yaml").write_text(
        "title: T\nslug: t\ndeck_id: 1700000000001\nversion: 1.0.0\nnote_types:\n  qa: "
        "1700000000102\n",
        encoding="utf-8",
    )
    (cards / "cards.yaml").write_text(
        "subdeck: S\ncards:\n  - {id: a, kind: qa, question: Q?, answer: A.}\n", encoding="utf-8"
    )
    deck = load_deck(cards)
    assert deck.config.note_type_ids == {"qa": 1700000000102}
    # no note_types at all: each kind in use is named, with an id that follows the deck id
    (cards / "deck.yaml").write_text(
        "title: T\nslug: t\ndeck_id: 1700000000001\nversion: 1.0.0\n", encoding="utf-8"
    )
    assert [p.split(" uses: ")[1].split(" (any")[0] for p in problems_of(cards)] == [
        "add 'note_types: {qa: 1700000000101}'"
    ]


def test_note_types_names_only_known_kinds(cards):
    deck_yaml = cards / "deck.yaml"
    deck_yaml.write_text(
        deck_yaml.read_text(encoding="utf-8") + "  basik: 1764080000105\n", encoding="utf-8"
    )
    assert problems_of(cards) == [
        "deck.yaml:16: unknown key 'basik' in note_types (did you mean 'basic'?)"
    ]


# ---------------------------------------------------------------- basic: load, check, render


def test_basic_cards_load_with_front_back_and_reverse(cards):
    add_basic(cards)
    deck = load_deck(cards)
    sigmoid, capital = [card for card in deck.cards if card.kind == "basic"]
    assert sigmoid.text == {
        "front": "What does $\\sigma(x)$ stand for?",
        "back": "The logistic sigmoid:\n$$\\sigma(x) = \\frac{1}{1 + e^{-x}}$$\n",
    }
    assert not sigmoid.reverse and capital.reverse and sigmoid.zh == "S型函数"
    assert (
        sigmoid.text_locations["back"].line == 8
        and sigmoid.title == "What does $\\sigma(x)$ stand for?"
    )
    assert deck.config.note_type_ids["basic"] == BASIC_ID


def test_basic_cards_report_missing_and_unknown_keys(cards):
    add_basic(
        cards,
        text=(
            "subdeck: S\ncards:\n  - id: x\n    kind: basic\n    front: F\n    bak: B\n    "
            "reverse: maybe\n"
        ),
    )
    assert problems_of(cards) == [
        "basic.yaml:3: card 'x': missing required key 'back'",
        "basic.yaml:6: unknown key 'bak' in a basic card (did you mean 'back'?)",
        "basic.yaml:7: 'reverse' must be true or false, not 'maybe'",
    ]


def check_problems(project: Path) -> list[str]:
    from builder.build import BuildOptions, load_and_check

    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )
    with pytest.raises(SourceError) as error:
        load_and_check(options)
    return [
        f"{p.location.file.name}:{p.location.line}: {p.message}"
        for p in sorted(error.value.problems)
        if p.is_error
    ]


def test_check_runs_mathjax_and_the_html_audit_on_basic_fields(project):
    add_basic(
        project / "cards",
        text=textwrap.dedent("""\
        subdeck: S
        cards:
          - id: broken
            kind: basic
            front: Where is <script>x</script> the $\\frac{1}{2$?
            back: |
              It is
              $$\\undefinedmacro{x}$$
        """),
    )
    problems = check_problems(project)
    assert any(
        p.startswith("basic.yaml:5: card 'broken'")
        and "'front'" in p
        and "<script> element would be removed" in p
        for p in problems
    ), problems
    assert any(
        p.startswith("basic.yaml:5: card 'broken', field 'front'") and "\\frac{1}{2" in p
        for p in problems
    ), problems
    assert any(
        "basic.yaml:" in p and "card 'broken', field 'back'" in p and "\\undefinedmacro" in p
        for p in problems
    ), problems


def test_basic_renders_front_inline_back_as_blocks_and_reverse_flag(cards):
    add_basic(cards)
    sigmoid, capital = [card for card in load_deck(cards).cards if card.kind == "basic"]
    note = dict(zip(KINDS["basic"].note_fields, render_card(sigmoid, {}).fields, strict=True))
    assert note["Front"] == 'What does <span class="arithmatex">\\(\\sigma(x)\\)</span> stand for?'
    assert (
        note["Back"].startswith("<p>The logistic sigmoid:</p>")
        and "\\[\\sigma(x) = \\frac{1}{1 + e^{-x}}\\]" in note["Back"]
    )
    assert (note["Zh"], note["Reverse"], note["CardId"], note["Figure"]) == (
        "S型函数",
        "",
        "sigmoid-name",
        "",
    )
    assert (
        dict(zip(KINDS["basic"].note_fields, render_card(capital, {}).fields, strict=True))[
            "Reverse"
        ]
        == "y"
    )


# ---------------------------------------------------------------- basic: Anki, summary, exports


def test_basic_imports_into_anki_with_a_reverse_card_only_when_asked(project, tmp_path):
    from anki_collection import fresh_collection, import_package, notes_by_card_id
    from builds import build_in

    add_basic(project / "cards")
    result = build_in(project)
    # minimal: formula + reverse (2), qa + follow-up (2), code (1); basic: 1 + (1 + reverse)
    assert result.cards_by_kind["basic"] == 2 and result.anki_cards == 5 + 3
    col = fresh_collection(tmp_path / "anki")
    import_package(col, result.path)
    assert col.card_count() == result.anki_cards
    notes = notes_by_card_id(col)
    sigmoid, capital = notes["sigmoid-name"], notes["capital-of-france"]
    assert sigmoid.note_type()["name"] == "mathdeck basic" and sigmoid.note_type()["id"] == BASIC_ID
    assert [f["name"] for f in sigmoid.note_type()["flds"]] == list(KINDS["basic"].note_fields)

    (only,) = sigmoid.cards()
    assert (
        "\\(\\sigma(x)\\)" in only.question()
        and "(S型函数)" in only.question()
        and "logistic sigmoid" not in only.question()
    )
    assert "\\[\\sigma(x) = \\frac{1}{1 + e^{-x}}\\]" in only.answer()

    forward, reverse = sorted(capital.cards(), key=lambda card: card.ord)
    assert (
        "Capital of France" in forward.question()
        and "Paris" not in forward.question()
        and "Paris" in forward.answer()
    )
    assert "Paris" in reverse.question() and "Capital of France" not in reverse.question()
    assert "Capital of France" in reverse.answer()
    col.close()


def test_build_summary_counts_basic_cards(project):
    from test_cli import run

    add_basic(project / "cards")
    result = run(["build"], project)
    assert result.returncode == 0, result.stderr
    rows = {
        line.strip("│ ").split("│")[0].strip(): line.split("│")[2].strip()
        for line in result.stdout.splitlines()
        if line.count("│") == 3
    }
    assert rows["basic cards"] == "2" and rows["notes"] == "5" and rows["Anki cards"] == "8"


@pytest.fixture
def exported(project):
    from test_export import export

    add_basic(project / "cards")
    export(project, "markdown")
    export(project, "html")
    return project / "out"


def test_basic_entries_in_the_markdown_and_html_cheat_sheets(exported):
    markdown = (exported / "ml-math-cheatsheet-0.1.0.md").read_text(encoding="utf-8")
    assert (
        "**What does $\\sigma(x)$ stand for?** (S型函数)\n\nThe logistic sigmoid:\n\n"
        "$$\\sigma(x) = \\frac{1}{1 + e^{-x}}$$" in markdown
    )
    assert "**Capital of France**\n\nParis" in markdown

    html = (exported / "ml-math-cheatsheet-0.1.0.html").read_text(encoding="utf-8")
    entry = html.split('<article class="entry entry-basic" id="capital-of-france">')[1].split(
        "</article>"
    )[0]
    assert (
        '<div class="entry-title">Capital of France</div>' in entry
        and '<div class="answer"><p>Paris</p></div>' in entry
    )
    sigmoid = html.split('<article class="entry entry-basic" id="sigmoid-name">')[1].split(
        "</article>"
    )[0]
    assert (
        "<svg" in sigmoid
        and '<span class="zh" lang="zh">(S型函数)</span>' in sigmoid
        and "logistic sigmoid" in sigmoid
    )


def test_basic_pushes_through_ankiconnect_with_its_note_type(project, tmp_path):
    from anki_collection import notes_by_card_id
    from ankiconnect_server import AnkiConnectServer
    from test_push import push

    add_basic(project / "cards")
    with AnkiConnectServer(tmp_path / "anki") as anki:
        result = push(project, anki.url)
        assert result.exit_code == 0, result.output + repr(result.exception)
        anki.col.models._clear_cache()
        notes = notes_by_card_id(anki.col)
        assert notes["capital-of-france"].note_type()["name"] == "mathdeck basic"
        assert (
            len(notes["capital-of-france"].cards()) == 2 and len(notes["sigmoid-name"].cards()) == 1
        )
