"""A note field's HTML back to the sources' Markdown (builder/html_to_markdown.py), fields compared
and edits written over the author's Markdown (builder/field_edits.py), and in place edits of card
files (builder/card_yaml.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.card_yaml import YamlEditError, append_cards, read_value, set_value
from builder.field_edits import html_signature, minimal_edit
from builder.html_to_markdown import Unconvertible, html_to_markdown
from builder.macros import Macro
from builder.markdown_math import markdown_to_html
from builder.problems import Location

MACROS = (
    Macro("E", r"\mathbb{E}", 0, Location(Path("deck.yaml"), 1)),
    Macro("KL", r"D_{\mathrm{KL}}(#1 \| #2)", 2, Location(Path("deck.yaml"), 2)),
)


def test_math_comes_back_in_dollars_with_its_entities_read():
    html = (
        r'<p>If <span class="arithmatex">\(a &lt; b\)</span> &amp; more:</p>'
        r'<div class="arithmatex">\[x &gt; 0\]</div>'
    )
    assert html_to_markdown(html) == "If $a < b$ & more:\n\n$$x > 0$$"


def test_display_math_typed_inside_a_sentence_goes_on_its_own_line():
    assert html_to_markdown(r"Hence \[y = 1\] as claimed.") == "Hence\n$$y = 1$$\nas claimed."


def test_editor_noise_is_normalised_away():
    html = (
        '<div>First&nbsp;line <span style="color: rgb(0, 0, 0);">pasted</span></div>'
        "<div>Second<br></div>"
    )
    assert html_to_markdown(html) == "First line pasted\n\nSecond"


def test_formatting_lists_code_links_and_tables_come_back_as_markdown():
    html = (
        '<p><b>bold</b>, <i>it</i>, <code>x_1</code>, <a href="https://example.org">a link</a>, a '
        "$5 fee</p>"
        "<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>"
        '<table><thead><tr><th style="text-align:left">a</th><th '
        'style="text-align:right">b</th></tr></thead>'
        '<tbody><tr><td style="text-align:left">1</td><td '
        'style="text-align:right">2</td></tr></tbody></table>'
    )
    assert html_to_markdown(html) == (
        "**bold**, *it*, `x_1`, [a link](https://example.org), a \\$5 fee\n\n- one\n- two\n    - "
        "nested\n\n"
        "| a | b |\n| :-- | --: |\n| 1 | 2 |"
    )


def test_macros_are_folded_back_only_where_the_expansion_is_exact():
    assert html_to_markdown(r"\(\mathbb{E}[X] + \mathbb{E}x\)", MACROS) == r"$\E[X] + \mathbb{E}x$"
    # a macro with arguments is left expanded unless the author's own TeX is known
    note_tex = r"D_{\mathrm{KL}}(p \| q)"
    assert html_to_markdown(rf"\({note_tex}\)", MACROS) == f"${note_tex}$"
    assert html_to_markdown(rf"\({note_tex}\)", MACROS, {note_tex: r"\KL{p}{q}"}) == r"$\KL{p}{q}$"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        (
            '<p>See <img src="paste-1.png"></p>',
            'an image pasted into the field (<img src="paste-1.png">): add it as a figure in the '
            "sources instead",
        ),
        (
            '<table><tr><td colspan="2">x</td></tr></table>',
            "a table with merged cells (rowspan/colspan): Markdown tables cannot merge cells",
        ),
        ("<u>under</u>", "underlined text (<u>): Markdown has no underline; use bold or italics"),
        ("<video>x</video>", "<video> has no Markdown form"),
        ('<span class="cloze">x</span>', '<span class="cloze"> has no Markdown form'),
    ],
)
def test_what_markdown_cannot_say_is_refused_with_the_reason(html, reason):
    with pytest.raises(Unconvertible) as refused:
        html_to_markdown(html)
    assert str(refused.value) == reason


def test_the_signature_ignores_editor_noise_but_not_content():
    built = markdown_to_html("Text with **bold** and $x$.\n\n- a\n- b")
    assert html_signature(built) == html_signature(
        built.replace("<p>", "<div>").replace("</p>", "</div>") + "<br>"
    )
    assert html_signature(built) == html_signature(built.replace(" and ", " and&nbsp;"))
    assert html_signature(built) != html_signature(built.replace("bold", "bolder"))
    assert html_signature(built) != html_signature(built.replace("<strong>bold</strong>", "bold"))


def test_minimal_edit_keeps_the_authors_lines_the_edit_did_not_touch():
    source = "A line the author\nwrapped by hand.\n\n- one\n- two"
    current = "A line the author wrapped by hand.\n\n- one\n- two"
    edited = "A line the author wrapped by hand.\n\n- one\n- two\n- three"
    assert (
        minimal_edit(source, current, edited)
        == "A line the author\nwrapped by hand.\n\n- one\n- two\n- three"
    )
    edited_first = "A line the author rewrote.\n\n- one\n- two"
    assert (
        minimal_edit(source, current, edited_first) == "A line the author rewrote.\n\n- one\n- two"
    )
    assert minimal_edit("- one\n- two", "- one\n- two", "- one\n- 2") == "- one\n- 2"


CARD_FILE = """# a comment that stays
subdeck: "Part 1"
cards:
  - id: a
    kind: qa
    question: "Quoted?"   # a trailing comment
    answer: |
      Line one.
      Line two.

  - id: b
    kind: qa
    question: Plain
    answer: Short.
