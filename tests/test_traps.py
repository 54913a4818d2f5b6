"""The traps peer tools fall into, each closed and checked on the real `anki` library (issue 9)."""

from __future__ import annotations

import textwrap

import pytest

from anki_collection import (
    answer_first_due_card,
    card_state,
    fresh_collection,
    import_package,
    notes_by_card_id,
    review_log,
)
from builder.macros import Macro, MacroError, expand_macros
from builder.markdown_math import markdown_to_html
from builder.problems import Location, SourceError
from builds import MINIMAL, build_in, set_version

SUBDECK = "ML Math Cheat Sheet::Part 1: Concepts & Formulas"


def add_cards(project, text: str) -> None:
    cards = project / "cards" / "cards.yaml"
    cards.write_text(cards.read_text() + textwrap.indent(textwrap.dedent(text), "  "))


# ---------------------------------------------------------------- renaming keeps history


def test_renamed_card_keeps_its_note_and_review_history(project, tmp_path, monkeypatch):
    first = build_in(project)
    col = fresh_collection(tmp_path / "anki")
    import_package(col, first.path)
    studied = answer_first_due_card(col, SUBDECK)
    note_id = col.get_card(studied).note().id
    assert col.get_card(studied).note()["CardId"] == "bayes-theorem"
    state, history = card_state(col, studied), review_log(col)

    cards = project / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace(
            "  - id: bayes-theorem\n", "  - id: bayes-rule\n    aliases: [bayes-theorem]\n"
        )
    )
    set_version(project / "cards", "0.2.0")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764086400")
    log = import_package(col, build_in(project).path)

    assert [n.fields[-1] for n in log.updated] == ["bayes-rule"] and not log.new
    assert notes_by_card_id(col)["bayes-rule"].id == note_id and len(col.find_notes("")) == 3
    assert card_state(col, studied) == state and review_log(col) == history


def test_an_alias_that_collides_with_another_card_is_an_error(project):
    cards = project / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text().replace(
            "  - id: snippet-softmax\n", "  - id: snippet-softmax\n    aliases: [bayes-theorem]\n"
        )
    )
    with pytest.raises(SourceError) as error:
        build_in(project)
    [problem] = error.value.problems
    assert problem.location.line == 32
    assert problem.message.startswith(
        "card 'snippet-softmax': alias 'bayes-theorem' is already used by the card at "
    )


# ---------------------------------------------------------------- dollar signs

DOLLAR_CASES = [
    # (Markdown, must contain, must not contain)
    ("It costs $5 and $10 today.", "costs $5 and $10", "arithmatex"),
    (r"An escaped \$x\$ stays text.", "$x$", "arithmatex"),
    ("Inline `$x$` code.", "<code>$x$</code>", "arithmatex"),
    ("```python\nprice = '$5' + '$6'\n```", "$5", "arithmatex"),
    ("$a<b$ and $c>d$", '\\(a&lt;b\\)</span> and <span class="arithmatex">\\(c&gt;d\\)', "a<b"),
    ("$x$", r"\(x\)", "$"),
]


@pytest.mark.parametrize(("source", "present", "absent"), DOLLAR_CASES)
def test_dollar_signs_mean_math_only_where_they_should(source, present, absent):
    html = markdown_to_html(source)
    assert present in html and absent not in html


def test_dollar_cases_reach_the_note_as_written(project, tmp_path):
    add_cards(
        project,
        """
        - id: dollars
          kind: qa
          question: What does it cost?
          answer: |
            It costs $5 and $10; `$x$` is code; $a<b$ and $c>d$.
    """,
    )
    col = fresh_collection(tmp_path / "anki")
    import_package(col, build_in(project).path)
    answer = notes_by_card_id(col)["dollars"]["Answer"]
    assert "costs $5 and $10" in answer and "<code>$x$</code>" in answer
    assert r"\(a&lt;b\)" in answer and r"\(c&gt;d\)" in answer


# ---------------------------------------------------------------- deck macros

MACROS = {
    "E": Macro("E", r"\mathbb{E}", 0, Location(MINIMAL)),
    "KL": Macro("KL", r"D_{\mathrm{KL}}(#1 \,\|\, #2)", 2, Location(MINIMAL)),
    "R": Macro("R", r"\mathbb{R}", 0, Location(MINIMAL)),
    "Var": Macro("Var", r"\operatorname{Var}", 0, Location(MINIMAL)),
}


@pytest.mark.parametrize(
    ("tex", "expanded"),
    [
        (r"\E[X]", r"\mathbb{E}[X]"),
        (r"\KL{p}{q}", r"D_{\mathrm{KL}}(p \,\|\, q)"),
        (r"\KL pq", r"D_{\mathrm{KL}}(p \,\|\, q)"),
        (r"\KL{\E[p]}{q_{\R}}", r"D_{\mathrm{KL}}(\mathbb{E}[p] \,\|\, q_{\mathbb{R}})"),
        (r"x \in \R^n", r"x \in \mathbb{R}^n"),
        (r"x^\R", r"x^{\mathbb{R}}"),
        (r"\Exp \Varx \Var(X)", r"\Exp \Varx \operatorname{Var}(X)"),  # whole control words only
        (r"\\E", r"\\E"),  # a line break followed by E is not a macro
        (r"\\\E \E\KL{a}b", r"\\\mathbb{E} \mathbb{E}D_{\mathrm{KL}}(a \,\|\, b)"),
    ],
)
def test_macros_expand_into_plain_tex(tex, expanded):
    assert expand_macros(tex, MACROS) == expanded


