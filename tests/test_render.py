"""render: math survives Markdown, HTML is sanitised, code is highlighted without JavaScript."""

from __future__ import annotations

import re

import pytest

from builder.markdown_math import markdown_to_html
from builder.render import card_css, highlight_code, render_note_type

MATH_CASES = [
    # (Markdown source, exact Anki text it must become)
    (r"$a_1 * b_2 * c_3$", r"\(a_1 * b_2 * c_3\)"),
    (r"$x_{i}^{*} = \arg\max_x f(x)$ and $y_j$", r"\(x_{i}^{*} = \arg\max_x f(x)\)"),
    (r"$\|A\|_F = \sqrt{\sum_{i} \sigma_i^2}$", r"\(\|A\|_F = \sqrt{\sum_{i} \sigma_i^2}\)"),
    (r"$a<b$", r"\(a&lt;b\)"),
    (r"$a > b$", r"\(a &gt; b\)"),
    (r"$A \& B$", r"\(A \&amp; B\)"),
    (r"$P(A|B)$", r"\(P(A|B)\)"),
    (r"$\{x \mid x > 0\}$", r"\(\{x \mid x &gt; 0\}\)"),
    (r"$a \\ b$", r"\(a \\ b\)"),
    (r"$*emph*$ and $__init__$", r"\(*emph*\)"),
    (
        "$$\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n$$",
        "\\[\n\\begin{aligned} a &amp;= b \\\\ c &amp;= d \\end{aligned}\n\\]",
    ),
    ("$$x_1 + x_2$$", r"\[x_1 + x_2\]"),
]


@pytest.mark.parametrize(("source", "expected"), MATH_CASES)
def test_math_passes_through_markdown_untouched(source, expected):
    assert expected in markdown_to_html(source)


def test_underscores_in_math_are_not_emphasis():
    html = markdown_to_html(r"$a_i$ and $b_i$ and $*x*$")
    assert "<em>" not in html and "<strong>" not in html


def test_dollar_signs_in_prose_and_code_are_not_math():
    html = markdown_to_html(r"costs \$5 and $10, `$x$` stays code")
    assert "arithmatex" not in html and "$5" in html and "<code>$x$</code>" in html


def test_math_inside_table_cells():
    html = markdown_to_html(
        "| law | formula |\n|---|---|\n| Bayes | $P(A \\mid B) \\propto P(B \\mid A) P(A)$ |"
    )
    assert "<td><span" in html and r"\(P(A \mid B) \propto P(B \mid A) P(A)\)" in html


def test_lone_paragraph_is_unwrapped_for_prompts():
    assert (
        markdown_to_html("What is $x$?", inline=True)
        == 'What is <span class="arithmatex">\\(x\\)</span>?'
    )
    assert markdown_to_html("one\n\ntwo", inline=True).count("<p>") == 2


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script> hi", "<script"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<div style="position:fixed">x</div>', "position"),
        ('<iframe src="https://example.com"></iframe>', "<iframe"),
    ],
)
def test_dangerous_html_never_reaches_a_note(source, forbidden):
    assert forbidden not in markdown_to_html(source)


def test_code_is_highlighted_statically():
    html = highlight_code("def f(x):\n    return x < 1\n", "python")
    assert '<span class="k">def</span>' in html and "&lt;" in html and "<script" not in html


def test_note_type_templates_use_anki_fields():
    templates = render_note_type("qa").templates
    (name, front, back), (followup_name, followup_front, _) = templates
    assert followup_name == "Follow-up"
    assert name == "Question" and "{{Question}}" in front and "{{FrontSide}}" in back
    # The follow-up card exists only when the note has a follow-up question.
    assert followup_front.startswith("{{#FollowupQuestion}}") and followup_front.rstrip().endswith(
        "{{/FollowupQuestion}}"
    )


def test_css_supports_phone_width_and_both_night_mode_classes():
    css = card_css()
    assert ".card.nightMode" in css and ".card.night_mode" in css
    assert not re.search(
        r"\.(nightMode|night_mode)\s+\.card(?![\w-])", css
    )  # never matches in Anki
    assert "overflow-x: auto" in css and "max-width: 100%" in css


@pytest.mark.parametrize(
    "source",
    ["It is\n$$x^2$$\nso.", "It is\n$$\nx^2\n$$\nso.", "It is\n\n$$x^2$$\n\nso."],
)
def test_display_math_on_its_own_line_needs_no_blank_lines(source):
    html = markdown_to_html(source)
    assert '<div class="arithmatex">' in html and "$" not in html
    assert html.startswith("<p>It is</p>") and html.endswith("<p>so.</p>")


def test_display_math_lines_inside_fenced_code_stay_code():
    html = markdown_to_html("```\n$$x$$\n```")
    assert "arithmatex" not in html and "$$x$$" in html


@pytest.mark.parametrize(
    "text",
    [
        "贝叶斯定理",
        "KL 散度",
        "相对熵 12",
        "Bayes",
        "a  b",
        "",
        "x_1",
        "*em*",
        "1. list",
        "a ",
        "<b>x</b>",
        "A & B",
    ],
)
def test_plain_words_skip_markdown_with_the_same_result(text):
    from builder.markdown_math import markdown_field
    from builder.render import inline_markdown_field

    assert inline_markdown_field(text, markdown_field) == markdown_field(text, inline=True)
