"""memo: the build's caches, kept outside the stages as Black keeps its cache outside the formatter.

load, check, check_math and render are pure functions of their inputs and know nothing of
caches. The build looks their results up here by content key (a hash of a stage's inputs; each
cache's fingerprint names the code that computes its entries, see builder/cache.py) and calls a
stage only for what is new: an unchanged card is not parsed (parsed_cards.py), checked or
rendered again, and an unchanged formula is not sent to MathJax. A cache only saves time: with
it, without it or with a damaged one, the build writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from .cache import BuildCache, fingerprint
from .check_math import VERDICT_SOURCES
from .content_hash import content_key, subkey
from .load import LOADER_SOURCES
from .markdown_math import MARKDOWN_LIBRARIES, MARKDOWN_SOURCES, macro_signature
from .mathjax_install import mathjax_fingerprint
from .model import Deck, card_digest
from .problems import Location, Problem
from .render import (
    NOTES_CACHE_LIBRARIES,
    NOTES_CACHE_SOURCES,
    FigureFiles,
    NoteTypeTemplates,
    RenderedNote,
    note_rendered_before,
    note_type_templates,
    render_card,
    render_description,
)

# The linter, the packaging and the commit are imported when first used (memo_package.py too):
# an edit's build asks node for its new formula first, and imports them while node works.
T = TypeVar("T")
# How these files keep a stage's result (a card as a row, say) is part of every entry.
MEMO_SOURCES = ("memo.py", "memo_check.py", "memo_package.py", "parsed_cards.py")
# the folders under .cache/build/
CACHE_NAMES = ("cards", "checked", "notes", "mathjax", "package", "lint")


def loader_fingerprint() -> str:
    # identity.py: the cards cache keeps each card's GUID
    return fingerprint(LOADER_SOURCES + MEMO_SOURCES + ("identity.py",), ("pyyaml",))


def lint_fingerprint() -> str:
    from .lint import LINT_SOURCES

    return fingerprint(LINT_SOURCES + MEMO_SOURCES + ("lint_memo.py",))


def package_fingerprint() -> str:
    from .package import PACKAGE_LIBRARIES, PACKAGE_SOURCES

    return fingerprint(PACKAGE_SOURCES, PACKAGE_LIBRARIES)


def notes_fingerprint() -> str:
    return fingerprint(NOTES_CACHE_SOURCES + MEMO_SOURCES, NOTES_CACHE_LIBRARIES)


def markdown_fingerprint() -> str:
    """What Markdown's output and the sanitiser depend on: part of the key of every checked card."""
    return fingerprint(MARKDOWN_SOURCES, MARKDOWN_LIBRARIES)


def verdicts_fingerprint() -> str:
    """MathJax's verdicts depend on the checker script and MathJax's version."""
    return fingerprint(VERDICT_SOURCES + MEMO_SOURCES) + mathjax_fingerprint()


class BuildCaches:
    """The build's caches (builder/cache.py), in one folder (.cache/build/ in a project). (A plain
    class: builder/records.py says why.)"""

    __slots__ = ("cards", "checked", "folder", "lint", "notes", "packages", "verdicts")

    def __init__(
        self,
        folder: Path,
        cards: BuildCache,
        checked: BuildCache,
        notes: BuildCache,
        verdicts: BuildCache,
        packages: BuildCache,
        lint: BuildCache,
    ) -> None:
        self.folder = folder
        self.cards = cards  # card file bytes -> its cards
        self.checked = checked  # card -> it passed every check
        self.notes = notes  # card (+ macros, figures) -> its note's fields
        self.verdicts = verdicts  # formula -> MathJax's verdict
        self.packages = packages  # the package's inputs -> the last build's .apkg bytes
        self.lint = lint  # the linter's findings by card digest; near-duplicates by texts

    @classmethod
    def open(cls, folder: Path) -> BuildCaches:
        cards, checked, notes, verdicts, packages, lint = CACHE_NAMES
        return cls(
            folder=folder,
            cards=BuildCache(folder, cards, loader_fingerprint()),
            checked=BuildCache(folder, checked, notes_fingerprint() + verdicts_fingerprint()),
            notes=BuildCache(folder, notes, notes_fingerprint()),
            # kept until a build looks up every formula: most builds look up only new ones
            verdicts=BuildCache(folder, verdicts, verdicts_fingerprint(), keep_unused=None),
            # the last build's .apkg alone: every key lands in shard "0", which keeps only what a
            # build used
            packages=BuildCache(folder, packages, package_fingerprint, keep_unused=1),
            lint=BuildCache(folder, lint, lint_fingerprint),
        )

    def save(self) -> list[Problem]:
        """Save every cache; what could not be saved, as a warning (a cache only saves time)."""
        caches = (self.cards, self.checked, self.notes, self.verdicts, self.packages, self.lint)
        errors = [error for cache in caches for error in cache.save()]
        if not errors:
            return []
        from .commit import os_error_text

        return [
            Problem(
                Location(self.folder),
                f"the build cache was not saved ({os_error_text(errors[0], with_file=False)}); "
                "the next build will be slower",
                "warning",
            )
        ]


