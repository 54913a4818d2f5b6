"""load: cards/*.yaml → Deck. Every problem in the sources is collected, then raised together.

What each file may hold is declared in schema.py; one card file is read by card_file.py. This
module reads deck.yaml, walks the card files (through the parsed-cards cache) and checks what
needs every card: unique ids and a note-type id for each kind in use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .cache import BuildCache
from .card_file import NOT_REGULAR, load_card_file, read_regular_text as _read_regular_text, read_source, regular_file
from .macros import Macro, recursive_macros
from .model import KINDS, Card, Deck, DeckConfig, card_digest
from .problems import Location, Problem, SourceError
from .fields import Found, read
from .schema import DUPLICATE, deck_schema
from .yamlsource import UNREADABLE

DECK_FILE = "deck.yaml"
OUTLINE_FILE = "outline.yaml"  # the cheat sheet's sections (builder/sheet.py), not cards
# The code that turns a card file into Cards: a change to it empties the parsed-cards cache.
LOADER_SOURCES = ("load.py", "card_file.py", "schema.py", "fields.py", "yamlsource.py", "model.py", "kinds.py", "macros.py", "problems.py",
                  "bounds.py", "markdown_math.py")
NOTE_TYPE_ID = "MD121"
MACRO = "MD122"
_DECK_SCHEMA = deck_schema(tuple(KINDS))


@dataclass
class Loaded:
    """What load read: the deck of every card without a problem (None when deck.yaml cannot be
    used), each card's digest, and the problems (a card with one is left out of the deck)."""

    deck: Deck | None
    digests: list[str]
    problems: list[Problem]


def load_deck(cards_dir: Path, cache: BuildCache | None = None) -> Deck:
    """Read deck.yaml and the card files (every other *.yaml but outline.yaml); raise SourceError listing every problem.

    With a cache, a card file whose bytes (and code files) are unchanged is not parsed again.
    """
    return load_deck_and_digests(cards_dir, cache)[0]


def load_deck_and_digests(cards_dir: Path, cache: BuildCache | None = None) -> tuple[Deck, list[str]]:
    """load_deck, and card_digest() of each card (kept in the cache with the parsed cards)."""
    loaded = load_sources(cards_dir, cache)
    if loaded.problems or loaded.deck is None:
        raise SourceError(loaded.problems)
    return loaded.deck, loaded.digests


def load_sources(cards_dir: Path, cache: BuildCache | None = None) -> Loaded:
    """Every card file and deck.yaml, their problems collected, never raised: the checks after
    load go on with the cards that loaded, so one run reports every problem of every phase."""
    problems = Found()
    before = len(problems)
    config = _load_config(cards_dir / DECK_FILE, problems)
    config_complete = len(problems) == before
    cards: list[Card] = []
    digests: list[str] = []
    for path in sorted(cards_dir.glob("*.yaml")):
        if path.name == DECK_FILE:
            continue
        if not regular_file(path):
            problems.add(Location(path), NOT_REGULAR, UNREADABLE)
        elif path.name != OUTLINE_FILE:
            file_cards, file_digests = _load_card_file_cached(path, problems, cards_dir, cache)
            cards += file_cards
            digests += file_digests
    problems += duplicate_id_problems(cards)
    if config is not None and config_complete:
        _check_note_type_ids(config, cards, problems)
    deck = Deck(config=config, cards=cards) if config is not None else None
    return Loaded(deck, digests, sorted(problems))


# ---------------------------------------------------------------- deck.yaml


def _load_config(path: Path, problems: Found) -> DeckConfig | None:
    if not path.exists():
        problems.add(Location(path), "missing: every deck needs cards/deck.yaml (title, slug, deck_id, version, ...)", UNREADABLE)
        return None
    if not regular_file(path):
        problems.add(Location(path), NOT_REGULAR, UNREADABLE)
        return None
    root = read_source(path, problems)
    if root is None:
        return None
    values = read(root, _DECK_SCHEMA, problems, not_a_mapping=f"deck.yaml must be a mapping of settings, not {root.kind}")
    if values is None:
        return None
    ids = values.get("note_types", {})
    if len(set(ids.values())) != len(ids):
        problems.add(values.nodes["note_types"].at, "note type ids must all differ", NOTE_TYPE_ID)
        return None
    macros = _macros(values, problems)
    if macros is None or ("macros" in values.nodes and "macros" not in values.values):
        return None  # without the deck's macros, every formula using one would be a false problem
    # With a problem elsewhere in deck.yaml, the cards are still checked (their problems come in the
    # same run) against what is valid here; nothing is built from it (the problems stop the build).
    return DeckConfig(
        values.get("title", ""), values.get("slug", ""), values.get("deck_id", 0), values.get("version", "0.0.0"),
        values.get("description", ""), ids, root.location, values.at("version"), macros,
        values.get("phone_width", DeckConfig.__dataclass_fields__["phone_width"].default), values.get("tex_links", "none"),
        values.at("description"), values.at("note_types"),
    )


def _macros(values, problems: Found) -> tuple[Macro, ...] | None:
    """`macros: {E: '\\mathbb{E}', KL: 'D_{\\mathrm{KL}}(#1 \\,\\|\\, #2)'}`; arguments are #1..#9."""
    if "macros" not in values.values:
        return ()
    nodes = values.nodes["macros"].value
    macros = {}
    for name, body in values.get("macros").items():
        numbers = [int(n) for n in re.findall(r"#([1-9])", body)]
        macros[name] = Macro(name, body, max(numbers, default=0), nodes[name].location)
    recursive = recursive_macros(macros)
    for macro in recursive:
        problems.add(nodes[macro.name].at, f"macro \\{macro.name} is recursive: its expansion reaches \\{macro.name} again", MACRO)
    return None if recursive else tuple(macros.values())


