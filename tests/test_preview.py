"""mathdeck preview: one offline page, every card day and night, typeset in a real browser."""

from __future__ import annotations

import pytest

from builds import REPO, copy_sources

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def preview_page(tmp_path_factory):
    from builder.build import BuildOptions
    from builder.prepare import prepare
    from builder.preview import write_preview

    project = tmp_path_factory.mktemp("preview")
    copy_sources(REPO, project)
    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )
    lock_before = (project / "cards" / "mathdeck.lock.json").read_bytes()
    page = write_preview(prepare(options), project / "preview.html")
    path, count = page.path, page.cards
    assert (
        project / "cards" / "mathdeck.lock.json"
    ).read_bytes() == lock_before  # preview writes no source
    assert not (project / "dist").exists()
    return path, count


def test_preview_shows_every_card_typeset_offline(preview_page, page):
    path, count = preview_page
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(
        path.as_uri(), wait_until="load", timeout=300_000
    )  # a page of 2,600 formulas: no speed test here
    report = page.evaluate("""async () => {
      await MathJax.startup.promise;
      await Promise.all([...document.images].map((img) => img.complete ? null :
        new Promise((done) => { img.onload = img.onerror = done; })));
      return {
        entries: document.querySelectorAll('section.entry').length,
        panes: document.querySelectorAll('.pane .card').length,
        phone_panes: [...document.querySelectorAll('.pane.phone .screen')]
          .filter((screen) => screen.clientWidth === 360).length,
        night: document.querySelectorAll('.pane .card.nightMode.night_mode').length,
        formulas: document.querySelectorAll('mjx-container').length,
        errors: document.querySelectorAll('mjx-merror').length,
        raw: /\\\\[(\\[]/.test(document.body.innerText),
        images: document.images.length,
        broken: [...document.images]
          .filter((img) => !(img.complete && img.naturalWidth > 0)).length,
      };
    }""")
    assert report["entries"] == count > 400
    # day: phone front, phone back, desktop back; night: phone back
    assert (
        report["panes"] == 4 * count
        and report["phone_panes"] == 3 * count
        and report["night"] == count
    )
    assert report["formulas"] > 2000 and report["errors"] == 0 and not report["raw"]
    assert report["images"] >= 16 and report["broken"] == 0
    assert all(url.startswith(("file:", "data:")) for url in requests)  # nothing from the network


def test_preview_fits_a_phone(preview_page, page):
    """On a 360 px screen the page never scrolls sideways (each phone pane is as wide as the
    screen)."""
    path, _ = preview_page
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(
        path.as_uri(), wait_until="load", timeout=300_000
    )  # a page of 2,600 formulas: no speed test here
    sideways = page.evaluate("""async () => {
      await MathJax.startup.promise;
      return document.documentElement.scrollWidth - document.documentElement.clientWidth;
    }""")
    assert sideways == 0
