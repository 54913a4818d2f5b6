"""The browser harness measures what a learner would see: MathJax errors, raw TeX, overflow,
images."""

from __future__ import annotations

import struct
import zlib

import pytest

from browser_harness import render_card_html, save_screenshot

pytestmark = pytest.mark.browser

CSS = """
.card { font-family: sans-serif; font-size: 20px; color: #222; background: #fff; }
.card.nightMode { color: #eee; background: #1e1e1e; }
.math-scroll { overflow-x: auto; overflow-y: hidden; }
"""

TOO_WIDE = r"\[ " + " + ".join(f"a_{{{i}}} x_{{{i}}}^{{2}}" for i in range(1, 25)) + r" \]"

GOOD_CARD = rf"""
<h3>Bayes' theorem</h3>
<p>Inline \(P(A \mid B) = \frac{{P(B \mid A)\,P(A)}}{{P(B)}}\) and display:</p>
\[ \mathbb{{E}}[X] = \sum_x x\,p(x) \coloneqq \mu \]
<div class="math-scroll">{TOO_WIDE}</div>
<img src="dot.png">
"""


def png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def media_dir(tmp_path):
    (tmp_path / "dot.png").write_bytes(png_1x1())
    return tmp_path


@pytest.mark.parametrize("width", [375, 1280])
def test_good_card_renders_cleanly(page, media_dir, width):
    report = render_card_html(page, CSS, GOOD_CARD, width=width, night=False, media_dir=media_dir)
    save_screenshot(page, f"harness-good-{width}")
    scrollbars, wide = report.pop("scrollbars"), report.pop("wide_formulas")
    assert report == {
        "merrors": 0,
        "raw_math": False,
        "page_overflow": False,
        "scroll_width": width,
        "broken_images": [],
        "formulas": 3,
        "undefined_macros": [],
        "js_errors": [],
    }
    # the too-wide formula scrolls in its own box, which draws a scrollbar (scrollbars are visible)
    assert [bar["box"] for bar in scrollbars] == [".math-scroll"] and len(wide) == 1


def test_wide_formula_outside_a_scroll_box_overflows_the_page(page):
    report = render_card_html(page, CSS, TOO_WIDE, width=375, night=False)
    assert report["page_overflow"] is True
    assert report["scroll_width"] > 375


def test_broken_formula_shows_one_error_box(page):
    html = r"<p>\(\frac{a}{b}\) then \(\begin{aligned} a &= b \)</p>"
    report = render_card_html(page, CSS, html, width=375, night=False)
    assert (report["merrors"], report["raw_math"], report["formulas"]) == (1, False, 2)


def test_unbalanced_brace_leaves_raw_tex(page):
    # MathJax never finds the closing \) when braces do not balance: the learner sees TeX.
    report = render_card_html(page, CSS, r"<p>\(\frac{a}{b\)</p>", width=375, night=False)
    assert (report["merrors"], report["raw_math"], report["formulas"]) == (0, True, 0)


def test_undefined_macro_is_red_text_not_an_error_box(page):
    report = render_card_html(page, CSS, r"<p>\(\foo + 1\)</p>", width=375, night=False)
    assert (report["merrors"], report["undefined_macros"]) == (0, [r"\foo"])


def test_dollars_are_plain_text(page):
    report = render_card_html(page, CSS, "<p>costs $5 and $x$</p>", width=375, night=False)
    assert report["formulas"] == 0


def test_missing_image_is_reported(page, media_dir):
    html = '<img src="dot.png"><img src="missing.png">'
    report = render_card_html(page, CSS, html, width=375, night=False, media_dir=media_dir)
    assert report["broken_images"] == ["missing.png"]


def test_night_mode_sets_anki_classes(page):
    render_card_html(page, CSS, "<p>x</p>", width=375, night=True)
    assert (
        page.evaluate("document.body.className") == "card card1 night_mode nightMode"
    )  # as AnkiDroid
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(238, 238, 238)"
    save_screenshot(page, "harness-night-375")


def test_page_never_reaches_the_network(page):
    html = '<img src="https://example.com/x.png"><p>\\(x\\)</p>'
    report = render_card_html(page, CSS, html, width=375, night=False)
    assert report["broken_images"] == ["https://example.com/x.png"]
