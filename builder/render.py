"""render: Card → note fields as HTML, and the note types' templates and CSS. Pure functions.

Markdown with math is in markdown_math.py (check reads the same conversion), the sanitiser in
sanitize.py.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Final

# Jinja and Pygments are imported where they are used: a rebuild whose notes all come from the
# build's cache (builder/memo.py) never loads them.
from .highlight import highlight_code
from .macros import Macro
from .markdown_math import markdown_field, markdown_to_html
from .model import KINDS, RETIRED_SUBDECK, RETIRED_TAG, Card, Deck
from .records import Record
from .sanitize import sanitize_html

TEMPLATES_DIR = Path(__file__).parent / "templates"
LIGHT_CODE_STYLE = "friendly"
DARK_CODE_STYLE = "monokai"


class FigureFiles(Record):
    """Media file names of one figure's day and night variants, and its text alternative."""

    __slots__ = field_names = ("light", "dark", "alt")
    light: Final[str]
    dark: Final[str]
    alt: Final[str]  # plain text for screen readers: the figure script's own description

    def __init__(self, light: str, dark: str, alt: str = "") -> None:
        self.light = light
        self.dark = dark
        self.alt = alt


class RenderedNote(Record):
    field_names = ("card", "fields", "tags", "subdeck", "known_hash", "from_cache")
    __slots__ = (*field_names, "_content_hash")
    compared = ("card", "fields", "tags", "subdeck")
    card: Final[Card]
    fields: Final[tuple[str, ...]]  # in the order of the kind's note_fields
    tags: Final[tuple[str, ...]]
    subdeck: Final[str]
    # content_hash when already known (from the build's cache); computed from the fields otherwise
    known_hash: Final[str]
    # rendered by an earlier build (package checks only new HTML for genanki's warnings)
    from_cache: Final[bool]

    def __init__(
        self,
        card: Card,
        fields: tuple[str, ...],
        tags: tuple[str, ...],
        subdeck: str,
        known_hash: str = "",
        from_cache: bool = False,
    ) -> None:
        self.card = card
        self.fields = fields
        self.tags = tags
        self.subdeck = subdeck
        self.known_hash = known_hash
        self.from_cache = from_cache
        self._content_hash = known_hash

    @property  # read by the notes cache, the package's key and the lock: computed once
    def content_hash(self) -> str:
        """What Anki compares on import: fields, tags and note type; changes iff the note
        changes."""
        if not self._content_hash:
            payload = _NOTE_JSON.encode([self.card.kind, self.fields, self.tags, self.subdeck])
            self._content_hash = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        return self._content_hash

    def __repr__(self) -> str:  # as the dataclass's: the hash and the cache's mark left out
        return (
            f"RenderedNote(card={self.card!r}, fields={self.fields!r}, tags={self.tags!r}, "
            f"subdeck={self.subdeck!r})"
        )


# json.dumps(..., ensure_ascii=False) makes a new encoder at every call (20,000 at 20,000 cards):
# the same output from one.
_NOTE_JSON = json.JSONEncoder(ensure_ascii=False)


# What a note depends on besides its card: this code, the templates, the libraries (the
# fingerprint of the build's notes cache, builder/memo.py).
NOTES_CACHE_SOURCES = (
    "render.py",
    "highlight.py",
    "markdown_math.py",
    "cloze.py",
    "markdown_extensions.py",
    "markdown_paragraph.py",
    "markdown_arithmatex.py",
    "sanitize.py",
    "check.py",
    "html_audit.py",
    "check_math.py",
    "macros.py",
    "model.py",
    "kinds.py",
    "card_kind.py",
    "templates",
)
NOTES_CACHE_LIBRARIES = ("markdown", "pymdown-extensions", "pygments", "nh3", "jinja2")


@functools.cache
def _environment():
    import jinja2

    # Anki's own templates use {{Field}}; Jinja's delimiters are changed so both can live in one
    # file.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )


def render_template(name: str, **context) -> str:
    return _environment().get_template(name).render(**context)


def render_figure(figure: FigureFiles, alt: str) -> str:
    return render_template(
        "fields/figure.html", light=figure.light, dark=figure.dark, alt=figure.alt or alt
    )


def plain_title(card: Card) -> str:
    """The card's title without TeX delimiters or backslashes, for an alt text of last resort."""
    return " ".join(
        re.sub(r"\\([A-Za-z]+)|[$\\{}^_]", lambda m: m.group(1) or " ", card.title).split()
    )


