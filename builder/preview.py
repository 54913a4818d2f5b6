"""preview: one offline HTML page with every card's front and back as Anki renders them.

The notes are packaged exactly as `build` would, imported into a throwaway collection with the
official `anki` library, and each card's `question()` / `answer()` is laid out by day and by
night. MathJax 3 (SVG output, one self-contained script) is inlined with Anki's configuration,
and figures are embedded as data URIs, so the page works from a USB stick.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .commit import write_in_order
from .identity import build_time, read_lock, stamp_notes
from .mathjax_install import installed_node_root
from .package import package_bytes
from .prepare import PreparedDeck
from .render import note_type_templates, render_description, render_template

# The TeX input as Anki configures it (ts/mathjax/index.ts): only \(..\) (MathJax's default
# inline) and \[..\]; noerrors shows broken TeX as red-on-yellow source; no textmacros.
ANKI_TEX_CONFIG = {
    "displayMath": [["\\[", "\\]"]],
    "processEscapes": False,
    "processEnvironments": False,
    "processRefs": False,
    "packages": {"[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"]},
}
# The full SVG bundle is one self-contained script (no font files) and already holds noerrors and
# mathtools, so the page needs no loader.
ANKI_MATHJAX_CONFIG = {
    "tex": ANKI_TEX_CONFIG,
    "svg": {"fontCache": "global"},
    "startup": {"typeset": True},
}


@dataclass(frozen=True)
class PreviewCard:
    name: str  # "card-id · template"
    deck: str
    front: str
    back: str


@dataclass(frozen=True)
class PreviewPage:
    path: Path
    cards: int  # Anki cards shown, each front and back


def write_preview(prepared: PreparedDeck, out_path: Path) -> PreviewPage:
    """Write the preview page of what prepare.prepare() made (in the language it was asked for)."""
    _refuse_a_source(prepared, out_path)
    deck, notes, media = prepared.deck, prepared.notes, prepared.media
    lock = stamp_notes(notes, read_lock(prepared.cards_dir), build_time())
    cards, css = _cards_as_anki_renders_them(
        package_bytes(deck, notes, lock, media, render_description(deck), note_type_templates())
    )
    media_uris = {path.name: data_uri(path) for path in media}
    page = render_template(
        "preview/page.html",
        title=f"{deck.config.title} {deck.config.version}: preview",
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        css=css,
        decks=_grouped(cards, media_uris),
        card_count=len(cards),
        mathjax_config=json.dumps(ANKI_MATHJAX_CONFIG),
        mathjax_script=_mathjax_script(),
    )
    write_in_order([(out_path, page.encode("utf-8"))])
    return PreviewPage(out_path, len(cards))


def _refuse_a_source(prepared: PreparedDeck, out_path: Path) -> None:
    """`-o cards/cards.yaml` (a slip of the shell's completion) would put the page over a card
    file: every file the deck is read from is refused as the page's place."""
    import os

    from .identity import LOCK_FILE
    from .load import DECK_FILE, OUTLINE_FILE
    from .problems import Location, Problem, SourceError

    cards = prepared.cards_dir
    sources = {cards / DECK_FILE, cards / OUTLINE_FILE, cards / LOCK_FILE}
    for card in prepared.deck.cards:
        sources |= {card.location.file, *([cards / card.code_file] if card.code_file else [])}
    if out_path.exists() and any(s.exists() and os.path.samefile(out_path, s) for s in sources):
        raise SourceError(
            [Problem(Location(out_path), "is one of the deck's sources: give -o another file")]
        )


def _cards_as_anki_renders_them(apkg: bytes) -> tuple[list[PreviewCard], str]:
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    with tempfile.TemporaryDirectory() as scratch:
        package = Path(scratch) / "deck.apkg"
        package.write_bytes(apkg)
        col = Collection(str(Path(scratch) / "collection.anki2"))
        try:
            col.import_anki_package(
                ImportAnkiPackageRequest(
                    package_path=str(package), options=ImportAnkiPackageOptions()
                )
            )
            cards, css = [], ""
            for card_id in sorted(col.find_cards("")):
                card = col.get_card(card_id)
                css, front = split_style(card.question())
                _, back = split_style(card.answer())
                name = f"{card.note()['CardId']} · {card.template()['name']}"
                cards.append(PreviewCard(name, col.decks.name(card.did), front, back))
        finally:
            col.close()
    return cards, css


def split_style(rendered: str) -> tuple[str, str]:
    """(CSS, HTML) of a card side as the anki library renders it: `<style>CSS</style>` + HTML."""
    match = re.match(r"\s*<style>(.*?)</style>(.*)", rendered, flags=re.S)
    return (match.group(1), match.group(2)) if match else ("", rendered)


def _grouped(
    cards: list[PreviewCard], media_uris: dict[str, str]
) -> list[tuple[str, list[PreviewCard]]]:
    def embed(fragment: str) -> str:
        return re.sub(
            r'src="([^"]+)"',
            lambda m: f'src="{media_uris.get(html.unescape(m.group(1)), m.group(1))}"',
            fragment,
        )

    decks: dict[str, list[PreviewCard]] = defaultdict(list)
    for card in cards:
        decks[card.deck].append(
            PreviewCard(card.name, card.deck, embed(card.front), embed(card.back))
        )
    return sorted(decks.items())


def data_uri(path: Path) -> str:
    """The file as a `data:` URI: a page (preview, HTML cheat sheet) needs no file beside it."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _mathjax_script() -> str:
    script = installed_node_root() / "node_modules" / "mathjax-full" / "es5" / "tex-svg-full.js"
    # Inline <script> ends at the first "</script"; MathJax's bundle never contains it, but be safe.
    return script.read_text(encoding="utf-8").replace("</script", "<\\/script")
