"""`mathdeck export markdown|html|csv` on the flagship deck, each output read by a real parser:
markdown-it-py (with the dollarmath plugin, as CommonMark blog engines read math), headless
Chromium, and the official `anki` library's CSV importer."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anki_collection import fresh_collection, import_package
from browser_harness import ARTIFACTS
from builds import build_in, copy_flagship

RUNNER = CliRunner()


def export(project: Path, fmt: str, *args: str):
    from builder.cli import app

    result = RUNNER.invoke(
        app,
        ["export", fmt, "--cards", str(project / "cards"), "--out", str(project / "out"), *args],
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def flagship(tmp_path_factory):
    """The sources, prepared once as every export prepares them (for the expected values)."""
    from builder.build import BuildOptions
    from builder.prepare import prepare

    project = copy_flagship(tmp_path_factory.mktemp("export"))
    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
    )
    return project, prepare(options)


def live_cards(prepared):
    return [card for card in prepared.deck.cards if not card.retired]


def source_formulas(prepared) -> set[str]:
    """Every formula of every live card, as the notes carry it (deck macros expanded)."""
    from builder.markdown_math import formulas_in
    from builder.model import KINDS

    formulas = set()
    for card in live_cards(prepared):
        for key in KINDS[card.kind].markdown:
            if card.text.get(key):
                formulas |= {
                    _flat(tex)
                    for tex, _ in formulas_in(card.text[key], prepared.deck.config.macros)
                }
    return formulas


def _flat(tex: str) -> str:
    return " ".join(tex.split())


# ---------------------------------------------------------------- Markdown


@pytest.fixture(scope="module")
def markdown_export(flagship):
    project, prepared = flagship
    export(project, "markdown")
    return project / "out" / f"{prepared.deck.file_stem}.md"  # slug and current version


def parse_markdown(text: str):
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    parser = MarkdownIt("commonmark").enable("table").use(dollarmath_plugin, double_inline=True)
    tokens = parser.parse(text)
    return [token for block in tokens for token in [block, *(block.children or [])]]


def test_markdown_keeps_every_formula_intact(flagship, markdown_export):
    _, prepared = flagship
    tokens = parse_markdown(markdown_export.read_text(encoding="utf-8"))
    exported = {_flat(token.content) for token in tokens if token.type.startswith("math_")}
    assert exported == source_formulas(prepared)
    assert len(exported) > 1000


def test_markdown_follows_the_seed_order_with_parts_sections_snippets_and_followups(
    flagship, markdown_export
):
    _, prepared = flagship
    text = markdown_export.read_text(encoding="utf-8")
    tokens = parse_markdown(text)
    headings = [
        tokens[i + 1].content
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag == "h2"
    ]
    assert headings == [
        "Part 1: Concepts & Formula Derivations",
        "Part 2: PyTorch Snippets",
        "Part 3: Interview Questions",
    ]
    h3 = [
        tokens[i + 1].content
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag == "h3"
    ]
    numbered = [title.split()[0] for title in h3 if re.match(r"\d+\.\d+ ", title)]
    assert numbered == sorted(numbered, key=lambda n: tuple(int(x) for x in n.split(".")))
    assert h3.index("L1 — Basic") < h3.index("L2 — Intermediate") < h3.index("L3 — Deep")
    fences = {token.content.rstrip() for token in tokens if token.type == "fence"}
    for card in live_cards(prepared):
        if card.kind == "code":
            assert card.text["code"].rstrip() in fences, card.id
        if card.kind == "qa" and "followup_question" in card.text:
            assert f"**Follow-up: {' '.join(card.text['followup_question'].split())}**" in text, (
                card.id
            )
    # the cards' own tables stay tables (the flagship turned its wide ones into lists for phones)
    tables = sum(
        len(re.findall(r"^\s*\|?\s*:?-{3,}:?\s*\|", text, re.M))
        for card in live_cards(prepared)
        for text in card.text.values()
    )
    assert sum(token.type == "table_open" for token in tokens) == tables


def test_markdown_links_figures_copied_beside_it(flagship, markdown_export):
    _, prepared = flagship
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown_export.read_text(encoding="utf-8"))
    assert len(links) == sum(1 for card in live_cards(prepared) if card.figure)
    for link in links:
        assert (markdown_export.parent / link).is_file() and link.startswith("figures/")


def test_lang_en_leaves_out_the_chinese_terms(flagship, markdown_export):
    project, prepared = flagship
    with_zh = markdown_export.read_text(encoding="utf-8")
    terms = {card.zh for card in live_cards(prepared) if card.zh}
    assert terms and all(f"({term})" in with_zh for term in terms)
    english = project / "english"
    export(project, "markdown", "--lang", "en", "--out", str(english))
    text = (english / markdown_export.name).read_text(encoding="utf-8")
    assert not [term for term in terms if f"({term})" in text]
    assert not any(
        unicodedata.east_asian_width(char) == "W" and "CJK" in unicodedata.name(char, "")
        for char in text
    )


# ---------------------------------------------------------------- HTML


@pytest.fixture(scope="module")
def html_export(flagship):
    project, prepared = flagship
    result = export(project, "html")
    assert "no external files" in result.output
    return project / "out" / f"{prepared.deck.file_stem}.html"  # slug and current version


# Adjacent literals keep the lines under 100 characters: the script is one string.
MEASURE = (
    r"""() => {
  const text = document.body.innerText;
  return {
    formulas: document.querySelectorAll('mjx-container').length,
    merrors: document.querySelectorAll('mjx-merror, [data-mml-node="merror"]').length,
    raw_math: /\\[(\[]|\$\$/.test(text),
    images: document.images.length,
    broken: [...document.images].filter((img) => !(img.complete && img.naturalWidth > 0))"""
    r""".map((img) => img.alt),
    entries: document.querySelectorAll('article.entry').length,
    dead_links: [...document.querySelectorAll('a[href^="#"]')]"""
    r""".map((a) => a.getAttribute('href').slice(1))
      .filter((id) => !document.getElementById(id)),
    scripts: document.scripts.length,
    background: getComputedStyle(document.body).backgroundColor,
    dark_figures_shown: [...document.querySelectorAll('img.fig-dark')]"""
    r""".filter((img) => img.offsetWidth > 0).length,
  };
}"""
)


@pytest.mark.browser
def test_html_page_is_typeset_offline_with_figures_and_contents(flagship, html_export, page):
    _, prepared = flagship
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(html_export.as_uri(), wait_until="load")
    report = page.evaluate(MEASURE)
    figures = sum(1 for card in live_cards(prepared) if card.figure)
    assert report["merrors"] == 0 and not report["raw_math"]
    assert report["formulas"] >= len(source_formulas(prepared)) > 1000
    assert report["images"] == 2 * figures and not report["broken"]  # day and night variants
    assert report["entries"] == len(live_cards(prepared)) and not report["dead_links"]
    assert report["scripts"] == 0 and report["background"] == "rgb(255, 255, 255)"
    assert all(url.startswith(("file:", "data:")) for url in requests)  # nothing from the network
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export-html-1280.png"))  # the first screen, for people


@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 390])
def test_html_page_fits_a_phone(flagship, html_export, page, width):
    """No sideways page scroll on a phone, and nothing in it scrolls sideways either (the flagship's
    formulas fit a phone; scrollbars are drawn in this browser, see browser_harness)."""
    from browser_harness import MEASURE_HELPERS

    page.set_viewport_size({"width": width, "height": 900})
    page.goto(html_export.as_uri(), wait_until="load")
    report = page.evaluate(
        "() => {" + MEASURE_HELPERS + """
      // the page's own vertical scrollbar is an overlay on phones: measure against the page's """
        """width without it
      const width = document.documentElement.clientWidth;
      return { page_scrolls: document.documentElement.scrollWidth > width,
               past_edge: [...document.querySelectorAll('main *')]"""
        """.filter((el) => el.getBoundingClientRect().right > width + 0.5)
                 .slice(0, 5).map((el) => el.tagName + ' ' + el.textContent.slice(0, 50)),
               scrollbars: scrollbars(document.querySelector('main')).slice(0, 5) };
    }"""
    )
    assert report == {"page_scrolls": False, "past_edge": [], "scrollbars": []}
    page.screenshot(path=str(ARTIFACTS / f"export-html-{width}.png"))


@pytest.mark.browser
def test_html_page_follows_night_mode_and_prints_as_day(flagship, html_export, page):
    _, prepared = flagship
    page.emulate_media(color_scheme="dark")
    page.goto(html_export.as_uri(), wait_until="load")
    night = page.evaluate(MEASURE)
    assert night["background"] == "rgb(13, 17, 23)"
    assert night["dark_figures_shown"] == sum(1 for card in live_cards(prepared) if card.figure)
    page.emulate_media(media="print", color_scheme="dark")
    printed = page.evaluate(MEASURE)
    assert printed["background"] == "rgb(255, 255, 255)" and printed["dark_figures_shown"] == 0
    pdf = page.pdf(format="A4")  # what "Save as PDF" makes
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) > 20


