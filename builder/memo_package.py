"""memo_package: the package's bytes and genanki's layout behind the build's caches (memo.py).

A rebuild whose package inputs are the last build's takes that build's bytes; genanki's layout
is made with genanki only when the note types change.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from .cache import BuildCache
from .content_hash import content_key
from .memo import memoised, package_fingerprint
from .model import Deck
from .render import NoteTypeTemplates

# The packaging (genanki, SQLite, zlib) is imported when first used: an edit's build asks node for
# its new formula first, and imports it while node works.
if TYPE_CHECKING:
    from .genanki_layout import GenankiLayout


def genanki_layout_memoised(
    cache: BuildCache, deck: Deck, note_types: dict[str, NoteTypeTemplates]
) -> GenankiLayout:
    """genanki_layout.genanki_layout, made with genanki only when the note types (or the
    packaging code, or genanki) changed."""
    from .genanki_layout import GenankiLayout, genanki_layout

    key = content_key(
        "genanki layout",
        package_fingerprint(),
        sorted(deck.config.note_type_ids.items()),
        sorted(
            (kind, templates.css, templates.templates) for kind, templates in note_types.items()
        ),
    )
    return memoised(
        cache,
        key,
        partial(genanki_layout, deck, note_types),
        to_plain=GenankiLayout.to_plain,
        from_plain=GenankiLayout.from_plain,
    )


def package_bytes_memoised(
    cache: BuildCache,
    layout: Callable[[], GenankiLayout],
    level: int,
    guids: list[str],
    *inputs,
    rows_written: Callable[[], object] = lambda: None,
) -> bytes:
    """package.package_bytes(*inputs) at zlib `level` (`guids`: the notes'; `rows_written` its
    hook), or the bytes a build made from the same inputs (a no-op build writes no rows and
    compresses nothing, and needs no `layout`)."""
    from .package import package_bytes, package_key

    key = "0" + package_key(*inputs, level=level, guids=guids)
    data = cache.get(key)
    if not isinstance(data, bytes):
        data = package_bytes(
            *inputs, layout=layout(), level=level, guids=guids, rows_written=rows_written
        )
        cache.put(key, data)
    return data
