"""markdown_paragraph: a plain paragraph written without Markdown is byte for byte Markdown's own
output, on the flagship deck, the bench deck and generated text full of Markdown's special
characters; anything it cannot write exactly is left to Markdown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.bench_decks import write_synthetic_project
from builder.check import audit_html, markdown_sources
from builder.load import load_sources
from builder.macros import Macro, MacroError
from builder.markdown_arithmatex import BLOCK_MATH, INLINE_MATH
from builder.markdown_extensions import escape_math
from builder.markdown_math import collect_formulas, list_depths, markdown_converter
from builder.markdown_paragraph import plain_html
from builder.problems import Location

ROOT = Path(__file__).resolve().parent.parent
HERE = Location(Path("deck.yaml"), 1)
MACROS = (
    Macro("E", r"\mathbb{E}", 0, HERE),
    Macro("KL", r"D_{\mathrm{KL}}(#1 \,\|\, #2)", 2, HERE),
    # Markdown escapes `&` and `<` in math, not a character reference
    Macro("amp", r"\& <", 0, HERE),
    Macro("hashref", "&#38;", 0, HERE),
    Macro("nameref", "&amp;", 0, HERE),
)


def both(text: str, macros: tuple[Macro, ...] = MACROS, cloze: bool = False):
    """(the fast path's answer or None, Markdown's output); a MacroError counts as an answer.
    The check skips the HTML audit of the fast path's answers: it must have nothing to say."""
    converter, rewrite = markdown_converter(macros, cloze)
    found: list = []
    try:
        fast: str | None = plain_html(text, rewrite, escape_math, found)
    except MacroError as error:
        fast = f"MacroError: {error}"
    else:
        assert fast is None or audit_html(text, fast) == ((), False, ()), text
        if fast is not None:  # the formulas it says it wrote are those in its HTML
            assert [formula for formula, _ in found] == collect_formulas(fast), text
            assert [depth for _, depth in found] == list_depths(fast), text
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
    ("First\n\n\nSecond paragraph", "<p>First</p>\n<p>Second paragraph</p>"),
    ("By $x$:\n$$y$$\nthen $z$.", None),
    ("- a list item", "<ul>\n<li>a list item</li>\n</ul>"),
    ("By $x$:\n\n$$y &= 1$$\n\n- one `c`\n- **two** $z$\n\nEnd.\n", None),
    ("$$x$$\n\n$$y$$", None),
    ("Edit 3: $e^{3} > 0$. Then $a<1$, $a \\& b$", None),
    (
        "a > b & c < d, `x < y && z>0`, **bold** $p > q$",
        "<p>a &gt; b &amp; c &lt; d, <code>x &lt; y &amp;&amp; z&gt;0</code>, "
        '<strong>bold</strong> <span class="arithmatex">\\(p &gt; q\\)</span></p>',
    ),
    ("- $x > 0$\n- a & b", None),
    ("an *emphasis* and **strong** (*em*).", None),
    ("$a < b$", '<p><span class="arithmatex">\\(a &lt; b\\)</span></p>'),
    ("$$a < b$$\n\nThen $c > d$.", None),
    ("$$\\begin{aligned}\n&p(x) = 1 \\\\\n&X = 2\n\\end{aligned}$$", None),
    ("$a &p b$ & c &X d", None),
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
    "an *emphasis",
    "an *emphasis*text",
    "a *b **c** d*",
    "***a***",
    "**a*",
    "**bold**text",
    "`code`**bold**",
    "**not closed",
    "snake_case",
    r"an \*escape",
    "a [link](https://example.com)",
    "a <b>tag</b>",
    "x &amp; y",
    "$x &amp; y$",
    "a &copy; b",
    "$$a &copy; b$$\n\nc",
    "$a<b$",
    "a &#62; b",
    "a <1@b.c> mail",
    "a <https://example.com> link",
    "a <!-- comment -->",
    "ends with &",
    "ends with <",
    "> a quote",
    "a\n> quote",
    "**a < b**",
    "$x$\n\n<span>b</span>",
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
    "a |\n|",
    "a | b\n- | -",
    "First\n\n<b>Second</b>",
    "$$a<b$$\n\nSecond",
    "tab\there",
]


@pytest.mark.parametrize("text", LEFT_TO_MARKDOWN)
def test_anything_else_is_left_to_markdown(text):
    assert both(text)[0] is None


def test_a_macro_used_wrongly_fails_as_in_markdown():
    fast, slow = both(r"the divergence $\KL{p}$ here")
    assert fast == slow
    assert fast is not None and fast.startswith("MacroError")


def test_a_macro_that_writes_an_ampersand_is_escaped_as_markdown_escapes_it():
    macros = (Macro("both", r"a \& b < c", 0, HERE), Macro("ref", r"a &#38; b", 0, HERE))
    fast, slow = both(r"see $\both$", macros)
    assert fast == slow == r'<p>see <span class="arithmatex">\(a \&amp; b &lt; c\)</span></p>'
    assert both(r"see $\ref$", macros)[0] is None  # Markdown keeps the reference: left to it


def test_arithmatex_patterns_are_the_converters():
    """markdown_paragraph's copies of arithmatex's patterns, as its extension combines them."""
    converter = markdown_converter((), False)[0]
    inline = converter.inlinePatterns["arithmatex-inline"].compiled_re
    block = converter.parser.blockprocessors["arithmatex-block"].pattern
    assert (INLINE_MATH.pattern, INLINE_MATH.flags) == (inline.pattern, inline.flags)
    assert (BLOCK_MATH.pattern, BLOCK_MATH.flags) == (block.pattern, block.flags)


