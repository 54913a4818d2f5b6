"""render: Card → note fields as HTML, and the note types' templates and CSS. Pure functions.

Math is protected from Markdown by pymdown-extensions' arithmatex in generic mode, which turns
`$...$` / `$$...$$` into Anki's `\\(...\\)` / `\\[...\\]` and escapes `<`, `>` and `&` inside math as
entities, so the web view's HTML parser never reads them (anki-facts.md: "Escape <, > and & ...").
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import html as html_module

# Markdown, Jinja, Pygments and nh3 are imported where they are used: a rebuild whose notes all
# come from the cache (builder/cache.py) never loads them.
from .cache import BuildCache, content_key, fingerprint, subkey
from .macros import Macro, expand_macros
from .model import KINDS, RETIRED_SUBDECK, RETIRED_TAG, Card, Deck

TEMPLATES_DIR = Path(__file__).parent / "templates"
LIGHT_CODE_STYLE = "friendly"
DARK_CODE_STYLE = "monokai"

MARKDOWN_EXTENSIONS = ["pymdownx.arithmatex", "tables", "sane_lists", "pymdownx.superfences", "pymdownx.highlight"]
MARKDOWN_CONFIG = {
    "pymdownx.arithmatex": {"generic": True},
    "pymdownx.highlight": {"use_pygments": True, "guess_lang": False, "css_class": "highlight"},
}

# What may reach a note. Cards run inside a web view on desktop and phone: no scripts, no event
# handlers, no javascript: URLs, no styles beyond table alignment.
ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "div", "em", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "kbd", "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": set(),  # `class` is allowed per tag and per name: allowed_classes()
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"style"},
    "th": {"style"},
}
ALLOWED_URL_SCHEMES = {"http", "https"}  # for links; an image must be a media file (local_media_only)
ALLOWED_STYLE_PROPERTIES = {"text-align"}  # Markdown's table column alignment
# The classes our own HTML uses (arithmatex's math, Pygments' code, our field templates); any
# other could pose as Anki's own (`cloze`) or restyle the card with the note type's CSS.
OWN_CLASSES = {
    "span": {"arithmatex"},
    "div": {"arithmatex", "highlight", "code-block", "retired"},
    "img": {"fig", "fig-light", "fig-dark"},
}


def url_scheme(url: str) -> str:
    """A URL's scheme as a browser reads it: the URL parser drops tabs and newlines anywhere and
    C0 controls and spaces in front, so `java&#x09;script:` (an entity for a tab) is javascript:."""
    cleaned = _as_browser_reads(url)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else ""


def is_remote_url(url: str) -> bool:
    """Anything with a scheme or a host (`//host/x`, `\\\\host\\x`): not a file of the deck's media."""
    return bool(url_scheme(url)) or _as_browser_reads(url).replace("\\", "/").startswith("//")


def _as_browser_reads(url: str) -> str:
    return re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(0x21))))


