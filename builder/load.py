"""load: cards/*.yaml → Deck. Every problem in the sources is collected, then raised together.

What each file may hold is declared in schema.py; one card file is read by card_file.py. This
module reads deck.yaml, walks the card files (the build reads them through its parsed-cards
cache: builder/parsed_cards.py) and checks what needs every card: unique ids and a note-type id
for each kind in use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from .card_file import NOT_REGULAR, load_card_file, read_regular_text, read_source, regular_file
from .fields import Found, read
from .macros import Macro, recursive_macros
from .model import KINDS, Card, Deck, DeckConfig, card_digest
from .phone_budget import DEFAULT_PHONE_WIDTH
from .problems import Location, Problem, SourceError
from .schema import DECK_LINT, DUPLICATE, deck_schema, lint_settings
from .yamlsource import UNREADABLE

DECK_FILE = "deck.yaml"
OUTLINE_FILE = "outline.yaml"  # the cheat sheet's sections (builder/sheet.py), not cards
# The code that turns a card file into Cards (the fingerprint of the parsed-cards cache,
# builder/memo.py).
LOADER_SOURCES = (
    "load.py",
    "card_file.py",
    "schema.py",
    "fields.py",
    "value_types.py",
    "yamlsource.py",
    "yaml_loader.py",
    "model.py",
    "kinds.py",
    "card_kind.py",
    "macros.py",
    "problems.py",
    "bounds.py",
    "markdown_math.py",
    "cloze.py",
)
NOTE_TYPE_ID = "MD121"
MACRO = "MD122"
_DECK_SCHEMA = deck_schema(tuple(KINDS))


class Loaded:
    """What load read: the deck of every card without a problem (None when deck.yaml cannot be
    used), each card's digest, and the problems (a card with one is left out of the deck)."""

    __slots__ = ("deck", "digests", "problems")

    def __init__(self, deck: Deck | None, digests: list[str], problems: list[Problem]) -> None:
        self.deck = deck
        self.digests = digests
        self.problems = problems

    def complete(self) -> Deck:
        """The deck, or SourceError with every problem when there is one."""
        if self.problems or self.deck is None:
            raise SourceError(self.problems)
        return self.deck


class CardFile:
    """What one card file holds: its cards, each card's model.card_digest(), and its problems."""

    __slots__ = ("cards", "digests", "problems")

    def __init__(
        self, cards: list[Card], digests: list[str], problems: list[Problem] | None = None
    ) -> None:
        self.cards = cards
        self.digests = digests
        self.problems = [] if problems is None else problems


def parse_card_file(path: Path, cards_dir: Path) -> CardFile:
    found = Found()
    cards = load_card_file(path, found, cards_dir)
    return CardFile(cards, [card_digest(card) for card in cards], list(found))


def is_card_file(path: Path) -> bool:
    """A *.yaml of the cards folder that load_sources reads as a card file."""
    return path.name not in (DECK_FILE, OUTLINE_FILE) and regular_file(path)


def load_deck(cards_dir: Path) -> Deck:
    """Read deck.yaml and the card files (every other *.yaml but outline.yaml); raise SourceError
    listing every problem."""
    return load_sources(cards_dir).complete()


def load_sources(
    cards_dir: Path,
    read_card_file: Callable[[Path, Path], CardFile] = parse_card_file,
    on_card_file: Callable[[DeckConfig, CardFile], None] | None = None,
) -> Loaded:
    """Every card file and deck.yaml, their problems collected, never raised: the checks after
    load go on with the cards that loaded, so one run reports every problem of every phase.
    `read_card_file(path, cards_dir)` reads each card file (the build passes parse_card_file
    behind its cache: builder/parsed_cards.py); `on_card_file(config, card_file)` sees each one as
    it is read, when deck.yaml could be read (the build starts checking its cards meanwhile)."""
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
            card_file = read_card_file(path, cards_dir)
            if on_card_file is not None and config is not None:
                on_card_file(config, card_file)
            problems.extend(card_file.problems)
            cards += card_file.cards
            digests += card_file.digests
    problems += duplicate_id_problems(cards)
    if config is not None and config_complete:
        _check_note_type_ids(config, cards, problems)
    deck = Deck(config=config, cards=cards) if config is not None else None
    return Loaded(deck, digests, sorted(problems))


# ---------------------------------------------------------------- deck.yaml


