"""Every card side of the flagship as a learner's phone shows it (issue 12): the `anki` library's
own card HTML, typeset by the MathJax build and configuration Anki ships (from the aqt wheel), in
AnkiDroid's card page at 360 and 390 px and in a desktop-wide window, day and night, with
scrollbars visible (tests/browser_harness.py, tests/phone_report.py)."""

from __future__ import annotations

import re
import time

import pytest

from browser_harness import ARTIFACTS, render_card_html, save_screenshot
from builder.phone_budget import PHONE_CARD_MARGIN_PX
from phone_report import card_sides, measure_sides, problems_of, screenshot_sides

pytestmark = pytest.mark.browser

PHONES = (360, 390)
DESKTOP = 1280


@pytest.fixture(scope="module")
def imported_cards(imported_flagship):
    """(css, [(name, html)], media dir) for every card side of the flagship after a real import."""
    _, col, _ = imported_flagship
    css, sides = card_sides(col)
    return css, sides, col.media.dir()


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"])
@pytest.mark.parametrize("width", [*PHONES, DESKTOP])
def test_every_card_side_fits_typesets_and_loads_its_images(imported_cards, page, width, night):
    """0 formulas wider than the card, 0 boxes that scroll sideways (nothing in the flagship is over
    the budget, so no box may scroll), 0 pages that scroll sideways, 0 MathJax errors, raw TeX,
    undefined macros or broken images, on every side."""
    css, sides, media = imported_cards
    started = time.perf_counter()
    report = measure_sides(page, css, sides, media, width, night)
    seconds = time.perf_counter() - started
    print(f"{len(sides)} card sides at {width}px {'night' if night else 'day'}: {seconds:.1f} s")

    assert len(report["sides"]) == len(sides) > 700
    assert report["formulas"] > 2000
    assert report["images"] >= 8  # the figures, one variant shown per mode
    if (
        width in PHONES
    ):  # the card is as wide as phone_budget.py assumes: the budget and the page agree
        assert report["card_width"] == width - PHONE_CARD_MARGIN_PX
    assert problems_of(report) == {}
    assert not report["page_overflow"]


def test_the_ten_widest_formulas_at_360_px_day_and_night(imported_cards, page):
    """Screenshots of the sides with the widest formulas (tests/artifacts/widest/), to look at; each
    fits its card."""
    css, sides, media = imported_cards
    report = measure_sides(page, css, sides, media, 360, False)
    formulas = sorted(
        (
            (f["width"], side["name"])
            for side in report["sides"]
            for f in side.get("all_formulas", [])
        ),
        reverse=True,
    )
    by_card = {}  # the side showing each card's widest formula, widest cards first
    for _, name in formulas:
        by_card.setdefault(name.split("#")[0], name)
    names = list(by_card.values())[:10]
    assert len(names) == 10
    shots = screenshot_sides(page, css, dict(sides), names, media, 360, ARTIFACTS / "widest")
    assert len(shots) == 20 and all(path.stat().st_size > 5000 for path in shots)
    assert formulas[0][0] <= 360 - PHONE_CARD_MARGIN_PX


@pytest.mark.parametrize(
    ("card", "width", "night"),
    [
        ("p1-forward-kl-mean-seeking#0:back", 360, False),
        ("p1-forward-kl-mean-seeking#0:back", 360, True),
        ("p2-snippet-softmax#0:back", 360, True),
        ("q30-conditional-gaussian#0:back", 390, False),
        ("p1-central-limit-theorem#0:back", DESKTOP, False),
    ],
)
def test_screenshots_of_typical_cards(imported_cards, page, card, width, night):
    css, sides, media = imported_cards
    bodies = dict(sides)
    if card not in bodies:
        pytest.fail(f"{card} is not in the deck; sides look like {next(iter(bodies))}")
    report = render_card_html(page, css, bodies[card], width=width, night=night, media_dir=media)
    path = save_screenshot(
        page, f"{card.replace('#', '-').replace(':', '-')}-{width}-{'night' if night else 'day'}"
    )
    assert path.stat().st_size > 5000
    assert (
        report["merrors"] == 0
        and not report["page_overflow"]
        and not report["broken_images"]
        and not report["js_errors"]
    )
    assert report["scrollbars"] == [] and report["wide_formulas"] == []


