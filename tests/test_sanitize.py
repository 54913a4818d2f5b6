"""sanitize: HTML the fast path gives back unchanged (`already_clean`) is exactly what nh3 makes of
it, on every note field of the flagship and the bench deck and on generated HTML full of the
characters and tags html5ever rewrites; a field without an image is cleaned alike with or without
the attribute filter."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.bench_decks import write_synthetic_project
from builder.load import load_sources
from builder.render import FigureFiles, render_card
from builder.sanitize import _sanitiser, already_clean, sanitize_html

ROOT = Path(__file__).resolve().parent.parent


def nh3_clean(html: str) -> str:
    """The sanitiser as it was before the fast path: nh3 with the image filter, every time."""
    return _sanitiser(images=True).clean(html)


class _AnyFigure(dict):
    def __missing__(self, name: str) -> FigureFiles:
        return FigureFiles(f"{name}-light.png", f"{name}-dark.png", f"a figure of {name}")


def note_field_html(cards_dir: Path) -> list[str]:
    """Every field of every note, as render_card hands it to the sanitiser."""
    import builder.render as render

    deck = load_sources(cards_dir).deck
    assert deck is not None
    seen: list[str] = []
    keep = render.sanitize_html
    render.sanitize_html = lambda html: seen.append(html) or keep(html)  # type: ignore[func-returns-value]
    try:
        for card in deck.cards:
            render_card(card, _AnyFigure(), deck.config.macros)
    finally:
        render.sanitize_html = keep
    return seen


def test_flagship_and_bench_fields_are_cleaned_as_nh3_cleans_them(tmp_path):
    write_synthetic_project(tmp_path / "bench", 200)
    for cards_dir in (ROOT / "cards", tmp_path / "bench" / "cards"):
        fields = note_field_html(cards_dir)
        for html in fields:
            assert sanitize_html(html) == nh3_clean(html), html
        # the comparison covers the fast path: most fields take it
        assert sum(map(already_clean, fields)) > 0.9 * len(fields)


def test_every_kind_of_field_mathdeck_writes_is_already_clean(tmp_path):
    write_synthetic_project(tmp_path / "bench", 20)
    fields = note_field_html(tmp_path / "bench" / "cards")
    kinds = {"<p>", "<ul>", '<div class="arithmatex">', "<strong>", "<code>", "code-block"}
    for marker in kinds:
        assert any(marker in html and already_clean(html) for html in fields), marker


# Text: plain characters, the ones html5ever writes otherwise (U+00A0, CR, NUL, `>`, `"`), the
# three escapes and other character references, controls and anything else hypothesis makes.
AWKWARD_TEXT = [
    "a", " ", "\n", "\t", "x_1", "\\(", "\\)", "&amp;", "&lt;", "&gt;",
    "&quot;", "&#39;", "&nbsp;", "&", ">", '"', "'", "\u00a0", "\r", "\x00",
    "\x0c", "\x01", "\x7f", "\x85", "\ufeff", "\ufdd0", "é", "&amp", "&lt", "\u2028",
]  # fmt: skip
TEXT_PIECES = st.one_of(st.sampled_from(AWKWARD_TEXT), st.text(max_size=3))
TEXT = st.lists(TEXT_PIECES, max_size=5).map("".join)
TAGS = [
    ("<p>", "</p>"),
    ("<code>", "</code>"),
    ("<strong>", "</strong>"),
    ("<em>", "</em>"),
    ('<span class="arithmatex">', "</span>"),
    ('<div class="arithmatex">', "</div>"),
    ("<ul>\n<li>", "</li>\n</ul>"),
    ('<span class="k">', "</span>"),
    ('<span class="nonsense">', "</span>"),
    ("<span>", "</span>"),
    ("<li>", "</li>"),
    ("<pre>", "</pre>"),
    ("<b>", "</b>"),
    ('<span class="arithmatex" id="x">', "</span>"),
    ("<P>", "</P>"),
    ("<img src='a.png'>", ""),
    ("<image src=http://t.example/x>", ""),
]


def _html(draw_depth: int):
    """HTML of nested tags from TAGS (mostly ones the fast path knows, some it must refuse)
    around generated text, sometimes unclosed or misnested."""
    leaf = TEXT
    if draw_depth == 0:
        return leaf
    inner = _html(draw_depth - 1)
    element = st.tuples(st.sampled_from(TAGS), st.lists(inner, max_size=3)).map(
        lambda parts: parts[0][0] + "".join(parts[1]) + parts[0][1]
    )
    broken = st.tuples(st.sampled_from(TAGS), inner, st.booleans()).map(
        lambda parts: parts[0][0] + parts[1] if parts[2] else parts[1] + parts[0][1]
    )
    return st.one_of(leaf, element, element, broken)


FIELDS = st.lists(_html(3), min_size=1, max_size=4).map("\n".join)
CODE_OPENING = '<div class="code-block"><div class="highlight"><pre><span></span>'
CODE = st.lists(_html(1), max_size=6).map(
    lambda parts: CODE_OPENING + "".join(parts) + "</pre></div>\n</div>"
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(FIELDS, CODE))
def test_generated_html_is_cleaned_as_nh3_cleans_it(html):
    if already_clean(html):
        assert nh3_clean(html) == html
    assert sanitize_html(html) == nh3_clean(html)


# HTML in the fast path's grammar (sanitize.py), its text any character but those it refuses
# (most of the time): what it accepts must be nh3's output for it.
CLEAN_TEXT = st.lists(
    st.one_of(
        st.text(st.characters(exclude_characters="<>&\xa0\ufeff", exclude_categories=["Cs", "Cc"])),
        st.sampled_from(["&amp;", "&lt;", "&gt;", "\n", "\t", " "]),
    ),
    max_size=4,
).map("".join)
CLEAN_PHRASE = st.lists(
    st.one_of(
        CLEAN_TEXT,
        CLEAN_TEXT.map("<code>{}</code>".format),
        CLEAN_TEXT.map('<span class="arithmatex">{}</span>'.format),
    ),
    max_size=3,
).map("".join)
CLEAN_INLINE = st.lists(
    st.one_of(
        CLEAN_PHRASE,
        st.tuples(st.sampled_from(["strong", "em"]), CLEAN_PHRASE).map(
            lambda parts: f"<{parts[0]}>{parts[1]}</{parts[0]}>"
        ),
    ),
    max_size=3,
).map("".join)
CLEAN_BLOCK = st.one_of(
    CLEAN_INLINE.map("<p>{}</p>".format),
    CLEAN_TEXT.map('<div class="arithmatex">{}</div>'.format),
    st.lists(CLEAN_INLINE.map("<li>{}</li>\n".format), min_size=1, max_size=3).map(
        lambda items: "<ul>\n" + "".join(items) + "</ul>"
    ),
)
CLEAN_CODE = st.lists(
    st.one_of(
        CLEAN_TEXT,
        st.tuples(st.sampled_from(["k", "n", "nf", "s2", "c1", "o", "mi", "err"]), CLEAN_TEXT).map(
            lambda parts: f'<span class="{parts[0]}">{parts[1]}</span>'
        ),
    ),
    max_size=8,
).map(lambda tokens: CODE_OPENING + "".join(tokens) + "</pre></div>\n</div>")
CLEAN_FIELDS = st.one_of(
    st.lists(CLEAN_BLOCK, min_size=1, max_size=4).map("\n".join), CLEAN_INLINE, CLEAN_CODE
)


@settings(max_examples=3000, deadline=None)
@given(CLEAN_FIELDS)
def test_html_in_the_fast_paths_grammar_is_nh3s_output(html):
    assert already_clean(html)
    assert nh3_clean(html) == html


@settings(max_examples=1000, deadline=None)
@given(FIELDS)
def test_the_image_filter_changes_nothing_without_an_image(html):
    if "<im" not in html.lower():
        assert _sanitiser(images=False).clean(html) == nh3_clean(html)


def test_a_remote_image_is_still_dropped():
    html = '<p>x</p><IMG src="https://tracker.example/p.png"><image src="//t.example/x">'
    assert not already_clean(html)
    assert sanitize_html(html) == nh3_clean(html) == "<p>x</p><img><img>"