def local_media_only(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an image is one of the deck's media files. A remote image would be
    fetched on every review, by every learner: a tracker."""
    if tag == "img" and attribute == "src" and is_remote_url(value):
        return None
    return value


@functools.cache
def allowed_classes() -> dict[str, frozenset[str]]:
    """Per tag, the class names that may reach a note: ours and Pygments' token classes."""
    from pygments.token import STANDARD_TYPES

    token_classes = {name for name in STANDARD_TYPES.values() if name}
    classes = {tag: set(names) for tag, names in OWN_CLASSES.items()}
    classes["span"] |= token_classes
    return {tag: frozenset(names) for tag, names in classes.items()}


@dataclass(frozen=True)
class FigureFiles:
    """Media file names of one figure's day and night variants, and its text alternative."""

    light: str
    dark: str
    alt: str = ""  # plain text for screen readers: the figure script's own description


@dataclass(frozen=True)
class RenderedNote:
    card: Card
    fields: tuple[str, ...]  # in the order of the kind's note_fields
    tags: tuple[str, ...]
    subdeck: str
    # content_hash when already known (from the cache); computed from the fields otherwise
    known_hash: str = field(default="", compare=False, repr=False)
    # rendered by an earlier build (package checks only new HTML for genanki's warnings)
    from_cache: bool = field(default=False, compare=False, repr=False)

    @property
    def content_hash(self) -> str:
        """What Anki compares on import: fields, tags and note type; changes iff the note changes."""
        if self.known_hash:
            return self.known_hash
        payload = json.dumps([self.card.kind, self.fields, self.tags, self.subdeck], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# What the cached notes depend on besides the cards: this code, the templates, the libraries.
NOTES_CACHE_SOURCES = ("render.py", "check.py", "check_math.py", "macros.py", "model.py", "kinds.py", "templates")
NOTES_CACHE_LIBRARIES = ("markdown", "pymdown-extensions", "pygments", "nh3", "jinja2")


def notes_fingerprint() -> str:
    return fingerprint(NOTES_CACHE_SOURCES, NOTES_CACHE_LIBRARIES)


@functools.cache
def _environment():
    import jinja2

    # Anki's own templates use {{Field}}; Jinja's delimiters are changed so both can live in one file.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        block_start_string="[%", block_end_string="%]",
        variable_start_string="[[", variable_end_string="]]",
        comment_start_string="[#", comment_end_string="#]",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )


def render_template(name: str, **context) -> str:
    return _environment().get_template(name).render(**context)


class MathRewriter:
    """A Markdown tree processor (Markdown only calls `run`) that rewrites the TeX of every formula arithmatex found, after Markdown parsed it:

    - deck macros are expanded into plain TeX (phone apps cannot load a MathJax config);
    - in cloze cards, `}}` is spaced to `} }`: Anki and AnkiDroid would read it as the end of the
      deletion (`{{c1::$\\frac{a}{b}}$}}`); for TeX the space changes nothing.
    """

    def __init__(self, md, macros: tuple[Macro, ...], cloze: bool):
        self.md = md
        self.macros = {macro.name: macro for macro in macros}
        self.cloze = cloze

    def run(self, root):
        from markdown.util import AtomicString

        for element in root.iter():
            if element.text and "arithmatex" in (element.get("class") or "").split():
                # arithmatex escapes display math itself (<div>) but leaves inline math raw.
                escaped = element.tag == "div"
                text = html_module.unescape(element.text) if escaped else element.text
                # Rewrite only the TeX between \( \) or \[ \]: a macro argument must never
                # swallow the closing delimiter.
                opening, tex, closing = text[:2], text[2:-2], text[-2:]
                tex = expand_macros(tex, self.macros)
                if self.cloze:
                    tex = cloze_safe(tex)
                text = opening + tex + closing
                element.text = AtomicString(_escape_math(text) if escaped else text)


class DisplayMathParagraphs:
    """A Markdown preprocessor (Markdown only calls `run`) that gives a `$$...$$` line (or multi-line `$$` block) the blank lines around it that arithmatex
    needs to see display math, so authors may write it straight after a sentence, as GitHub allows.
    Works on whole lines only; fenced code is left alone."""

    def __init__(self, md=None):
        self.md = md

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        fence: str | None = None
        in_math = False
        for line in lines:
            stripped = line.strip()
            if fence is None and not in_math and stripped[:3] in ("```", "~~~"):
                fence = stripped[:3]
            elif fence is not None:
                if stripped.startswith(fence):
                    fence = None
            elif not in_math and stripped.startswith("$$"):
                if result and result[-1].strip():
                    result.append("")
                single_line = len(stripped) >= 4 and stripped.endswith("$$")
                in_math = not single_line
                result.append(line)
                if single_line:
                    result.append("")
                continue
            elif in_math and stripped.endswith("$$"):
                in_math = False
                result.append(line)
                result.append("")
                continue
            result.append(line)
        return result


def cloze_safe(tex: str) -> str:
    while "}}" in tex:
        tex = tex.replace("}}", "} }")
    return tex


def _escape_math(tex: str) -> str:
    return tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@functools.cache
def _markdown(macros: tuple[Macro, ...], cloze: bool):
    import markdown

    converter = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG)
    converter.preprocessors.register(DisplayMathParagraphs(converter), "mathdeck-display-math", 5)
    converter.treeprocessors.register(MathRewriter(converter, macros, cloze), "mathdeck-math", 15)
    return converter