def _check_note_type_ids(config: DeckConfig, cards: list[Card], problems: Found) -> None:
    """Every kind the cards use needs its note type's id in deck.yaml."""
    first_card: dict[str, Card] = {}
    for card in cards:
        first_card.setdefault(card.kind, card)
    ids = config.note_type_ids
    suggestion = max(ids.values(), default=config.deck_id + 99)
    for kind in KINDS:
        if kind in first_card and kind not in ids:
            suggestion += 1
            while suggestion in ids.values() or suggestion == config.deck_id:
                suggestion += 1
            card = first_card[kind]
            has_note_types = config.note_types_location != config.location
            fix = f"'{kind}: {suggestion}' under 'note_types'" if has_note_types else f"'note_types: {{{kind}: {suggestion}}}'"
            problems.add(config.note_types_location or config.location, (
                f"'note_types' has no id for kind '{kind}', which card '{card.id}' ({card.location}) uses: "
                f"add {fix} (any whole number no other note type has; "
                "keep it forever once released, or learners' notes are orphaned)"
            ), NOTE_TYPE_ID)




def duplicate_id_problems(cards: list[Card]) -> list[Problem]:
    """An id (or alias) claimed twice, reported at the newer claim, naming the older one: the
    newer is the card in the file edited last (the one just added, most likely), else the later
    in reading order (file name, then line)."""
    problems = []
    first_seen: dict[str, Card] = {}
    modified = {path: _modified(path) for path in {card.location.file for card in cards}}
    for card in sorted(cards, key=lambda card: (modified[card.location.file], card.location.file, card.location.line)):
        for claimed in (card.id, *card.aliases):
            other = first_seen.get(claimed)
            if other is not None and other is not card:
                what = f"id '{claimed}'" if claimed == card.id else f"card '{card.id}': alias '{claimed}'"
                if other.retired or card.retired:
                    message = (f"{what} belongs to the retired card at {other.location}; a retired id is never reused "
                               "(learners still have its note): choose a new id")
                else:
                    message = f"{what} is already used by the card at {other.location}"
                problems.append(Problem(card.location, message, code=DUPLICATE))
            first_seen.setdefault(claimed, card)
    return problems


def _modified(path: Path) -> int:
    try:
        return int(path.stat().st_mtime)  # whole seconds: a fresh checkout writes every file at once
    except OSError:
        return 0


# ---------------------------------------------------------------- card files (through the parsed-cards cache)


def _load_card_file_cached(path: Path, problems: Found, cards_dir: Path, cache: BuildCache | None) -> tuple[list[Card], list[str]]:
    """load_card_file, or its cards from the cache when the file's bytes and code files are
    unchanged; with each card's digest. Only files without problems are cached, so every problem
    is found by parsing, as always."""
    try:
        raw = path.read_bytes() if cache is not None else None
    except OSError:
        raw = None  # load_card_file reports it
    if raw is None:
        cards = load_card_file(path, problems, cards_dir)
        return cards, [card_digest(card) for card in cards]
    key = hashlib.blake2b(raw, digest_size=20).hexdigest()
    entry = cache.get(key)
    if entry is not None:
        cached = _cards_from_entry(entry, path, cards_dir)
        if cached is not None:
            return cached
    found = Found()
    cards = load_card_file(path, found, cards_dir)
    digests = [card_digest(card) for card in cards]
    if found:
        problems.extend(found)
    else:
        cache.put(key, _entry_for_cards(cards, digests, cards_dir))
    return cards, digests


def _entry_for_cards(cards: list[Card], digests: list[str], cards_dir: Path) -> tuple:
    """Cards as plain values; every location is a line of the same card file."""
    code_files = {card.code_file: _file_digest(cards_dir / card.code_file) for card in cards if card.code_file}
    rows = tuple(
        (
            card.id, card.kind, card.text, card.subdeck, card.location.line,
            tuple((key, where.line) for key, where in card.text_locations.items()),
            card.tags, card.level, card.zh, card.figure,
            card.figure_location.line if card.figure_location else None,
            card.covers, card.aliases, card.reverse, card.retired, card.language, card.code_file,
        )
        for card in cards
    )
    return tuple(code_files.items()), rows, tuple(digests)


def _cards_from_entry(entry: tuple, path: Path, cards_dir: Path) -> tuple[list[Card], list[str]] | None:
    code_files, rows, digests = entry
    if any(_file_digest(cards_dir / relative) != digest for relative, digest in code_files):
        return None  # a code file changed: parse again
    at = {}  # line -> Location, shared by the cards of this file
    for row in rows:
        for line in (row[4], row[10], *(n for _, n in row[5])):
            if line is not None and line not in at:
                at[line] = Location(path, line)
    cards = [
        Card(
            id=card_id, kind=kind, text=dict(text), subdeck=subdeck, location=at[line],
            text_locations={key: at[n] for key, n in text_lines},
            tags=tags, level=level, zh=zh, figure=figure,
            figure_location=at[figure_line] if figure_line is not None else None,
            covers=covers, aliases=aliases, reverse=reverse, retired=retired, language=language, code_file=code_file,
        )
        for (card_id, kind, text, subdeck, line, text_lines, tags, level, zh, figure, figure_line,
             covers, aliases, reverse, retired, language, code_file) in rows
    ]
    return cards, list(digests)


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(_read_regular_text(path.resolve()).encode("utf-8")).hexdigest()
    except (OSError, UnicodeDecodeError, ValueError):
        return None

