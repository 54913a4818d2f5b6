"""Every card of the flagship deck, as the real `anki` library renders it, typeset by MathJax 3 in
headless Chromium at phone and desktop widths, by day and by night (issue 5)."""

from __future__ import annotations

import html
import re
import time

import pytest

from browser_harness import ORIGIN, TYPESET_AND_WAIT, card_page, render_card_html, save_screenshot, serve_offline

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)

# Each side sits in its own box as wide as the page; a side overflows when its box scrolls sideways.
MEASURE_EVERY_SIDE = "async () => {" + TYPESET_AND_WAIT + r"""
  const sides = [...document.querySelectorAll('.side')].map((side) => ({
    name: side.dataset.name,
    merrors: side.querySelectorAll('mjx-merror').length,
    raw_math: /\\[(\[]/.test(side.innerText),
    overflow: side.scrollWidth > side.clientWidth + 1,
    broken_images: [...side.querySelectorAll('img')]
      .filter((img) => img.getClientRects().length && !(img.complete && img.naturalWidth > 0))
      .map((img) => img.getAttribute('src')),
    undefined_macros: [...side.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
      .map((node) => node.textContent).filter((text) => text.startsWith('\\')),
  }));
  return {
    sides,
    page_overflow: document.documentElement.scrollWidth > window.innerWidth,
    formulas: document.querySelectorAll('mjx-container').length,
    images: [...document.images].filter((img) => img.getClientRects().length).length,
  };
}"""


def split_style(rendered: str) -> tuple[str, str]:
    match = re.match(r"\s*<style>(.*?)</style>(.*)", rendered, flags=re.S)
    return match.group(1), match.group(2)


@pytest.fixture(scope="module")
def imported_cards(imported_flagship):
    """(css, [(name, html)], media dir) for every card side of the flagship after a real import."""
    _, col, _ = imported_flagship
    css, sides = None, []
    for card_id in sorted(col.find_cards("")):
        card = col.get_card(card_id)
        name = f"{card.note()['CardId']}#{card.ord}"
        for side, rendered in (("front", card.question()), ("back", card.answer())):
            css, body = split_style(rendered)
            sides.append((f"{name}:{side}", body))
    return css, sides, col.media.dir()


def all_sides_page(css: str, sides: list[tuple[str, str]], night: bool) -> str:
    boxes = "".join(f'<div class="side" data-name="{html.escape(n)}">{body}</div>' for n, body in sides)
    return card_page(css + "\n.side { border-bottom: 1px solid gray; padding-bottom: 8px; }", boxes, night)


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_card_typesets_fits_and_loads_its_images(imported_cards, page, width, night):
    css, sides, media = imported_cards
    started = time.perf_counter()
    page.set_viewport_size({"width": width, "height": 900})
    serve_offline(page, all_sides_page(css, sides, night), media)
    page.goto(ORIGIN + "/", wait_until="load")
    report = page.evaluate(MEASURE_EVERY_SIDE)
    print(f"{len(sides)} card sides at {width}px {'night' if night else 'day'}: {time.perf_counter() - started:.1f} s")

    assert len(report["sides"]) == len(sides) > 700
    assert report["formulas"] > 1000
    assert report["images"] >= 8  # the figures, one variant shown per mode
    problems = {
        side["name"]: {k: v for k, v in side.items() if k != "name" and v}
        for side in report["sides"]
        if side["merrors"] or side["raw_math"] or side["overflow"] or side["broken_images"] or side["undefined_macros"]
    }
    assert not problems, problems
    assert not report["page_overflow"]


@pytest.mark.parametrize(
    ("card", "width", "night"),
    [("p1-forward-kl-mean-seeking#0:back", 375, False), ("p1-forward-kl-mean-seeking#0:back", 375, True),
     ("p2-snippet-softmax#0:back", 375, True), ("q30-conditional-gaussian#0:back", 375, False),
     ("p1-central-limit-theorem#0:back", 1280, False)],
)
def test_screenshots_of_typical_cards(imported_cards, page, card, width, night):
    css, sides, media = imported_cards
    bodies = dict(sides)
    if card not in bodies:
        pytest.fail(f"{card} is not in the deck; sides look like {next(iter(bodies))}")
    report = render_card_html(page, css, bodies[card], width=width, night=night, media_dir=media)
    path = save_screenshot(page, f"{card.replace('#', '-').replace(':', '-')}-{width}-{'night' if night else 'day'}")
    assert path.stat().st_size > 5000
    assert report["merrors"] == 0 and not report["page_overflow"] and not report["broken_images"] and not report["js_errors"]


def test_the_measure_catches_each_kind_of_broken_side(imported_cards, page):
    """Negative control: the checks above can fail."""
    css, _, media = imported_cards
    broken = [
        ("wide", '<div style="width: 2000px">too wide</div>'),
        ("raw", r"<p>\(\frac{a}{b\)</p>"),
        ("error", r"<p>\(\frac{a}{b}}\)</p>"),
        ("undefined", r"<p>\(\foo{x}\)</p>"),
        ("image", '<img src="missing.png">'),
        ("fine", r'<div class="arithmatex">\[x^2\]</div>'),
    ]
    page.set_viewport_size({"width": 375, "height": 900})
    serve_offline(page, all_sides_page(css, broken, False), media)
    page.goto(ORIGIN + "/", wait_until="load")
    sides = {side["name"]: side for side in page.evaluate(MEASURE_EVERY_SIDE)["sides"]}
    assert sides["wide"]["overflow"] and sides["raw"]["raw_math"] and sides["error"]["merrors"] == 1
    assert sides["undefined"]["undefined_macros"] == ["\\foo"] and sides["image"]["broken_images"] == ["missing.png"]
    assert not any(v for k, v in sides["fine"].items() if k != "name")