def markdown_to_html(text: str, inline: bool = False, macros: tuple[Macro, ...] = (), cloze: bool = False) -> str:
    """Markdown with math → sanitised HTML. `inline` drops the <p> around a lone paragraph."""
    return sanitize_html(_markdown_field(text, inline, macros, cloze))


def _markdown_field(text: str, inline: bool = False, macros: tuple[Macro, ...] = (), cloze: bool = False) -> str:
    """Markdown's output for a note field, not sanitised yet (render_card sanitises every field)."""
    html = markdown_to_unsafe_html(text, macros, cloze) if text else ""
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def markdown_to_unsafe_html(text: str, macros: tuple[Macro, ...] = (), cloze: bool = False) -> str:
    """Markdown's own output, before sanitising: for check to say what the sanitiser will drop."""
    return _unsafe_html(text, macros, cloze)


# check and render both need Markdown's output of a field: convert it once per build.
@functools.lru_cache(maxsize=1 << 17)
def _unsafe_html(text: str, macros: tuple[Macro, ...], cloze: bool) -> str:
    converter = _markdown(macros, cloze)
    converter.reset()
    return converter.convert(text)


def sanitize_html(html: str) -> str:
    """The one wall every note field passes (render_card): nh3 with the allowlists above."""
    return _sanitiser().clean(html)


@functools.cache
def _sanitiser():
    # One Cleaner for the build: building nh3's options on every call cost as much as cleaning.
    import nh3

    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        allowed_classes=allowed_classes(),
        attribute_filter=local_media_only,
        filter_style_properties=ALLOWED_STYLE_PROPERTIES,
        link_rel=None,
    )


def highlight_code(code: str, language: str) -> str:
    """Static Pygments highlighting: coloured by CSS classes, no JavaScript in the card."""
    from pygments import highlight

    return highlight(code.rstrip("\n") + "\n", _lexer(language), _code_formatter())


@functools.lru_cache(maxsize=64)
def _lexer(language: str):
    # Pygments lexers and formatters keep no state between calls to highlight(): reuse them.
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return get_lexer_by_name("text")


@functools.cache
def _code_formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="highlight")


def render_figure(figure: FigureFiles, alt: str) -> str:
    return render_template("fields/figure.html", light=figure.light, dark=figure.dark, alt=figure.alt or alt)


def plain_title(card: Card) -> str:
    """The card's title without TeX delimiters or backslashes, for an alt text of last resort."""
    return " ".join(re.sub(r"\\([A-Za-z]+)|[$\\{}^_]", lambda m: m.group(1) or " ", card.title).split())


def render_card(card: Card, figures: dict[str, FigureFiles], macros: tuple[Macro, ...] = ()) -> RenderedNote:
    """The card's note. Every field, whatever made it (Markdown, Pygments, our templates), passes
    the sanitiser here and only here, so no field can reach a note without it."""
    kind = KINDS[card.kind]
    to = _FieldRenderer(macros, kind.is_cloze)
    values = kind.fields(card, to)
    values["Zh"] = inline_markdown_field(card.zh or "", to.markdown)
    values["Figure"] = render_figure(figures[card.figure], alt=plain_title(card)) if card.figure else ""
    values["CardId"] = card.id
    if card.retired:
        first = kind.note_fields[0]
        values[first] = render_template("fields/retired.html") + values[first]
    fields = tuple(sanitize_html(values[name]) if values.get(name) else "" for name in kind.note_fields)
    return RenderedNote(card, fields, *_placement(card))


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


@dataclass(frozen=True)
class _FieldRenderer:
    """What a kind's `fields` (kinds.py) turns source text into note HTML with."""

    macros: tuple[Macro, ...]
    cloze: bool

    def markdown(self, text: str, inline: bool = False) -> str:
        return _markdown_field(text, inline, self.macros, self.cloze)  # render_card sanitises every field

    def code(self, code: str, language: str) -> str:
        return render_template("fields/code.html", highlighted=highlight_code(code, language))


