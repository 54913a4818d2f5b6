"""The HTML audit: what the sanitiser (sanitize.sanitize_html) would drop from Markdown's output,
and the prose outside code and math, where check looks for misplaced `$$` and stray `\\(`.
"""

from __future__ import annotations

import html.parser
import re

from .markdown_math import is_math
from .sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_STYLE_PROPERTIES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    allowed_classes,
    local_media_only,
    url_scheme,
)


class HtmlAudit(html.parser.HTMLParser):
    """Lists what the sanitiser (nh3, sanitize.sanitize_html) will drop, so the author is told,
    not surprised."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.removed: list[str] = []
        self.prose: list[str] = []  # text outside code and math
        self.raw_prose: list[str] = []  # the same with math spans marked, to spot `$` glued to math
        self._skip = 0

    def handle_data(self, data):
        if not self._skip:
            self.prose.append(data)
            self.raw_prose.append(data)

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= 1

    # The sanitiser drops comments, declarations and processing instructions, text and all.
    def handle_comment(self, data):
        self.removed.append(COMMENT)

    def handle_decl(self, decl):
        self.removed.append(f"<!{decl.split(' ')[0]}> declaration")

    def unknown_decl(self, data):
        self.removed.append(f"<![{data.split('[')[0]}[ section")

    def handle_pi(self, data):
        self.removed.append("<?...> processing instruction")

    def handle_starttag(self, tag, attrs):
        if self._skip:
            self._skip += 1
        elif tag in ("code", "pre") or is_math(dict(attrs).get("class")):
            self._skip = 1
            self.raw_prose.append("<span")
        if tag not in ALLOWED_TAGS:
            self.removed.append(f"<{tag}> element")
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ALLOWED_ATTRIBUTES["*"]
        for name, value in attrs:
            if name == "class":
                classes = allowed_classes().get(tag, frozenset())
                self.removed += [
                    f"'{cls}' class on <{tag}>"
                    for cls in (value or "").split()
                    if cls not in classes
                ]
            elif name not in allowed:
                self.removed.append(f"'{name}' attribute on <{tag}>")
            elif (
                name in ("href", "src")
                and value
                and url_scheme(value) not in ALLOWED_URL_SCHEMES | {""}
            ):
                self.removed.append(f"'{url_scheme(value)}:' link in <{tag} {name}>")
            elif local_media_only(tag, name, value or "") is None:
                self.removed.append(
                    f'remote image <{tag} {name}="{_shorten(value)}"> (fetched on every review: '
                    "images must be the deck's own files)"
                )
            elif name == "style":
                self.removed += [
                    f"'{prop}' style on <{tag}>"
                    for prop in _style_properties(value)
                    if prop not in ALLOWED_STYLE_PROPERTIES
                ]


COMMENT = "an HTML comment"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _style_properties(style: str | None) -> list[str]:
    return [
        part.split(":", 1)[0].strip().lower() for part in (style or "").split(";") if part.strip()
    ]


def emptied_by_comments(text: str, removed: list[str]) -> list[str]:
    """A field that is nothing but comments becomes an empty field: say so, not just 'removed'."""
    if COMMENT in removed and not re.sub(r"<!--.*?(?:-->|$)", "", text, flags=re.S).strip():
        emptied = f"{COMMENT} (the field's only content, so the field would be empty)"
        return [emptied if what == COMMENT else what for what in removed]
    return removed
