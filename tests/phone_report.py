"""Every card side of a deck as AnkiDroid shows it on a phone: which formulas are wider than the
card and which boxes draw a scrollbar. The same measure as tests/test_browser_cards.py, for a
person.

    .venv/bin/python tests/phone_report.py [--cards cards] [--width 360] [--night]
                                           [--shots DIR [--top 10]]

Builds the deck from the given sources into a temporary folder, imports it with the official
`anki` library, renders every side with Anki's own MathJax in AnkiDroid's page (browser_harness)
and prints one line per problem: card side, formula width against the card's width, the TeX.
With --shots, it also saves a screenshot of each of the --top sides holding the widest formulas
(day and night) into DIR, to look at.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HIDDEN_BY_DEFAULT,
    MEASURE_HELPERS,
    ORIGIN,
    TYPESET_AND_WAIT,
    card_page,
    render_card_html,
    serve_offline,
)

# Each side sits in its own box inside AnkiDroid's #content, so it is laid out as if alone.
MEASURE_EVERY_SIDE = (
    "async () => {"
    + TYPESET_AND_WAIT
    + MEASURE_HELPERS
    + r"""
  const content = document.getElementById('content');
  const sides = [...document.querySelectorAll('.side')].map((side) => ({
    name: side.dataset.name,
    merrors: side.querySelectorAll('mjx-merror').length,
    raw_math: /\\[(\[]/.test(side.innerText),
    wide_formulas: wideFormulas(side, content.clientWidth),
    all_formulas: wideFormulas(side, 0).map((formula) => ({ width: formula.width })),
    scrollbars: scrollbars(side),
    past_edge: side.scrollWidth > side.clientWidth + 1,
    broken_images: [...side.querySelectorAll('img')]
      .filter((img) => img.getClientRects().length && !(img.complete && img.naturalWidth > 0))
      .map((img) => img.getAttribute('src')),
    undefined_macros: [...side.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
      .map((node) => node.textContent).filter((text) => text.startsWith('\\')),
  }));
  return {
    sides,
    card_width: content.clientWidth,
    page_overflow: document.documentElement.scrollWidth > window.innerWidth,
    formulas: document.querySelectorAll('mjx-container').length,
    images: [...document.images].filter((img) => img.getClientRects().length).length,
  };
}"""
)


def card_sides(col) -> tuple[str, list[tuple[str, str]]]:
    """(css, [(name, html)]) for every side of every card, as the `anki` library renders them."""
    from builder.preview import split_style

    css, sides = "", []
    for card_id in sorted(col.find_cards("")):
        card = col.get_card(card_id)
        name = f"{card.note()['CardId']}#{card.ord}"
        for side, rendered in (("front", card.question()), ("back", card.answer())):
            css, body = split_style(rendered)
            sides.append((f"{name}:{side}", body))
    return css, sides


def all_sides_page(css: str, sides: list[tuple[str, str]], night: bool) -> str:
    boxes = "".join(
        f'<div class="side" data-name="{html.escape(n)}">{body}</div>' for n, body in sides
    )
    return card_page(
        css + "\n.side { border-bottom: 1px solid gray; padding-bottom: 8px; }", boxes, night
    )


def measure_sides(
    page, css: str, sides: list[tuple[str, str]], media_dir, width: int, night: bool
) -> dict:
    page.set_viewport_size({"width": width, "height": 900})
    serve_offline(page, all_sides_page(css, sides, night), media_dir)
    page.goto(ORIGIN + "/", wait_until="load")
    return page.evaluate(MEASURE_EVERY_SIDE)


INFO = ("name", "all_formulas")  # what a side reports that is not a problem


def problems_of(report: dict) -> dict[str, dict]:
    return {
        side["name"]: {key: value for key, value in side.items() if key not in INFO and value}
        for side in report["sides"]
        if any(value for key, value in side.items() if key not in INFO)
    }


def widest_sides(report: dict, top: int) -> list[tuple[str, int]]:
    """The sides holding the `top` widest formulas (one entry per side), widest first."""
    widest: dict[str, int] = {}
    for side in report["sides"]:
        for formula in side["wide_formulas"]:
            widest[side["name"]] = max(widest.get(side["name"], 0), formula["width"])
    return sorted(widest.items(), key=lambda item: -item[1])[:top]


def screenshot_sides(
    page, css: str, sides: dict[str, str], names: list[str], media_dir, width: int, folder: Path
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    for name in names:
        for night in (False, True):
            render_card_html(page, css, sides[name], width=width, night=night, media_dir=media_dir)
            slug = re.sub(r"[^a-z0-9-]+", "-", name.lower())
            path = folder / f"{slug}-{width}-{'night' if night else 'day'}.png"
            page.screenshot(path=str(path), full_page=True)
            shots.append(path)
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cards", type=Path, default=Path("cards"))
    parser.add_argument("--width", type=int, default=360)
    parser.add_argument("--night", action="store_true")
    parser.add_argument(
        "--shots", type=Path, help="save screenshots of the sides with the widest formulas here"
    )
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from anki_collection import fresh_collection, import_package
    from builds import build_in, copy_sources

    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "project"
        copy_sources(args.cards.resolve().parent, project)
        result = build_in(
            project, force=True, check_math=False
        )  # measure even what check would refuse
        col = fresh_collection(project / "anki")
        import_package(col, result.path)
        css, sides = card_sides(col)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                ignore_default_args=HIDDEN_BY_DEFAULT,
            )
            page = browser.new_page()
            report = measure_sides(page, css, sides, col.media.dir(), args.width, args.night)
            if args.shots:
                names = [name for name, _ in widest_sides(report, args.top)]
                for path in screenshot_sides(
                    page, css, dict(sides), names, col.media.dir(), args.width, args.shots
                ):
                    print(f"screenshot: {path}")
            browser.close()
        col.close()
    problems = problems_of(report)
    for name, found in sorted(problems.items()):
        for formula in found.pop("wide_formulas", []):
            print(
                f"{name}: formula {formula['width']} px on a {report['card_width']} px card: "
                f"{formula['text']}"
            )
        for box in found.pop("scrollbars", []):
            print(f"{name}: scrollbar on {box['box']} ({box['scroll']} px more): {box['text']}")
        if found:
            print(f"{name}: {found}")
    wide = sum(len(side["wide_formulas"]) for side in report["sides"])
    bars = sum(1 for side in report["sides"] if side["scrollbars"])
    mode = "night" if args.night else "day"
    print(
        f"{len(sides)} sides, {report['formulas']} formulas at {args.width} px ({mode}), "
        f"card {report['card_width']} px: {wide} formulas wider than the card, "
        f"{bars} sides with a scrollbar, {len(problems)} sides with a problem; "
        f"page scrolls sideways: {report['page_overflow']}"
    )
    return 1 if problems or report["page_overflow"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
