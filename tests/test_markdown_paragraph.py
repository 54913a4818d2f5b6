"""markdown_paragraph: a plain paragraph written without Markdown is byte for byte Markdown's own
output, on the flagship deck, the bench deck and generated text full of Markdown's special
characters; anything it cannot write exactly is left to Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.bench_decks import write_synthetic_project
from builder.check import audit_html, markdown_sources
from builder.load import load_sources
from builder.macros import Macro, MacroError
from builder.markdown_extensions import escape_math
from builder.markdown_math import markdown_converter
from builder.markdown_paragraph import plain_html
from builder.problems import Location

ROOT = Path(__file__).resolve().parent.parent
HERE = Location(Path("deck.yaml"), 1)
MACROS = (
    Macro("E", r"\mathbb{E}", 0, HERE),
    Macro("KL", r"D_{\mathrm{KL}}(#1 \,\|\, #2)", 2, HERE),
)


def both(text: str, macros: tuple[Macro, ...] = MACROS, cloze: bool = False):
    """(the fast path's answer or None, Markdown's output); a MacroError counts as an answer.
    The check skips the HTML audit of the fast path's answers: it must have nothing to say."""
    converter, rewrite = markdown_converter(macros, cloze)
    try:
        fast: str | None = plain_html(text, converter, rewrite, escape_math)
    except MacroError as error:
        fast = f"MacroError: {error}"
    else:
        assert fast is None or audit_html(text, fast) == ((), False, ()), text
    converter.reset()
    try:
        slow = converter.convert(text)
    except MacroError as error:
        slow = f"MacroError: {error}"
    return fast, slow


def deck_fields(cards_dir: Path):
    deck = load_sources(cards_dir).deck
    assert deck is not None
    return deck.config.macros, [
        text for card in deck.cards for text in markdown_sources(card).values()
    ]


@pytest.mark.parametrize("cloze", [False, True])
def test_flagship_and_bench_fields_match_markdown(tmp_path, cloze):
    write_synthetic_project(tmp_path / "bench", 200)
    for cards_dir in (ROOT / "cards", tmp_path / "bench" / "cards"):
        macros, texts = deck_fields(cards_dir)
        answered = 0
        for text in texts:
            fast, slow = both(text, macros, cloze)
            if fast is not None:
                answered += 1
                assert fast == slow, text
        assert answered > len(texts) / 2  # the comparison covers most fields


PLAIN = [
    ("A sentence.", "<p>A sentence.</p>"),
    ("Two\nlines with $x_1$ and `np.mean(x[0])`.\n", None),
    (r"$\E[X]$ and $\KL{p}{q}$", None),
    ("`$not math$` then $y$", None),
    ("$a$, $b$; (c)", None),
    ("see **damobo loledi** and `np.mean(x[0])`, (**b**).", None),
    ("$$x_1 + x_2$$\n", '<div class="arithmatex">\\[x_1 + x_2\\]</div>'),
    ("$$\n\\begin{aligned} a &= b \\\\ c \\end{aligned}\n$$", None),
    ("$$a < \\E[X]$$", None),
    ("First\n\nSecond paragraph", "<p>First</p>\n<p>Second paragraph</p>"),
    ("- a list item", "<ul>\n<li>a list item</li>\n</ul>"),
    ("By $x$:\n\n$$y &= 1$$\n\n- one `c`\n- **two** $z$\n\nEnd.\n", None),
    ("$$x$$\n\n$$y$$", None),
]


@pytest.mark.parametrize(("text", "expected"), PLAIN)
def test_plain_paragraphs_are_written_without_markdown(text, expected):
    fast, slow = both(text)
    assert fast is not None
    assert fast == slow == (expected or slow)


LEFT_TO_MARKDOWN = [
    "- a list item\n\n- a loose list",
    "- a list item\n  continued",
    "- a list item\nlazily continued",
    "-  two spaces",
    "* a star item",
    "1. a numbered item",
    "# A header",
    "> a quote",
    "an *emphasis*",
    "**bold**text",
    "`code`**bold**",
    "**not closed",
    "snake_case",
    r"an \*escape",
    "a [link](https://example.com)",
    "a <b>tag</b>",
    "x &amp; y",
    "two  \nlines with a break",
    "  indented",
    "$$x$$ and more",
    "$$a$$ $$b$$",
    "$$\n```\nx\n$$",
    "$$&#1 x$$",
    r"\(x\) written with brackets",
    "a lone $ sign",
    "a lone ` backtick",
    "two\n---",
    "a | b\n--|--",
    "First\n\n\nSecond paragraph",
    "First\n\n<b>Second</b>",
    "$$a<b$$\n\nSecond",
    "$a < b$",
    "tab\there",
]