"""


def test_one_value_is_edited_in_place_and_everything_else_stays_byte_for_byte():
    edited = set_value(CARD_FILE, "a", "answer", "Line one.\nLine 2.\n")
    assert edited == CARD_FILE.replace("Line two.", "Line 2.")
    edited = set_value(CARD_FILE, "a", "question", "Still quoted?")
    assert edited == CARD_FILE.replace('"Quoted?"', '"Still quoted?"')
    edited = set_value(CARD_FILE, "b", "question", "Now: with a colon")
    assert edited == CARD_FILE.replace("question: Plain", "question: 'Now: with a colon'")


def test_a_new_key_goes_after_the_cards_last_key_and_multi_line_text_is_a_literal_block():
    edited = set_value(CARD_FILE, "b", "followup_answer", "Two\n\nparagraphs.\n")
    assert edited == CARD_FILE + "    followup_answer: |\n      Two\n\n      paragraphs.\n"
    assert read_value(edited, "b", "followup_answer") == "Two\n\nparagraphs.\n"
    edited = set_value(CARD_FILE, "a", "zh", "null")
    assert (
        read_value(edited, "a", "zh") == "null"
        and "      Line two.\n    zh: 'null'\n\n  - id: b" in edited
    )


def test_an_unknown_card_is_an_edit_error():
    with pytest.raises(YamlEditError, match="no card with id 'c'"):
        set_value(CARD_FILE, "c", "answer", "x")


def test_new_cards_are_appended_to_a_card_file():
    text = append_cards(
        None, "Pulled from Anki", [{"id": "x", "kind": "basic", "front": "Yes", "back": "A\nB\n"}]
    )
    assert text == (
        "subdeck: Pulled from Anki\ncards:\n  - id: x\n    kind: basic\n    front: Yes\n"
        "    back: |\n      A\n      B\n"
    )
    more = append_cards(text, "ignored", [{"id": "y", "kind": "basic", "front": "F", "back": "B"}])
    assert more == text + "\n  - id: y\n    kind: basic\n    front: F\n    back: B\n"


def test_a_cloze_field_edited_in_anki_pulls_with_its_deletions():
    from types import SimpleNamespace

    from builder.kinds import KINDS
    from builder.pull_match import pulled_markdown

    deck = SimpleNamespace(config=SimpleNamespace(macros=()))
    source = "The mean is {{c1::$\\frac{1}{n}\\sum_i x_{i^{2}}$}} here.\n"
    current = markdown_to_html(source, cloze=True)
    edited = current.replace("here", "<b>here</b>")
    pulled = pulled_markdown(source, current, edited, deck, KINDS["cloze"], inline=False)
    assert pulled == "The mean is {{c1::$\\frac{1}{n}\\sum_i x_{i^{2}}$}} **here**.\n"
    assert html_signature(markdown_to_html(pulled, cloze=True)) == html_signature(edited)
