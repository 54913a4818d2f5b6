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
    """The one wall every note field passes (render.render_card): nh3 with the allowlists above."""
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
