"""memo_package: the package's bytes and genanki's layout behind the build's caches (memo.py).

A rebuild whose package inputs are the last build's takes that build's bytes; genanki's layout
is made with genanki only when the note types change. A large deck's bytes are made in a child
process (forked.py) while this one goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from .cache import BuildCache, fingerprint
from .content_hash import content_key
from .forked import CHILD_FROM_CARDS, ForkedCall
from .genanki_layout import GenankiLayout, genanki_layout
from .memo import memoised
from .model import Deck
from .package import PACKAGE_LIBRARIES, PACKAGE_SOURCES, package_bytes, package_key
from .render import NoteTypeTemplates


def genanki_layout_memoised(
    cache: BuildCache, deck: Deck, note_types: dict[str, NoteTypeTemplates]
) -> GenankiLayout:
    """genanki_layout.genanki_layout, made with genanki only when the note types (or the
    packaging code, or genanki) changed."""
    key = content_key(
        "genanki layout",
        fingerprint(PACKAGE_SOURCES, PACKAGE_LIBRARIES),
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
) -> Callable[[], bytes]:
    """What gives package.package_bytes(*inputs) at zlib `level` (`guids`: the notes'), or the
    bytes a build made from the same inputs (a no-op build writes no rows and compresses nothing,
    and needs no `layout`). From forked.CHILD_FROM_CARDS notes the bytes are made in a child
    process while this one hashes the inputs for the key (0.4 s of SQLite and 0.07 s of hashing at
    20,000 notes) and goes on with the build until it asks for them; the child is stopped when
    the key finds them."""
    notes = inputs[1]
    making = None
    if len(notes) >= CHILD_FROM_CARDS:
        making = ForkedCall(
            partial(package_bytes, *inputs, layout=layout(), level=level, guids=guids)
        )
    key = "0" + package_key(*inputs, level=level, guids=guids)
    kept = cache.get(key)
    if isinstance(kept, bytes):
        if making is not None:
            making.cancel()
        return lambda: kept
    if making is None:
        data = package_bytes(*inputs, layout=layout(), level=level, guids=guids)
        cache.put(key, data)
        return lambda: data

    def made() -> bytes:
        data = making.result()  # the child's, once
        if cache.get(key) is not data:
            cache.put(key, data)
        return data

    return made