def render_deck(deck: Deck, figures: dict[str, FigureFiles], cache: BuildCache | None = None, digests: list[str] | None = None) -> list[RenderedNote]:
    """Every card's note; with a cache, only cards whose inputs changed are rendered again.
    `digests` are the cards' load.card_digest(), when known."""
    macros = deck.config.macros
    if cache is None:
        return [render_card(card, figures, macros) for card in deck.cards]
    notes = []
    for card, key in zip(deck.cards, note_keys(deck, figures, digests), strict=True):
        entry = cache.get(key)
        if entry is None:
            note = render_card(card, figures, macros)
            cache.put(key, (note.fields, note.content_hash))
        else:
            fields, digest = entry
            note = RenderedNote(card, fields, *_placement(card), known_hash=digest, from_cache=True)
        notes.append(note)
    return notes


def note_keys(deck: Deck, figures: dict[str, FigureFiles], digests: list[str] | None = None) -> list[str]:
    """Each card's key in the notes cache: a hash of everything render_card reads (the card,
    its figure's media names, the deck macros, this code and its templates)."""
    if digests is None:
        from .load import card_digest

        digests = [card_digest(card) for card in deck.cards]
    context = content_key("note", notes_fingerprint(), macro_signature(deck.config.macros))
    figure_contexts = {name: content_key(context, figure.light, figure.dark, figure.alt) for name, figure in figures.items()}
    return [
        subkey(figure_contexts.get(card.figure, context) if card.figure else context, digest)
        for card, digest in zip(deck.cards, digests, strict=True)
    ]


def macro_signature(macros: tuple[Macro, ...]) -> str:
    """What of the deck macros reaches notes (not where they are defined)."""
    return json.dumps([(macro.name, macro.body, macro.args) for macro in macros])


@dataclass(frozen=True)
class NoteTypeTemplates:
    css: str
    templates: tuple[tuple[str, str, str], ...]  # (name, front, back)


def note_type_templates(cache: BuildCache | None = None) -> dict[str, NoteTypeTemplates]:
    """render_note_type for every kind, from the cache when this code and its templates are unchanged."""
    key = content_key("note types", notes_fingerprint())
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return {kind: NoteTypeTemplates(css, tuple(map(tuple, templates))) for kind, (css, templates) in cached.items()}
    rendered = {kind: render_note_type(kind) for kind in KINDS}
    if cache is not None:
        cache.put(key, {kind: (t.css, t.templates) for kind, t in rendered.items()})
    return rendered


def render_note_type(kind_name: str) -> NoteTypeTemplates:
    kind = KINDS[kind_name]
    templates = tuple(
        (name, render_block(kind.template_file, f"{stem}_front"), render_block(kind.template_file, f"{stem}_back"))
        for name, stem in kind.templates
    )
    return NoteTypeTemplates(css=card_css(), templates=templates)


def render_block(name: str, block: str, **context) -> str:
    """One `[% block %]` of a template, as if it were a file of its own (no final newline)."""
    template = _environment().get_template(name)
    if block not in template.blocks:
        raise KeyError(f"{TEMPLATES_DIR / name} has no [% block {block} %] (blocks: {', '.join(template.blocks)})")
    return "".join(template.blocks[block](template.new_context(context))).removesuffix("\n")


@functools.cache
def card_css() -> str:
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style=LIGHT_CODE_STYLE).get_style_defs(".card .highlight")
    # Anki puts .nightMode on <body class="card">, AnkiDroid adds .night_mode: `.nightMode .card` never matches.
    dark = "\n".join(
        HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(selector)
        for selector in (".card.nightMode .highlight", ".card.night_mode .highlight")
    )
    return render_template("card.css", light_code_css=light, dark_code_css=dark)


def render_description(deck: Deck, news: str = "", cache: BuildCache | None = None) -> str:
    """The deck's overview text, with the latest changelog entry (Markdown) when there is one."""
    text = deck.config.description + ("\n\n" + news if news else "")
    if cache is None:
        return markdown_to_html(text, macros=deck.config.macros)
    key = content_key("description", notes_fingerprint(), macro_signature(deck.config.macros), text)
    html = cache.get(key)
    if html is None:
        html = markdown_to_html(text, macros=deck.config.macros)
    cache.put(key, html)
    return html