def test_a_plain_field_is_written_without_importing_markdown():
    """An edit whose fields are all plain never loads Markdown (~60 ms with pymdown-extensions)."""
    script = (
        "import sys\n"
        "from builder.markdown_math import unsafe_html_written\n"
        "html, plain = unsafe_html_written('Edit 1: $e^{1} > 0$. And `a & b`.', (), False)\n"
        "print(html)\n"
        "print(plain is not None, sorted(m for m in ('markdown', 'pymdownx')"
        " if m in sys.modules))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.splitlines()
    assert output == [
        '<p>Edit 1: <span class="arithmatex">\\(e^{1} &gt; 0\\)</span>. '
        "And <code>a &amp; b</code>.</p>",
        "True []",
    ]


# Text made of Markdown's and TeX's special characters, words and line breaks: wherever the
# paragraph is written without Markdown, it is Markdown's output.
# Pieces a plain paragraph is made of (listed twice: most generated texts are answered) and the
# characters that make a text Markdown's.
PLAIN_PIECES = [
    "a", "Word", "x", "1", " ", "\n", "$x$", "$a_1$", "`c`", "\\E", "(", ")", "'", "é", "$$",
    "**b**", " **b c**", "**", ",", ".", "$x > 0$", "$a < b$", " & ", " > ", "`a < b && c`",
    " **a > b & c**", "*e*", " *e f*", " (*g*)",
]  # fmt: skip
HAZARDS = [
    "2.", "3)", " ", "\n", "$", "`", "\\", "\\KL{p}{q}", "\\KL{p}", "{", "}", "}}", "_", "*",
    "**", "[", "]", "!", "#", ">", "<", "&", "|", "-", "+", "=", "~", ":", '"', "\t", "\u00a0",
    "\\(", "\\)", "\\\\", "$$", "\x02", "\r", "&#1", "&amp", "&x;", "&=", "& ",
    "&amp;", "&lt;", "a<b", "<span>", "</span>", "<!--", "-->", "<1@b.c>", "<http://a.b>", " < ",
    "$a &= b$", "\n> ", "> ", " **a <1@b.c>**", "$\\amp$", "`<b>`", "`&amp;`", " | ", "|\n",
    "\n|", "\n--|--\n", "\n:-|-:\n", " **b*", " *b**", "***b***",
]  # fmt: skip
PIECES = st.sampled_from(PLAIN_PIECES * 2 + HAZARDS)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=14).map("".join), st.sampled_from(["", "$$"]), st.booleans())
def test_generated_text_matches_markdown_whenever_answered(text, display, cloze):
    fast, slow = both(display + text + display, MACROS, cloze)
    if fast is not None:
        assert fast == slow


# Text whose only hazards are HTML's: `<`, `>` and `&` in prose, code, math and `**strong**`, as
# text, tags, comments, character references, autolinks and e-mail links, and a quote's `>`.
HTML_PIECES = [
    "a", "x", " ", "\n", "$x$", "`c`", "**b**", "$", "`", "**", "<", ">", "&", " < ", " > ",
    " & ", "a<b", "a<1", "<span>", "</span>", "<!--", "-->", "&amp;", "&#1", "&x;", "<1@b.c>",
    "<http://a.b>", "\n> ", "$\\amp$", "$\\hashref$", "$\\nameref$", "&p(", "&X", "&lt", "&K;",
    "&\u212a;", " **a > b & c**", " **a <1@b.c> d**",
]  # fmt: skip


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(HTML_PIECES), max_size=12).map("".join), st.booleans())
def test_generated_html_characters_match_markdown_whenever_answered(text, cloze):
    fast, slow = both(text, MACROS, cloze)
    if fast is not None:
        assert fast == slow


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.sampled_from(["$", "\\", "\\(", "\\)", "a", " ", "\n", "{", "}", "\x02"])).map(
        "".join
    )
)
def test_math_is_found_where_arithmatex_finds_it(text):
    from builder.markdown_arithmatex import math_matches

    pattern = markdown_converter((), False)[0].inlinePatterns["arithmatex-inline"].compiled_re
    found = [(m.span(), m.groups()) for m in math_matches(pattern, text)]
    assert found == [(m.span(), m.groups()) for m in pattern.finditer(text)]


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "$",
                "$ ",
                " $",
                "\\",
                "\\$",
                "\\\\",
                "\\(",
                "\\)",
                "a",
                " ",
                "\n",
                "{",
                "\x02",
                "\x03",
            ]
        )
    ).map("".join)
)
def test_the_fast_inline_pattern_matches_as_arithmatex_does(text):
    from builder.markdown_arithmatex import FAST_INLINE_MATH, math_matches

    found = [(m.span(), m.groups()) for m in math_matches(FAST_INLINE_MATH, text)]
    assert found == [(m.span(), m.groups()) for m in INLINE_MATH.finditer(text)]


# Fields of generated blocks (paragraphs, lists, display formulas, lines other blocks start with)
# between blank lines or not quite: wherever the field is written without Markdown, it is
# Markdown's output.
LINE = st.lists(
    st.sampled_from([p for p in PLAIN_PIECES if p not in ("\n", "$$", "**")] * 12 + HAZARDS),
    max_size=6,
).map("".join)
BLOCK_STARTS = ["", "- ", "-  ", "* ", "1. ", "  ", "    ", "$$", "> ", "# ", "---\n", "<div>"]
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