# ---------------------------------------------------------------- CSV


@pytest.fixture(scope="module")
def csv_export(flagship):
    project, prepared = flagship
    export(project, "csv")
    return project / "out" / f"{prepared.deck.file_stem}.csv"  # slug and current version


@pytest.fixture(scope="module")
def apkg(flagship):
    project, _ = flagship
    return build_in(project).path


def import_csv(col, path: Path):
    from anki.import_export_pb2 import ImportCsvRequest

    metadata = col.get_csv_metadata(path=str(path), delimiter=None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


def test_csv_imports_into_anki_with_fields_decks_tags_and_guids(
    flagship, csv_export, apkg, tmp_path
):
    from builder.identity import guid_for_card
    from builder.model import KINDS
    from builder.package import subdeck_name

    _, prepared = flagship
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, apkg)  # brings the note types (a CSV file cannot create them)
        col.remove_notes(list(col.find_notes("")))
        log = import_csv(col, csv_export)
        assert len(log.new) == len(prepared.notes) == col.note_count()
        assert not log.conflicting and not log.missing_notetype and not log.missing_deck
        for note in prepared.notes:
            (note_id,) = col.find_notes(f'"CardId:{note.card.id}"')
            anki_note = col.get_note(note_id)
            assert anki_note.guid == guid_for_card(note.card)
            assert dict(anki_note.items()) == dict(
                zip(KINDS[note.card.kind].note_fields, note.fields, strict=True)
            )
            assert sorted(anki_note.tags) == sorted(note.tags)
            assert col.decks.name(anki_note.cards()[0].did) == subdeck_name(
                prepared.deck, note.subdeck
            )
        again = import_csv(col, csv_export)
        assert not again.new and col.note_count() == len(prepared.notes)
    finally:
        col.close()


def test_csv_updates_the_notes_of_the_apkg_by_guid(flagship, csv_export, apkg, tmp_path):
    _, prepared = flagship
    col = fresh_collection(tmp_path / "anki")
    try:
        import_package(col, apkg)
        ids_before = set(col.find_notes(""))
        log = import_csv(col, csv_export)
        assert not log.new and len(log.updated) + len(log.duplicate) == len(prepared.notes)
        assert set(col.find_notes("")) == ids_before
    finally:
        col.close()
