"""Render card HTML the way Anki's reviewer does, in Debian's headless Chromium, fully offline.

Use from a test module::

    from browser_harness import render_card_html, save_screenshot  # fixtures `browser`, `page` come from conftest

    @pytest.mark.browser
    def test_card(page):
        report = render_card_html(page, css, html, width=375, night=False)
        assert report["merrors"] == 0

The page imitates Anki's reviewer: ``<body class="card">`` (plus ``nightMode night_mode`` at
night, as Anki and AnkiDroid do), Anki's own reviewer rules, the note type's CSS, and
MathJax 3.2.2's ``tex-chtml-full.js`` configured as in Anki's ``ts/mathjax/index.ts``. Every
request goes to a made-up origin that the page's route answers from disk: MathJax and its fonts
from ``node_modules``, anything else from ``media_dir`` (Anki serves a card's images from the
collection's media folder, relative to the card); nothing reaches the network.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from builder.preview import ANKI_TEX_CONFIG

REPO = Path(__file__).resolve().parent.parent
MATHJAX_ES5 = REPO / "node_modules" / "mathjax-full" / "es5"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ORIGIN = "http://anki.invalid"  # .invalid never resolves: only the route below answers it
MATHJAX_PATH = "/_anki/js/vendor/mathjax"  # where Anki serves MathJax from
VIEWPORT_HEIGHT = 800

MATHJAX_CONFIG = {
    "tex": ANKI_TEX_CONFIG,
    "loader": {
        "load": ["[tex]/noerrors", "[tex]/mathtools"],
        "paths": {"mathjax": MATHJAX_PATH},
    },
    "startup": {"typeset": False},
}

# The rules of Anki's reviewer.scss that change layout; Anki's --canvas / --fg at night.
ANKI_REVIEWER_CSS = """
body { margin: 20px; overflow-wrap: break-word; }
body.nightMode { background-color: #2c2c2c; color: #fcfcfc; }
img { max-width: 100%; max-height: 95vh; }
li { text-align: start; }
pre { text-align: left; }
"""

PAGE_TEMPLATE = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{reviewer_css}</style>
<style>{card_css}</style>
<script>window.MathJax = {mathjax_config};</script>
<script src="{mathjax_path}/tex-chtml-full.js"></script>
</head>
<body class="{body_class}"><div id="qa">{card_html}</div></body>
</html>
"""

# Anki typesets the card with MathJax.typesetPromise after inserting it; then wait for fonts
# and images so that widths and image sizes are final before measuring.
TYPESET_AND_WAIT = r"""
  await MathJax.startup.promise;
  await MathJax.typesetPromise([document.getElementById('qa')]);
  await document.fonts.ready;
  await Promise.all([...document.images].map((img) => img.complete ? null :
    new Promise((done) => { img.onload = img.onerror = done; })));
"""
TYPESET_AND_MEASURE = "async () => {" + TYPESET_AND_WAIT + r"""
  const text = document.body.innerText;
  return {
    merrors: document.querySelectorAll('mjx-merror').length,
    raw_math: /\\[(\[]/.test(text),
    page_overflow: document.documentElement.scrollWidth > window.innerWidth,
    scroll_width: document.documentElement.scrollWidth,
    broken_images: [...document.images]
      .filter((img) => !(img.complete && img.naturalWidth > 0))
      .map((img) => img.getAttribute('src')),
    formulas: document.querySelectorAll('mjx-container').length,
    // Anki's bundle has noundefined: an unknown macro becomes its name in red, no error box.
    undefined_macros: [...document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
      .map((node) => node.textContent).filter((text) => text.startsWith('\\')),
  };
}"""


def card_page(css: str, html: str, night: bool) -> str:
    body_class = "card nightMode night_mode" if night else "card"
    return PAGE_TEMPLATE.format(
        reviewer_css=ANKI_REVIEWER_CSS,
        card_css=css,
        mathjax_config=json.dumps(MATHJAX_CONFIG),
        mathjax_path=MATHJAX_PATH,
        body_class=body_class,
        card_html=html,
    )


def serve_offline(page, document: str, media_dir: Path | None) -> None:
    """Answer every request of page from disk; anything not found is a 404, never the network."""

    def handle(route):
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            route.abort()
            return
        path = re.sub(r"[?#].*", "", url[len(ORIGIN) :])
        if path == "/":
            route.fulfill(body=document, content_type="text/html; charset=utf-8")
            return
        file = _file_for(path, media_dir)
        if file is None:
            route.fulfill(status=404, body="not found")
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(body=file.read_bytes(), content_type=content_type)

    page.unroute("**/*")
    page.route("**/*", handle)


def _file_for(path: str, media_dir: Path | None) -> Path | None:
    path = unquote(path)
    if path.startswith(MATHJAX_PATH + "/"):
        base, relative = MATHJAX_ES5, path[len(MATHJAX_PATH) + 1 :]
    elif media_dir is not None:
        base, relative = Path(media_dir), path.lstrip("/")
    else:
        return None
    file = (base / relative).resolve()
    if not file.is_relative_to(base.resolve()) or not file.is_file():
        return None
    return file


def render_card_html(
    page, css: str, html: str, width: int, night: bool, media_dir: Path | None = None
) -> dict:
    """Show one card side at width px and measure it once MathJax, fonts and images are done.

    Returns ``merrors`` (count of MathJax error boxes), ``raw_math`` (a literal ``\\(`` or ``\\[``
    is still in the text: MathJax did not find its closing delimiter), ``page_overflow`` (the page
    scrolls sideways), ``scroll_width``, ``broken_images`` (src of images that did not load),
    ``formulas`` (count of typeset formulas), ``undefined_macros`` (names MathJax showed in red)
    and ``js_errors`` (uncaught errors on the page).
    """
    if not (MATHJAX_ES5 / "tex-chtml-full.js").is_file():
        raise RuntimeError(f"{MATHJAX_ES5} is missing: run `npm ci` (or `make setup`)")
    js_errors: list[str] = []

    def remember(error) -> None:
        js_errors.append(str(error))

    page.on("pageerror", remember)
    try:
        page.set_viewport_size({"width": width, "height": VIEWPORT_HEIGHT})
        serve_offline(page, card_page(css, html, night), media_dir)
        page.goto(ORIGIN + "/", wait_until="load")
        report = page.evaluate(TYPESET_AND_MEASURE)
    finally:
        page.remove_listener("pageerror", remember)
    report["js_errors"] = js_errors
    return report


def save_screenshot(page, name: str) -> Path:
    """Save the whole page as tests/artifacts/<name>.png (git-ignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Debian Chromium for the whole session (launching takes most of a second)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh page (own context: no cache or state shared between tests)."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
