"""Render card HTML as a learner's phone shows it: Anki's own MathJax in AnkiDroid's card page,
in Debian's Chromium with scrollbars visible, fully offline.

Use from a test module::

    # the fixtures `browser` and `page` come from conftest
    from browser_harness import render_card_html, save_screenshot

    @pytest.mark.browser
    def test_card(page):
        report = render_card_html(page, css, html, width=360, night=False)
        assert report["merrors"] == 0

What is real here, and where it comes from (../shared/anki-facts.md):

- **MathJax**: the very build and configuration Anki desktop runs and AnkiDroid bundles, from the
  `aqt` wheel pinned beside `anki` (`_aqt/data/web/js/mathjax.js`, the configuration, and
  `_aqt/data/web/js/vendor/mathjax/tex-chtml-full.js` with its fonts), served at the paths Anki
  serves them from. Nothing of ours stands in for it.
- **The page**: AnkiDroid's card page: `<body class="card card1">` (+ `night_mode nightMode`),
  `body { margin: 0 }`, `#content { margin: 0.5em }`, `overflow-wrap: break-word`, the note type's
  CSS, and the card inside `<div id="content">`.
- **Scrollbars**: Chromium is launched without Playwright's default `--hide-scrollbars`, so an
  element that scrolls sideways draws its track, as Android WebViews and Qt WebEngine do, and the
  track takes height (`offsetHeight > clientHeight`): that is how `scrollbars()` below finds them.

Every request goes to a made-up origin that the page's route answers from disk: Anki's MathJax
from the aqt package, anything else from `media_dir` (a card's images come from the collection's
media folder, relative to the card); nothing reaches the network.
"""

from __future__ import annotations

import importlib.util
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parent.parent
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
# Playwright hides scrollbars by default; a learner's WebView draws them.
HIDDEN_BY_DEFAULT = ["--hide-scrollbars"]
ORIGIN = "http://anki.invalid"  # .invalid never resolves: only the route below answers it
ANKI_JS_PATH = "/_anki/js"  # where Anki serves its web assets from (mathjax.js, vendor/mathjax/)
VIEWPORT_HEIGHT = 800


def anki_web_js() -> Path:
    """_aqt/data/web/js from the installed aqt wheel: Anki's MathJax config and its MathJax
    build."""
    spec = importlib.util.find_spec("_aqt")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        js = Path(folder) / "data" / "web" / "js"
        if (js / "mathjax.js").is_file() and (
            js / "vendor" / "mathjax" / "tex-chtml-full.js"
        ).is_file():
            return js
    raise RuntimeError(
        "Anki's MathJax is missing: install the test extra (aqt[qt]==26.9.3) with `make setup`"
    )


# AnkiDroid's card page (CardAppearance.kt, flashcard.css): the rules that change layout. The
# page's own vertical scrollbar is an overlay on Android and takes no width: hidden here.
ANKIDROID_PAGE_CSS = """
html { scrollbar-width: none; }
body { margin: 0; overflow-wrap: break-word; }
#content { margin: 0.5em; }
body.night_mode { background-color: #2c2c2c; color: #fcfcfc; }
"""

PAGE_TEMPLATE = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{page_css}</style>
<style>{card_css}</style>
<script src="{js}/mathjax.js"></script>
<script src="{js}/vendor/mathjax/tex-chtml-full.js"></script>
</head>
<body class="{body_class}"><div id="content">{card_html}</div></body>
</html>
"""

# Anki and AnkiDroid typeset the card with MathJax.typesetPromise after inserting it; then wait
# for fonts and images so that widths and image sizes are final before measuring.
TYPESET_AND_WAIT = r"""
  await MathJax.startup.promise;
  await MathJax.typesetPromise([document.getElementById('content')]);
  await document.fonts.ready;
  await Promise.all([...document.images].map((img) => img.complete ? null :
    new Promise((done) => { img.onload = img.onerror = done; })));
"""

# Defined in the page before measuring:
# - scrollbars(root): elements under root that draw a horizontal scrollbar track (they scroll
#   sideways and the track takes height), with what they hold;
# - wideFormulas(root, width): formulas whose visible box (mjx-math, not MathJax's hidden
#   accessibility copy) is wider than `width` px.
MEASURE_HELPERS = r"""
  const describe = (el) => (typeof el.className === 'string' && el.className
    ? '.' + el.className.split(' ')[0] : el.tagName.toLowerCase());
  window.scrollbars = (root) => [...root.querySelectorAll('*')].filter((el) => {
    const overflow = getComputedStyle(el).overflowX;
    return (overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth
      && el.offsetHeight - el.clientHeight - el.clientTop * 2 > 0;
  }).map((el) => ({
    box: describe(el), scroll: el.scrollWidth - el.clientWidth, text: el.textContent.slice(0, 60),
  }));
  window.wideFormulas = (root, width) => [...root.querySelectorAll('mjx-container')].map((box) => {
    const math = box.querySelector(':scope > mjx-math');
    const annotation = box.querySelector('mjx-assistive-mml annotation');
    return { width: Math.round(math ? math.getBoundingClientRect().width : 0),
             display: box.getAttribute('display') === 'true',
             text: (annotation ? annotation.textContent : box.textContent).slice(0, 80) };
  }).filter((formula) => formula.width > width);
"""
TYPESET_AND_MEASURE = (
    "async () => {"
    + TYPESET_AND_WAIT
    + MEASURE_HELPERS
    + r"""
  const content = document.getElementById('content');
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
    scrollbars: scrollbars(content),
    wide_formulas: wideFormulas(content, content.clientWidth),
  };
}"""
)


def card_page(css: str, html: str, night: bool) -> str:
    body_class = "card card1 night_mode nightMode" if night else "card card1"
    return PAGE_TEMPLATE.format(
        page_css=ANKIDROID_PAGE_CSS,
        card_css=css,
        js=ANKI_JS_PATH,
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
    if path.startswith(ANKI_JS_PATH + "/"):
        base, relative = anki_web_js(), path[len(ANKI_JS_PATH) + 1 :]
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
    ``formulas`` (count of typeset formulas), ``undefined_macros`` (names MathJax showed in red),
    ``scrollbars`` (elements drawing a horizontal scrollbar), ``wide_formulas`` (formulas wider than
    the card) and ``js_errors`` (uncaught errors on the page).
    """
    anki_web_js()  # says what to install when Anki's MathJax is missing
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
    """One headless Debian Chromium for the whole session (launching takes most of a second),
    drawing scrollbars as a learner's WebView does."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            ignore_default_args=HIDDEN_BY_DEFAULT,
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