@pytest.mark.parametrize("text", LEFT_TO_MARKDOWN)
def test_anything_else_is_left_to_markdown(text):
    assert both(text)[0] is None


def test_a_macro_used_wrongly_fails_as_in_markdown():
    fast, slow = both(r"the divergence $\KL{p}$ here")
    assert fast == slow
    assert fast is not None and fast.startswith("MacroError")


def test_a_macro_that_writes_an_ampersand_is_left_to_markdown():
    macros = (Macro("both", r"a \& b", 0, HERE),)
    assert both(r"see $\both$", macros)[0] is None


# Text made of Markdown's and TeX's special characters, words and line breaks: wherever the
# paragraph is written without Markdown, it is Markdown's output.
# Pieces a plain paragraph is made of (listed twice: most generated texts are answered) and the
# characters that make a text Markdown's.
PLAIN_PIECES = [
    "a", "Word", "x", "1", " ", "\n", "$x$", "$a_1$", "`c`", "\\E", "(", ")", "'", "é", "$$",
    "**b**", " **b c**", "**", ",", ".",
]  # fmt: skip
HAZARDS = [
    "2.", "3)", " ", "\n", "$", "`", "\\", "\\KL{p}{q}", "\\KL{p}", "{", "}", "}}", "_", "*",
    "**", "[", "]", "!", "#", ">", "<", "&", "|", "-", "+", "=", "~", ":", '"', "\t", "\u00a0",
    "\\(", "\\)", "\\\\", "$$", "\x02", "\r", "&#1", "&amp", "&x;", "&=", "& ",
]  # fmt: skip
PIECES = st.sampled_from(PLAIN_PIECES * 2 + HAZARDS)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=14).map("".join), st.sampled_from(["", "$$"]), st.booleans())
def test_generated_text_matches_markdown_whenever_answered(text, display, cloze):
    fast, slow = both(display + text + display, MACROS, cloze)
    if fast is not None:
        assert fast == slow


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from(["$", "\\", "\\(", "\\)", "a", " ", "\n", "{", "}", "\x02"])).map(
        "".join
    )
)
def test_math_is_found_where_arithmatex_finds_it(text):
    from builder.markdown_paragraph import _matches

    pattern = markdown_converter((), False)[0].inlinePatterns["arithmatex-inline"].compiled_re
    found = [(m.span(), m.groups()) for m in _matches(pattern, text)]
    assert found == [(m.span(), m.groups()) for m in pattern.finditer(text)]


# Fields of generated blocks (paragraphs, lists, display formulas, lines other blocks start with)
# between blank lines or not quite: wherever the field is written without Markdown, it is
# Markdown's output.
LINE = st.lists(
    st.sampled_from([p for p in PLAIN_PIECES if p not in ("\n", "$$", "**")] * 12 + HAZARDS),
    max_size=6,
).map("".join)
BLOCK_STARTS = ["", "- ", "-  ", "* ", "1. ", "  ", "    ", "$$", "> ", "# ", "---\n"]
BLOCKS = st.one_of(
    LINE,
    st.lists(LINE, min_size=1, max_size=3).map("\n".join),
    st.lists(LINE, min_size=1, max_size=3).map(lambda items: "\n".join("- " + i for i in items)),
    LINE.map(lambda tex: f"$${tex}$$"),
    st.tuples(st.sampled_from(BLOCK_STARTS), LINE).map("".join),
)
SEPARATORS = ["\n\n"] * 6 + ["\n", "\n\n\n", "\n \n", "\n\n  "]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(BLOCKS, st.sampled_from(SEPARATORS)), max_size=4), st.booleans())
def test_generated_blocks_match_markdown_whenever_answered(blocks, cloze):
    text = "".join(block + separator for block, separator in blocks)
    fast, slow = both(text, MACROS, cloze)
    if fast is not None:
        assert fast == slow