def _load_config(path: Path, problems: Found) -> DeckConfig | None:
    if not path.exists():
        problems.add(
            Location(path),
            "missing: every deck needs cards/deck.yaml (title, slug, deck_id, version, ...)",
            UNREADABLE,
        )
        return None
    if not regular_file(path):
        problems.add(Location(path), NOT_REGULAR, UNREADABLE)
        return None
    root = read_source(path, problems)
    if root is None:
        return None
    values = read(
        root,
        _DECK_SCHEMA,
        problems,
        not_a_mapping=f"deck.yaml must be a mapping of settings, not {root.kind}",
    )
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
        values.get("title", ""),
        values.get("slug", ""),
        values.get("deck_id", 0),
        values.get("version", "0.0.0"),
        values.get("description", ""),
        ids,
        root.location,
        values.at("version"),
        macros,
        values.get("phone_width", DEFAULT_PHONE_WIDTH),
        values.get("tex_links", "none"),
        values.at("description"),
        values.at("note_types"),
        lint_settings(values.get("lint"), DECK_LINT, problems),
    )


def _macros(values, problems: Found) -> tuple[Macro, ...] | None:
    """`macros: {E: '\\mathbb{E}', KL: 'D_{\\mathrm{KL}}(#1 \\,\\|\\, #2)'}`; arguments are
    #1..#9."""
    if "macros" not in values.values:
        return ()
    nodes = values.nodes["macros"].value
    macros = {}
    for name, body in values.get("macros").items():
        numbers = [int(n) for n in re.findall(r"#([1-9])", body)]
        macros[name] = Macro(name, body, max(numbers, default=0), nodes[name].location)
    recursive = recursive_macros(macros)
    for macro in recursive:
        problems.add(
            nodes[macro.name].at,
            f"macro \\{macro.name} is recursive: its expansion reaches \\{macro.name} again",
            MACRO,
        )
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
            fix = (
                f"'{kind}: {suggestion}' under 'note_types'"
                if has_note_types
                else f"'note_types: {{{kind}: {suggestion}}}'"
            )
            problems.add(
                config.note_types_location or config.location,
                (
                    f"'note_types' has no id for kind '{kind}', which card '{card.id}' "
                    f"({card.location}) uses: "
                    f"add {fix} (any whole number no other note type has; "
                    "keep it forever once released, or learners' notes are orphaned)"
                ),
                NOTE_TYPE_ID,
            )


def duplicate_id_problems(cards: list[Card]) -> list[Problem]:
    """An id (or alias) claimed twice, reported at the newer claim, naming the older one: the
    newer is the card in the file edited last (the one just added, most likely), else the later
    in reading order (file name, then line)."""
    claims = [claimed for card in cards for claimed in (card.id, *card.aliases)]
    if len(set(claims)) == len(claims):
        return []  # the usual case: no id claimed twice, nothing to sort (20,000 cards: 0.07 s)
    problems = []
    first_seen: dict[str, Card] = {}
    modified = {path: _modified(path) for path in {card.location.file for card in cards}}
    for card in sorted(
        cards,
        key=lambda card: (modified[card.location.file], card.location.file, card.location.line),
    ):
        for claimed in (card.id, *card.aliases):
            other = first_seen.get(claimed)
            if other is not None and other is not card:
                what = (
                    f"id '{claimed}'"
                    if claimed == card.id
                    else f"card '{card.id}': alias '{claimed}'"
                )
                if other.retired or card.retired:
                    message = (
                        f"{what} belongs to the retired card at {other.location}; a retired id "
                        "is never reused "
                        "(learners still have its note): choose a new id"
                    )
                else:
                    message = f"{what} is already used by the card at {other.location}"
                problems.append(Problem(card.location, message, code=DUPLICATE))
            first_seen.setdefault(claimed, card)
    return problems


def _modified(path: Path) -> int:
    try:
        return int(
            path.stat().st_mtime
        )  # whole seconds: a fresh checkout writes every file at once
    except OSError:
        return 0


def code_file_digest(path: Path) -> str | None:
    """A hash of a code file's text (None if it cannot be read): a parsed card holds the text."""
    try:
        return hashlib.sha256(read_regular_text(path.resolve()).encode("utf-8")).hexdigest()
    except (OSError, UnicodeDecodeError, ValueError):
        return None