def render_card(
    card: Card, figures: dict[str, FigureFiles], macros: tuple[Macro, ...] = ()
) -> RenderedNote:
    """The card's note. Every field, whatever made it (Markdown, Pygments, our templates), passes
    the sanitiser here and only here, so no field can reach a note without it."""
    kind = KINDS[card.kind]
    to = _FieldRenderer(macros, kind.is_cloze)
    values = kind.fields(card, to)
    values["Zh"] = inline_markdown_field(card.zh or "", to.markdown)
    values["Figure"] = (
        render_figure(figures[card.figure], alt=plain_title(card)) if card.figure else ""
    )
    values["CardId"] = card.id
    if card.retired:
        first = kind.note_fields[0]
        values[first] = render_template("fields/retired.html") + values[first]
    fields = tuple(
        sanitize_html(values[name]) if values.get(name) else "" for name in kind.note_fields
    )
    return RenderedNote(card, fields, *_placement(card))


def note_rendered_before(
    card: Card, fields: tuple[str, ...], content_hash: str, tags: tuple[str, ...], subdeck: str
) -> RenderedNote:
    """The note of `card` an earlier build rendered (the build's cache keeps what it made)."""
    return RenderedNote(card, fields, tags, subdeck, known_hash=content_hash, from_cache=True)


# Words and spaces, starting with a letter: Markdown gives such text back unchanged, and most
# zh terms are just that. Skipping Markdown for them saves a fifth of a millisecond a card.
_PLAIN_WORDS = re.compile(r"[^\W\d_](?:[^\W_]| )*(?<! )")


def inline_markdown_field(text: str, to_html) -> str:
    """`to_html(text, inline=True)`, without running Markdown on plain words."""
    return text if _PLAIN_WORDS.fullmatch(text) else to_html(text, inline=True)


def _placement(card: Card) -> tuple[tuple[str, ...], str]:
    """The note's tags and subdeck: a retired card is tagged and goes to the Retired subdeck."""
    if card.retired:
        return tuple(sorted({*card.all_tags, RETIRED_TAG})), RETIRED_SUBDECK
    return card.all_tags, card.subdeck


class _FieldRenderer(Record):
    """What a kind's `fields` (kinds.py) turns source text into note HTML with."""

    __slots__ = field_names = ("macros", "cloze")
    macros: Final[tuple[Macro, ...]]
    cloze: Final[bool]

    def __init__(self, macros: tuple[Macro, ...], cloze: bool) -> None:
        self.macros = macros
        self.cloze = cloze

    def markdown(self, text: str, inline: bool = False) -> str:
        return markdown_field(
            text, inline, self.macros, self.cloze
        )  # render_card sanitises every field

    def code(self, code: str, language: str) -> str:
        return render_template("fields/code.html", highlighted=highlight_code(code, language))


def render_deck(deck: Deck, figures: dict[str, FigureFiles]) -> list[RenderedNote]:
    """Every card's note."""
    return [render_card(card, figures, deck.config.macros) for card in deck.cards]


class NoteTypeTemplates(Record):
    __slots__ = field_names = ("css", "templates")
    css: Final[str]
    templates: Final[tuple[tuple[str, str, str], ...]]  # (name, front, back)

    def __init__(self, css: str, templates: tuple[tuple[str, str, str], ...]) -> None:
        self.css = css
        self.templates = templates


def note_type_templates() -> dict[str, NoteTypeTemplates]:
    """render_note_type for every kind."""
    return {kind: render_note_type(kind) for kind in KINDS}


def render_note_type(kind_name: str) -> NoteTypeTemplates:
    kind = KINDS[kind_name]
    templates = tuple(
        (
            name,
            render_block(kind.template_file, f"{stem}_front"),
            render_block(kind.template_file, f"{stem}_back"),
        )
        for name, stem in kind.templates
    )
    return NoteTypeTemplates(css=card_css(), templates=templates)


def render_block(name: str, block: str, **context) -> str:
    """One `[% block %]` of a template, as if it were a file of its own (no final newline)."""
    template = _environment().get_template(name)
    if block not in template.blocks:
        raise KeyError(
            f"{TEMPLATES_DIR / name} has no [% block {block} %] "
            f"(blocks: {', '.join(template.blocks)})"
        )
    return "".join(template.blocks[block](template.new_context(context))).removesuffix("\n")


@functools.cache
def card_css() -> str:
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style=LIGHT_CODE_STYLE).get_style_defs(".card .highlight")
    # Anki puts .nightMode on <body class="card">, AnkiDroid adds .night_mode: `.nightMode .card`
    # never matches.
    dark = "\n".join(
        HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(selector)
        for selector in (".card.nightMode .highlight", ".card.night_mode .highlight")
    )
    return render_template("card.css", light_code_css=light, dark_code_css=dark)


def render_description(deck: Deck, news: str = "") -> str:
    """The deck's overview text, with the latest changelog entry (Markdown) when there is one."""
    text = deck.config.description + ("\n\n" + news if news else "")
    return markdown_to_html(text, macros=deck.config.macros)