def memoised(
    cache: BuildCache,
    key: str,
    compute: Callable[[], T],
    to_plain: Callable[[T], Any] | None = None,
    from_plain: Callable[[Any], T] | None = None,
) -> T:
    """compute(), or what it returned for `key` before. The cache holds plain data: `to_plain`
    makes it of the value, `from_plain` the value again (neither is needed for plain values)."""
    plain = cache.get(key)
    if plain is not None:
        return from_plain(plain) if from_plain is not None else plain
    value = compute()
    cache.put(key, to_plain(value) if to_plain is not None else value)
    return value


# ---------------------------------------------------------------- render


def render_deck_memoised(
    deck: Deck, figures: dict[str, FigureFiles], cache: BuildCache, digests: list[str] | None = None
) -> list[RenderedNote]:
    """render.render_deck, rendering only cards whose inputs changed. `digests` are the cards'
    model.card_digest(), when known.

    One entry per card file (its notes by card key, see note_keys): 100 lookups for 20,000 cards
    instead of 20,000 (each a digest check and an unmarshal; with the keys, ~0.1 s of an edit). A
    file whose notes changed is written again whole, with only its current notes."""
    if digests is None:
        digests = [card_digest(card) for card in deck.cards]
    keys = note_keys(deck, figures, digests)
    # `--lang en` renders the deck without its zh terms, and the lock's times from the deck as
    # written: both are kept, apart
    without_zh = all(card.zh is None for card in deck.cards)
    file_context = content_key("notes of a file", _notes_context(deck), without_zh)
    kept_by_file: dict[str, dict] = {}
    used_by_file: dict[str, dict] = {}
    notes = []
    file: Path | None = None
    kept: dict = {}
    used: dict = {}
    for card, key in zip(deck.cards, keys, strict=True):
        if card.location.file is not file:  # a file's cards come together: its name once
            file = card.location.file
            if file.name not in kept_by_file:
                kept_by_file[file.name] = cache.get(_notes_file_key(file_context, file.name)) or {}
            kept = kept_by_file[file.name]
            used = used_by_file.setdefault(file.name, {})
        entry = kept.get(key)  # (fields, content hash, tags, subdeck)
        if entry is None:
            note = render_card(card, figures, deck.config.macros)
            entry = (note.fields, note.content_hash, note.tags, note.subdeck)
        else:
            note = note_rendered_before(card, *entry)
        used[key] = entry
        notes.append(note)
    for name, used in used_by_file.items():
        if used.keys() != kept_by_file[name].keys():  # a note rendered, or one gone
            cache.put(_notes_file_key(file_context, name), used)
    return notes


def _notes_file_key(context: str, file_name: str) -> str:
    # card files are the *.yaml of one folder: a name is a file
    return content_key(context, file_name)


def _notes_context(deck: Deck) -> str:
    """What every note depends on besides its card: the rendering code, its templates and
    libraries, the deck macros."""
    return content_key("note", notes_fingerprint(), macro_signature(deck.config.macros))


def note_keys(
    deck: Deck, figures: dict[str, FigureFiles], digests: list[str] | None = None
) -> list[str]:
    """Each card's key among its file's notes: its digest, with its figure's media names and
    text alternative for a card with a figure (the rest of what render_card reads is in the
    file's key, _notes_context)."""
    if digests is None:
        digests = [card_digest(card) for card in deck.cards]
    figure_contexts = {
        name: content_key(figure.light, figure.dark, figure.alt) for name, figure in figures.items()
    }
    return [
        subkey(figure_contexts[card.figure], digest) if card.figure in figure_contexts else digest
        for card, digest in zip(deck.cards, digests, strict=True)
    ]


def note_type_templates_memoised(cache: BuildCache) -> dict[str, NoteTypeTemplates]:
    return memoised(
        cache,
        content_key("note types", notes_fingerprint()),
        note_type_templates,
        to_plain=lambda rendered: {kind: (t.css, t.templates) for kind, t in rendered.items()},
        from_plain=lambda kept: {
            kind: NoteTypeTemplates(css, tuple(map(tuple, templates)))
            for kind, (css, templates) in kept.items()
        },
    )


def render_description_memoised(deck: Deck, news: str, cache: BuildCache) -> str:
    key = content_key(
        "description",
        notes_fingerprint(),
        macro_signature(deck.config.macros),
        deck.config.description,
        news,
    )
    return memoised(cache, key, partial(render_description, deck, news))
