"""parsed_cards: card files parsed once, kept in the build's cards cache (builder/memo.py).

A card file whose bytes and code files did not change since a build parsed it is not parsed
again: its cards come back from the cache, each a row of Card's own fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from functools import partial
from pathlib import Path

from .cache import BuildCache, file_digests
from .identity import KNOWN_GUIDS, guid_for_card, original_id
from .load import (
    CardFile,
    Loaded,
    code_file_digest,
    is_card_file,
    load_sources,
    parse_card_file,
)
from .model import Card, DeckConfig, LintSettings
from .problems import Location


def load_sources_memoised(
    cards_dir: Path,
    cache: BuildCache,
    on_card_file: Callable[[DeckConfig, CardFile], None] | None = None,
    on_changed_file: Callable[[DeckConfig, CardFile], None] | None = None,
) -> Loaded:
    """load.load_sources, parsing only card files whose bytes (or code files) changed.
    `on_changed_file(config, card_file)` sees each file whose bytes the cache does not hold as
    soon as the first card file is seen, before the unchanged files' cards are made from the
    cache; `on_card_file` sees every file in deck order, as load.load_sources says."""
    read = partial(_card_file, cache=cache)
    if on_card_file is None or on_changed_file is None:
        return load_sources(cards_dir, read, on_card_file)
    parsed_ahead: dict[Path, CardFile] = {}
    read_already: list[Path] = []

    def read_in_order(path: Path, cards_dir: Path) -> CardFile:
        read_already.append(path)
        ahead = parsed_ahead.pop(path, None)
        return ahead if ahead is not None else read(path, cards_dir)

    def seen(config: DeckConfig, card_file: CardFile) -> None:
        if len(read_already) == 1:  # the first card file: the changed ones are parsed now
            for path in sorted(cards_dir.glob("*.yaml")):
                changed = (
                    _changed_card_file(path, cards_dir, cache)
                    if path not in read_already and is_card_file(path)
                    else None
                )
                if changed is not None:
                    parsed_ahead[path] = changed
                    on_changed_file(config, changed)
        on_card_file(config, card_file)

    return load_sources(cards_dir, read_in_order, seen)


def _card_file(path: Path, cards_dir: Path, cache: BuildCache) -> CardFile:
    """load.parse_card_file, or the cards an earlier build parsed from the same bytes and code
    files. Only files without problems are kept, so every problem is found by parsing, as always."""
    key = _key(path)
    if key is not None:
        entry = cache.get(key)
        if entry is not None:
            kept = _card_file_from_entry(entry, path, cards_dir)
            if kept is not None:
                return kept
    return _parsed(path, cards_dir, cache, key)


def _changed_card_file(path: Path, cards_dir: Path, cache: BuildCache) -> CardFile | None:
    """The card file parsed, when the cache holds nothing for its bytes (None: it may hold it)."""
    key = _key(path)
    if key is None or cache.holds(key):
        return None
    return _parsed(path, cards_dir, cache, key)


def _key(path: Path) -> str | None:
    try:
        # the file's blake2b, remembered (per user) while its size, times and inode are those it
        # was hashed with: a 20,000-card deck's 13 MB of card files were read and hashed at every
        # build (~0.02 s), to find the one that changed
        [key] = file_digests([path.absolute()])
    except OSError:
        return None  # parse_card_file reports it
    return key


def _parsed(path: Path, cards_dir: Path, cache: BuildCache, key: str | None) -> CardFile:
    parsed = parse_card_file(path, cards_dir)
    if key is not None and not parsed.problems:
        cache.put(key, _entry_for_card_file(parsed, cards_dir))
    return parsed


CARD_FIELDS = Card.field_names


def _entry_for_card_file(parsed: CardFile, cards_dir: Path) -> tuple:
    """(code file digests, each card as a row of its fields in Card's order, the cards' digests,
    their GUIDs by original id). Every location is in the same card file: a row keeps its (line,
    column)."""
    code_files = {
        card.code_file: code_file_digest(cards_dir / card.code_file)
        for card in parsed.cards
        if card.code_file
    }
    return (
        tuple(code_files.items()),
        tuple(_card_row(card) for card in parsed.cards),
        tuple(parsed.digests),
        tuple((original_id(card), guid_for_card(card)) for card in parsed.cards),
    )


def _card_file_from_entry(entry: tuple, path: Path, cards_dir: Path) -> CardFile | None:
    code_files, rows, digests, guids = entry
    if any(code_file_digest(cards_dir / relative) != digest for relative, digest in code_files):
        return None  # a code file changed: parse again
    KNOWN_GUIDS.update(guids)
    return CardFile([_card_from_row(row, path) for row in rows], list(digests))


def _location(path: Path, line: int, column: int) -> Location:
    # Location is a plain class (builder/records.py): made as fast as the frozen dataclass's
    # __dict__ filled by hand was (100,000 locations for 20,000 cached cards)
    return Location(path, line, column)


_NO_IGNORES = LintSettings()  # frozen: every card without a `lint:` shares it


_TEXT, _LOCATION, _TEXT_LOCATIONS, _FIGURE_LOCATION, _LINT = map(
    CARD_FIELDS.index, ("text", "location", "text_locations", "figure_location", "lint")
)


def _card_row(card: Card) -> tuple:
    values = [getattr(card, name) for name in CARD_FIELDS]
    values[_LOCATION] = _line_column(card.location)
    values[_TEXT_LOCATIONS] = {
        key: _line_column(where) for key, where in card.text_locations.items()
    }
    values[_FIGURE_LOCATION] = _line_column(card.figure_location) if card.figure_location else None
    # a card's lint settings hold only `ignore` (the deck's settings are in deck.yaml)
    values[_LINT] = tuple((code, *_line_column(where)) for code, where in card.lint.ignore)
    return tuple(values)


def _card_from_row(row: tuple, path: Path) -> Card:
    values = list(row)  # in the order of Card's fields
    values[_TEXT] = dict(row[_TEXT])  # the card's own dict, never the cache's
    values[_LOCATION] = _location(path, *row[_LOCATION])
    values[_TEXT_LOCATIONS] = TextLocations(path, row[_TEXT_LOCATIONS])
    if row[_FIGURE_LOCATION] is not None:
        values[_FIGURE_LOCATION] = _location(path, *row[_FIGURE_LOCATION])
    values[_LINT] = (
        LintSettings(
            tuple((code, Location(path, line, column)) for code, line, column in row[_LINT])
        )
        if row[_LINT]
        else _NO_IGNORES
    )
    return Card(*values)


def _line_column(where: Location) -> tuple[int, int]:
    return where.line, where.column


class TextLocations(MutableMapping[str, Location]):
    """A cached card's text locations, kept as (line, column) in its file: each Location is made
    when asked for, as only a card with a problem asks (a 20,000-card edit made 76,000 of them for
    nothing, a third of loading the cached cards)."""

    __slots__ = ("_file", "_own", "_where")

    def __init__(self, file: Path, where: Mapping[str, tuple[int, int] | Location]):
        self._file = file
        self._where = where  # the cache's own: never written, copied first (_owned)
        self._own = False

    def __getitem__(self, key: str) -> Location:
        where = self._where[key]
        return where if isinstance(where, Location) else _location(self._file, *where)

    def __setitem__(self, key: str, location: Location) -> None:
        self._owned()[key] = location

    def __delitem__(self, key: str) -> None:
        del self._owned()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def _owned(self) -> dict[str, tuple[int, int] | Location]:
        if not isinstance(self._where, dict) or not self._own:
            self._where, self._own = dict(self._where), True
        return self._where