def test_macro_with_missing_argument_is_an_error():
    with pytest.raises(MacroError, match="needs 2 argument"):
        expand_macros(r"\KL{p}", MACROS)


def test_deck_macros_are_expanded_in_notes_and_bad_ones_are_source_errors(project, tmp_path):
    deck_yaml = project / "cards" / "deck.yaml"
    deck_yaml.write_text(
        deck_yaml.read_text()
        + "macros:\n  E: '\\mathbb{E}'\n  KL: 'D_{\\mathrm{KL}}(#1 \\,\\|\\, #2)'\n"
    )
    add_cards(
        project,
        r"""
        - id: macro-card
          kind: formula
          concept: KL as an expectation
          formula: |
            $$\KL{p}{q} = \E_{x \sim p}\left[\log \frac{p(x)}{q(x)}\right]$$
    """,
    )
    col = fresh_collection(tmp_path / "anki")
    import_package(col, build_in(project).path)
    formula = notes_by_card_id(col)["macro-card"]["Formula"]
    assert (
        r"D_{\mathrm{KL}}(p \,\|\, q) = \mathbb{E}_{x \sim p}" in formula and r"\KL" not in formula
    )

    deck_yaml.write_text(deck_yaml.read_text() + "  Loop: '\\Pool'\n  Pool: '\\Loop + 1'\n")
    with pytest.raises(SourceError) as error:
        build_in(project)
    messages = [
        f"{p.location.file.name}:{p.location.line}: {p.message}" for p in error.value.problems
    ]
    assert messages == [
        "deck.yaml:19: macro \\Loop is recursive: its expansion reaches \\Loop again",
        "deck.yaml:20: macro \\Pool is recursive: its expansion reaches \\Pool again",
    ]


def test_an_undefined_macro_is_a_source_error_with_file_and_line(project):
    add_cards(
        project,
        r"""
        - id: undefined-macro
          kind: formula
          concept: Expectation
          formula: |
            $$\Ex[X]$$
    """,
    )
    with pytest.raises(SourceError) as error:
        build_in(project)
    [problem] = error.value.problems
    # the formula's own line (the field's key is on line 45) and the column of \Ex on it
    assert (problem.location.line, problem.location.column, problem.code) == (46, 9, "MD140")
    assert problem.message == (
        "card 'undefined-macro', field 'formula': MathJax: Undefined control sequence \\Ex "
        "(define it under 'macros' in deck.yaml, or use \\operatorname{...}) "
        "in $\\Ex[X]$"
    )


# ---------------------------------------------------------------- cloze-safe math


def test_cloze_math_with_double_braces_keeps_the_deletion_whole(project, tmp_path):
    # One line of card text: a line break would become part of the cloze.
    cloze_bayes = r"""
        - id: cloze-bayes
          kind: cloze
          text: |
            Bayes: $P(A \mid B) =$ {{c1::$\frac{P(B \mid A)\,P(A)}{P(B)}$}}, and the evidence is {{c2::$P(B) = \sum_a P(B \mid a)\,P(a)$}}.
    """  # noqa: E501
    add_cards(project, cloze_bayes)
    col = fresh_collection(tmp_path / "anki")
    import_package(col, build_in(project).path)
    note = notes_by_card_id(col)["cloze-bayes"]
    assert r"\frac{P(B \mid A)\,P(A)}{P(B)}" in note["Text"] and "}}$" not in note["Text"]
    first, second = sorted(note.cards(), key=lambda c: c.ord)
    # Anki's own cloze parser: c1 hides the whole fraction, nothing of it leaks on the front.
    assert "[...]" in first.question() and r"\frac" not in first.question()
    assert r"\frac{P(B \mid A)\,P(A)}{P(B)}" in first.answer()
    assert r"\frac{P(B \mid A)\,P(A)}{P(B)}" in second.question() and "[...]" in second.question()


@pytest.mark.parametrize(
    ("text", "leaks"),
    [(r"{{c1::\(\frac{a}{b}}\)}}", True), (r"{{c1::\(\frac{a}{b} }\)}}", False)],
)
def test_double_braces_in_math_end_a_cloze_early_unless_spaced(tmp_path, text, leaks):
    """The trap itself, on the real library: Anki ends the deletion at the first `}}`."""
    from anki.collection import Collection

    col = Collection(str(tmp_path / "c.anki2"))
    note = col.new_note(col.models.by_name("Cloze"))
    note["Text"] = text
    col.add_note(note, col.decks.id_for_name("Default"))
    question = note.cards()[0].question()
    assert question.rstrip().endswith("[...]</span>\\)}}") is leaks
    assert question.rstrip().endswith("[...]</span>") is not leaks


def test_a_macro_argument_never_swallows_the_closing_delimiter():
    from builder.problems import Location as L

    one_arg = (Macro("sq", r"{#1}^2", 1, L(MINIMAL)),)
    html = markdown_to_html("$$\\sq x$$\n\nand $\\sq y$", macros=one_arg)
    assert r"\[{x}^2\]" in html and r"\({y}^2\)" in html
    from builder.macros import MacroError as Error

    with pytest.raises(Error, match="needs 1 argument"):
        markdown_to_html("$$\\sq$$", macros=one_arg)