def test_the_measure_catches_each_kind_of_broken_side(imported_cards, page):
    """Negative control: each check above can fail, scrollbars included (they are drawn here)."""
    css, _, media = imported_cards
    too_wide = r"\[" + " + ".join(f"a_{{{i}}} x_{{{i}}}^2" for i in range(1, 16)) + r"\]"
    broken = [
        ("wide", '<div style="width: 2000px">too wide</div>'),
        ("wide-formula", f'<div class="formula"><div class="arithmatex">{too_wide}</div></div>'),
        ("raw", r"<p>\(\frac{a}{b\)</p>"),
        ("error", r"<p>\(\frac{a}{b}}\)</p>"),
        ("undefined", r"<p>\(\foo{x}\)</p>"),
        ("image", '<img src="missing.png">'),
        (
            "fine",
            r'<div class="arithmatex">\[x^2\]</div>'
            r"<p>Inline \(x_1 + \mathcal{N}(\mu, \sigma^2)\) text.</p>",
        ),
    ]
    report = measure_sides(page, css, broken, media, 360, False)
    sides = {side["name"]: side for side in report["sides"]}
    assert (
        sides["wide"]["past_edge"] and sides["raw"]["raw_math"] and sides["error"]["merrors"] == 1
    )
    assert len(sides["wide-formula"]["wide_formulas"]) == 1 and sides["wide-formula"]["scrollbars"]
    assert sides["undefined"]["undefined_macros"] == ["\\foo"] and sides["image"][
        "broken_images"
    ] == ["missing.png"]
    assert not any(v for k, v in sides["fine"].items() if k not in ("name", "all_formulas"))


def test_a_formula_too_wide_for_a_phone_is_caught_by_check_and_by_the_phone(
    project, page, tmp_path
):
    """Negative control across both measures: the build-time budget (MathJax's own layout, in node)
    and the phone (Anki's MathJax in AnkiDroid's page) agree on one formula that does not fit."""
    from anki_collection import fresh_collection, import_package
    from builder.problems import SourceError, errors_in
    from builds import build_in

    too_wide = " + ".join(f"a_{{{i}}} x_{{{i}}}^2" for i in range(1, 16))
    cards = project / "cards" / "cards.yaml"
    cards.write_text(
        cards.read_text()
        + f"""
  - id: too-wide
    kind: formula
    concept: A sum too long for a phone
    formula: |
      $${too_wide}$$
"""
    )
    with pytest.raises(SourceError) as caught:
        build_in(project)
    messages = [str(problem) for problem in errors_in(caught.value.problems)]
    assert len(messages) == 1 and "card 'too-wide', field 'formula': display formula" in messages[0]
    assert re.search(
        r"cards\.yaml:\d+: .* (\d+) px wide, a 360 px phone shows 340 px: break it", messages[0]
    )
    estimated = int(re.search(r"(\d+) px wide", messages[0]).group(1))

    result = build_in(project, force=True, check_math=False)
    col = fresh_collection(tmp_path / "anki")
    import_package(col, result.path)
    css, sides = card_sides(col)
    report = measure_sides(
        page,
        css,
        [side for side in sides if side[0].startswith("too-wide")],
        col.media.dir(),
        360,
        False,
    )
    col.close()
    measured = [formula["width"] for side in report["sides"] for formula in side["wide_formulas"]]
    assert measured and all(abs(width - estimated) <= 0.03 * estimated for width in measured), (
        estimated,
        measured,
    )
    # it scrolls in its own box, with a track, on every side that shows it
    assert all(side["scrollbars"] for side in report["sides"] if side["wide_formulas"])
