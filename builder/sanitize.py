"""The sanitiser every note field passes (render.render_card) and its policy: which tags,
attributes, classes, URL schemes and style properties may reach a note. check's HTML audit reads
the same policy to tell the author what the sanitiser will drop.
"""

from __future__ import annotations

import functools
import re

# Pygments and nh3 are imported where they are used: a rebuild whose notes all come from the cache
# (builder/cache.py) never loads them.

# What may reach a note. Cards run inside a web view on desktop and phone: no scripts, no event
# handlers, no javascript: URLs, no styles beyond table alignment.
ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": set(),  # `class` is allowed per tag and per name: allowed_classes()
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"style"},
    "th": {"style"},
}
ALLOWED_URL_SCHEMES = {
    "http",
    "https",
}  # for links; an image must be a media file (local_media_only)
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
    """Anything with a scheme or a host (`//host/x`, `\\\\host\\x`): not a file of the deck's
    media."""
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


def sanitize_html(html: str) -> str:
    """The one wall every note field passes (render.render_card): nh3 with the allowlists above.

    HTML already in the form nh3 writes (`already_clean`: most fields, which mathdeck writes
    itself) is nh3's own output for it, given back without parsing it again (~11 µs a field,
    ~150 µs a code block). Without an image, the attribute filter (a call into Python for every
    attribute) can change nothing and is left out."""
    if already_clean(html):
        return html
    return _sanitiser(images=_IMAGE_TAG.search(html) is not None).clean(html)


@functools.cache
def _sanitiser(images: bool = True):
    # One Cleaner for the build: building nh3's options on every call cost as much as cleaning.
    import nh3

    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        allowed_classes=allowed_classes(),
        attribute_filter=local_media_only if images else None,
        filter_style_properties=ALLOWED_STYLE_PROPERTIES,
        link_rel=None,
    )


# Where an <img> can come from: html5ever's tokenizer reads a tag's name from the character after
# `<` and lowercases only ASCII; its tree builder renames <image> to <img>. Without one,
# local_media_only (the one attribute filter) returns every value as it is.
_IMAGE_TAG = re.compile(r"<im(?:g|age)", re.IGNORECASE)

# ------------------------------------------------------- HTML the sanitiser gives back unchanged

# Text as html5ever writes it: `&`, `<` and `>` escaped (`&nbsp;` is how it writes U+00A0, which
# is left out, as are the characters its parser drops or changes: NUL, CR) and no other character
# reference. Other controls and surrogates (which nh3 cannot take) are left to nh3 too.
_RUN = r"[^<>&\x00-\x08\x0b-\x1f\x7f-\xa0\ud800-\udfff\ufeff]++|&(?:amp|lt|gt);"  # never empty
_TEXT = rf"(?:{_RUN})*+"
_MATH_SPAN = f'<span class="arithmatex">{_TEXT}</span>'
_PHRASE = rf"(?:{_RUN}|<code>{_TEXT}</code>|{_MATH_SPAN})*+"
# (no group, no backreference: the pattern repeats _INLINE, and a `\1` would name the first copy)
_INLINE = (
    rf"(?:{_RUN}|<code>{_TEXT}</code>|{_MATH_SPAN}"
    rf"|<strong>{_PHRASE}</strong>|<em>{_PHRASE}</em>)*+"
)
_BLOCK = (
    rf"(?:<p>{_INLINE}</p>|<div class=\"arithmatex\">{_TEXT}</div>"
    rf"|<ul>\n(?:<li>{_INLINE}</li>\n)++</ul>)"
)
# What markdown_math and kinds write: blocks of paragraphs, display formulas and flat lists, or a
# lone paragraph's inline content. Each tag is allowed with the only attribute it carries, nested
# only where HTML's parser keeps it as written (phrasing inside <p> and <li>).
_MARKDOWN_CLEAN = re.compile(rf"{_BLOCK}(?:\n{_BLOCK})*+|{_INLINE}")
_CODE_OPENING = '<div class="code-block"><div class="highlight"><pre><span></span>'


def already_clean(html: str) -> bool:
    """Whether nh3 gives `html` back unchanged, as far as a regular grammar of the HTML mathdeck
    writes can tell (False: nh3 decides). tests/test_sanitize.py holds every accepted HTML, from
    the flagship, the bench deck and generated text, to nh3's output."""
    if html.startswith(_CODE_OPENING):
        return _code_clean().fullmatch(html) is not None
    return _MARKDOWN_CLEAN.fullmatch(html) is not None


@functools.cache
def _code_clean() -> re.Pattern[str]:
    """A code field (render's fields/code.html around Pygments' HtmlFormatter): token spans of
    one allowed class each."""
    names = "|".join(map(re.escape, sorted(allowed_classes()["span"], key=len, reverse=True)))
    token = rf"(?:{_RUN}|<span class=\"(?:{names})\">{_TEXT}</span>)*+"
    return re.compile(rf"{re.escape(_CODE_OPENING)}{token}</pre></div>\n</div>")
