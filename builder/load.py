"""load: cards/*.yaml → Deck. Every problem in the sources is collected, then raised together."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
from pathlib import Path

from typing import TYPE_CHECKING

from .bounds import long_line_problem, text_shape_problems
from .cache import BuildCache
from .macros import NAME_PATTERN as MACRO_NAME, Macro, recursive_macros
from .kinds import FILE_KEYS
from .model import COMMON_KEYS, KINDS, LEVELS, Card, Deck, DeckConfig, card_digest
from .problems import Location, Problem, SourceError

if TYPE_CHECKING:  # yamlsource (and PyYAML) load only when a file must be parsed
    from .yamlsource import Node

DECK_FILE = "deck.yaml"
OUTLINE_FILE = "outline.yaml"  # the cheat sheet's sections (builder/sheet.py), not cards
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_.:+-]+$")
SEMVER_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
DECK_KEYS = ("title", "slug", "deck_id", "version", "description", "note_types", "macros", "phone_width", "tex_links",
             "paths")  # paths: read by project.deck_paths before the deck loads
PHONE_WIDTHS = range(240, 1025)  # CSS px: from the smallest phones to a tablet
TEX_LINKS = ("none", "https")  # deck.yaml `tex_links`: may \href in math link to https: addresses?
CARD_FILE_KEYS = ("subdeck", "tags", "cards")
# The code that turns a card file into Cards: a change to it empties the parsed-cards cache.
LOADER_SOURCES = ("load.py", "yamlsource.py", "model.py", "kinds.py", "macros.py", "problems.py", "bounds.py", "markdown_math.py")
MAX_ANKI_ID = 2**63 - 1
NOT_REGULAR = "not a regular file (a folder, FIFO or device is never read): remove it or rename it"


class _Problems(list):
    def add(self, location: Location, message: str) -> None:
        self.append(Problem(location, message))


def load_deck(cards_dir: Path, cache: BuildCache | None = None) -> Deck:
    """Read deck.yaml and the card files (every other *.yaml but outline.yaml); raise SourceError listing every problem.

    With a cache, a card file whose bytes (and code files) are unchanged is not parsed again.
    """
    return load_deck_and_digests(cards_dir, cache)[0]


def load_deck_and_digests(cards_dir: Path, cache: BuildCache | None = None) -> tuple[Deck, list[str]]:
    """load_deck, and card_digest() of each card (kept in the cache with the parsed cards)."""
    problems = _Problems()
    config = _load_config(cards_dir / DECK_FILE, problems)
    cards: list[Card] = []
    digests: list[str] = []
    for path in sorted(cards_dir.glob("*.yaml")):
        if path.name == DECK_FILE:
            continue
        if not _regular_file(path):
            problems.add(Location(path), NOT_REGULAR)
        elif path.name != OUTLINE_FILE:
            file_cards, file_digests = _load_card_file_cached(path, problems, cards_dir, cache)
            cards += file_cards
            digests += file_digests
    _check_unique_ids(cards, problems)
    if config is not None:
        _check_note_type_ids(config, cards, problems)
    if problems:
        raise SourceError(sorted(problems))
    return Deck(config=config, cards=cards), digests


# ---------------------------------------------------------------- deck.yaml


def _load_config(path: Path, problems: _Problems) -> DeckConfig | None:
    if not path.exists():
        problems.add(Location(path), "missing: every deck needs cards/deck.yaml (title, slug, deck_id, version, ...)")
        return None
    if not _regular_file(path):
        problems.add(Location(path), NOT_REGULAR)
        return None
    root = _read(path, problems)
    if root is None:
        return None
    if not isinstance(root.value, dict):
        problems.add(root.location, f"deck.yaml must be a mapping of settings, not {root.kind}")
        return None
    values = root.value
    _reject_unknown_keys(values, DECK_KEYS, "deck.yaml", problems)
    before = len(problems)
    title = _required_text(values, "title", root.location, problems)
    slug = _required_text(values, "slug", root.location, problems)
    if slug and not ID_PATTERN.match(slug):
        problems.add(values["slug"].location, f"slug '{slug}' must be lowercase letters, digits and hyphens")
    deck_id = _required_int(values, "deck_id", root.location, problems)
    version = _required_text(values, "version", root.location, problems)
    if version and not SEMVER_PATTERN.match(version):
        problems.add(values["version"].location, f"version '{version}' is not semver (MAJOR.MINOR.PATCH)")
    description = _optional_text(values, "description", problems) or ""
    ids = _note_type_ids(values, problems)
    macros = _macros(values.get("macros"), problems)
    phone_width = _phone_width(values.get("phone_width"), problems)
    tex_links = _optional_text(values, "tex_links", problems) or "none"
    if tex_links not in TEX_LINKS:
        problems.add(values["tex_links"].location, f"tex_links '{tex_links}' must be one of {', '.join(TEX_LINKS)}")
    if len(problems) > before or ids is None:
        return None
    return DeckConfig(title, slug, deck_id, version, description, ids, root.location, values["version"].location, macros,
                      phone_width, tex_links, values["description"].location if "description" in values else root.location,
                      values["note_types"].location if "note_types" in values else root.location)


def _phone_width(node: Node | None, problems: _Problems) -> int:
    default = DeckConfig.__dataclass_fields__["phone_width"].default
    if node is None or node.value is None:
        return default
    text = node.value if isinstance(node.value, str) else ""
    if not re.fullmatch(r"[0-9]{3,4}", text) or int(text) not in PHONE_WIDTHS:
        problems.add(node.location, f"'phone_width' must be a width in CSS px from {PHONE_WIDTHS.start} to "
                                    f"{PHONE_WIDTHS.stop - 1} (phones are 360-412), not '{text or node.kind}'")
        return default
    return int(text)


def _macros(node: Node | None, problems: _Problems) -> tuple[Macro, ...]:
    """`macros: {E: '\\mathbb{E}', KL: 'D_{\\mathrm{KL}}(#1 \\,\\|\\, #2)'}`; arguments are #1..#9."""
    if node is None or node.value is None:
        return ()
    if not isinstance(node.value, dict):
        problems.add(node.location, f"'macros' must be a mapping of name to TeX, not {node.kind}")
        return ()
    macros = {}
    for name, definition in node.value.items():
        if not MACRO_NAME.match(name):
            problems.add(definition.location, f"macro name '{name}' must be letters only (it is used as \\{name})")
            continue
        body = _text(definition, f"macros.{name}", problems)
        if body is None:
            continue
        numbers = [int(n) for n in re.findall(r"#([1-9])", body)]
        macros[name] = Macro(name, body, max(numbers, default=0), definition.location)
    for macro in recursive_macros(macros):
        problems.add(macro.location, f"macro \\{macro.name} is recursive: its expansion reaches \\{macro.name} again")
    return tuple(macros.values())


def _note_type_ids(values: dict[str, Node], problems: _Problems) -> dict[str, int] | None:
    """`note_types: {formula: 1764080000101, ...}`: a fixed id per kind. Which kinds need one
    depends on the cards (_check_note_type_ids); ids for kinds no card uses are fine."""
    node = values.get("note_types")
    if node is None or node.value is None:
        return {}
    if not isinstance(node.value, dict):
        problems.add(node.location, f"'note_types' must be a mapping of kind to id, not {node.kind}")
        return None
    _reject_unknown_keys(node.value, tuple(KINDS), "note_types", problems)
    ids = {kind: _required_int(node.value, kind, node.location, problems) for kind in KINDS if kind in node.value}
    if None in ids.values():
        return None
    if len(set(ids.values())) != len(ids):
        problems.add(node.location, "note type ids must all differ")
    return ids


def _check_note_type_ids(config: DeckConfig, cards: list[Card], problems: _Problems) -> None:
    """Every kind the cards use needs its note type's id in deck.yaml."""
    first_card = {}
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
            problems.add(config.note_types_location, (
                f"'note_types' has no id for kind '{kind}', which card '{card.id}' ({card.location}) uses: "
                f"add {fix} (any whole number no other note type has; "
                "keep it forever once released, or learners' notes are orphaned)"
            ))


# ---------------------------------------------------------------- card files


def load_card_file(path: Path, problems: _Problems, cards_dir: Path) -> list[Card]:
    root = _read(path, problems)
    if root is None:
        return []
    if not isinstance(root.value, dict):
        problems.add(root.location, f"a card file must be a mapping with 'subdeck' and 'cards', not {root.kind}")
        return []
    values = root.value
    _reject_unknown_keys(values, CARD_FILE_KEYS, "a card file", problems)
    subdeck = _required_text(values, "subdeck", root.location, problems) or ""
    file_tags = _tags(values.get("tags"), problems)
    cards_node = values.get("cards")
    if cards_node is None:
        problems.add(root.location, "missing required key 'cards' (the list of cards)")
        return []
    if not isinstance(cards_node.value, list):
        problems.add(cards_node.location, f"'cards' must be a list of cards, not {cards_node.kind}")
        return []
    cards = []
    for node in cards_node.value:
        card = _load_card(node, subdeck, file_tags, problems, cards_dir)
        if card is not None:
            cards.append(card)
    return cards


def _load_card_file_cached(path: Path, problems: _Problems, cards_dir: Path, cache: BuildCache | None) -> tuple[list[Card], list[str]]:
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
    found = _Problems()
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


def _load_card(node: Node, subdeck: str, file_tags: tuple[str, ...], problems: _Problems, cards_dir: Path) -> Card | None:
    if not isinstance(node.value, dict):
        problems.add(node.location, f"each card must be a mapping of keys, not {node.kind}")
        return None
    values = node.value
    before = len(problems)
    card_id = _required_text(values, "id", node.location, problems)
    if card_id and not ID_PATTERN.match(card_id):
        problems.add(values["id"].location, f"id '{card_id}' must be a slug: lowercase letters, digits and single hyphens")
    kind_name = _required_text(values, "kind", node.location, problems)
    kind = KINDS.get(kind_name or "")
    if kind_name and kind is None:
        problems.add(values["kind"].location, f"unknown kind '{kind_name}'{_suggest(kind_name, KINDS)}; kinds are: {', '.join(KINDS)}")
    if kind is None:
        return None
    label = f"card '{card_id}'" if card_id else "this card"
    _reject_unknown_keys(values, COMMON_KEYS + kind.source_keys, f"a {kind.name} card", problems)
    text, text_locations = {}, {}
    for key in kind.required:
        value = _required_text(values, key, node.location, problems, label)
        if value is not None and not value.strip():
            problems.add(values[key].location, f"{label}: '{key}' is empty")
        text[key], text_locations[key] = value or "", values[key].location if key in values else node.location
    for key in kind.optional:
        value = _optional_text(values, key, problems)
        if value is not None:
            text[key], text_locations[key] = value, values[key].location
    card = Card(
        id=card_id or "",
        kind=kind.name,
        text=text,
        subdeck=subdeck,
        location=node.location,
        text_locations=text_locations,
        tags=tuple(sorted(set(file_tags) | set(_tags(values.get("tags"), problems)))),
        level=_level(values, problems),
        zh=_optional_text(values, "zh", problems),  # its location joins text_locations below
        figure=_optional_text(values, "figure", problems),
        figure_location=values["figure"].location if "figure" in values else None,
        covers=_text_list(values.get("covers"), "covers", problems),
        aliases=_aliases(values.get("aliases"), problems),
        reverse=_boolean(values.get("reverse"), problems),
        retired=_boolean(values.get("retired"), problems),
        language=_optional_text(values, "language", problems) or "python",
    )
    if card.zh is not None:
        card.text_locations["zh"] = values["zh"].location
    for file_key in kind.options:
        if file_key in FILE_KEYS:
            _load_text_or_file(card, FILE_KEYS[file_key], file_key, values, node.location, problems, cards_dir, label)
    for first, second in kind.pairs:
        for key, other in ((first, second), (second, first)):
            if key in text and other not in text:
                problems.add(values[key].location, f"{label}: '{key}' needs a '{other}'")
    for key, message in kind.source_problems(card):
        problems.add(values[key].location if key in values else node.location, f"{label}: {message}")
    return card if len(problems) == before else None


def _load_text_or_file(card: Card, key: str, file_key: str, values: dict[str, Node], where: Location, problems: _Problems,
                       cards_dir: Path, label: str) -> None:
    """A text written inline (`code:`) or read from a file under cards/ (`code_file:`): exactly one."""
    inline, file_node = values.get(key), values.get(file_key)
    if (inline is None) == (file_node is None):
        problems.add(where, f"{label}: a {card.kind} card needs exactly one of '{key}' or '{file_key}'")
        return
    if inline is not None:
        if not card.text.get(key, "").strip():
            problems.add(inline.location, f"{label}: '{key}' is empty")
        return
    relative = _optional_text(values, file_key, problems)
    if relative is None:  # also a path with a NUL: _text refused it, with its position
        return
    path = (cards_dir / relative).resolve()
    if cards_dir.resolve() not in path.parents:
        problems.add(file_node.location, f"{label}: {file_key} '{relative}' must be inside {cards_dir}")
        return
    if not _regular_file(path) and path.exists():
        problems.add(file_node.location, f"{label}: {file_key} '{relative}' is not a regular file (a folder, FIFO or device is never read)")
        return
    try:
        code = _read_regular_text(path)
    except (OSError, UnicodeDecodeError):
        problems.add(file_node.location, f"{label}: {file_key} '{relative}' cannot be read (missing or not UTF-8 text)")
        return
    long_line = long_line_problem(code)
    if long_line:
        problems.add(file_node.location, f"{label}: {file_key} '{relative}' {long_line}")
        return
    if not code.strip():
        problems.add(file_node.location, f"{label}: {file_key} '{relative}' is empty")
    unstorable = _unstorable_character(code)
    if unstorable:
        problems.add(file_node.location, f"{label}: {file_key} '{relative}' {unstorable}")
    card.text[key] = code
    card.text_locations[key] = file_node.location
    card.code_file = relative


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _read_regular_text(path: Path) -> str:
    """The file's text, refusing (without blocking) anything that became a FIFO or device since
    it was checked: O_NONBLOCK keeps open() of a FIFO from waiting for a writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        return handle.read().decode("utf-8")


def _check_unique_ids(cards: list[Card], problems: _Problems) -> None:
    first_seen: dict[str, Card] = {}
    for card in cards:
        for claimed in (card.id, *card.aliases):
            other = first_seen.get(claimed)
            if other is not None and other is not card:
                what = f"id '{claimed}'" if claimed == card.id else f"card '{card.id}': alias '{claimed}'"
                if other.retired or card.retired:
                    problems.add(card.location, f"{what} belongs to the retired card at {other.location}; a retired id is never reused (learners still have its note): choose a new id")
                else:
                    problems.add(card.location, f"{what} is already used by the card at {other.location}")
            first_seen.setdefault(claimed, card)


# ---------------------------------------------------------------- typed values


def _read(path: Path, problems: _Problems) -> Node | None:
    from .yamlsource import read_yaml

    try:
        return read_yaml(path)
    except SourceError as error:
        problems.extend(error.problems)
        return None


def _reject_unknown_keys(values: dict[str, Node], allowed: tuple[str, ...], where: str, problems: _Problems) -> None:
    for key, node in values.items():
        if key not in allowed:
            problems.add(node.location, f"unknown key '{key}' in {where}{_suggest(key, allowed)}")


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _required_text(values: dict[str, Node], key: str, where: Location, problems: _Problems, label: str = "") -> str | None:
    if key not in values:
        prefix = f"{label}: " if label else ""
        problems.add(where, f"{prefix}missing required key '{key}'")
        return None
    node = values[key]
    if node.value is None:
        problems.add(node.location, f"{label + ': ' if label else ''}'{key}' is empty")
        return None
    return _text(node, key, problems)


def _optional_text(values: dict[str, Node], key: str, problems: _Problems) -> str | None:
    node = values.get(key)
    if node is None or node.value is None:
        return None
    return _text(node, key, problems)


def _text(node: Node, key: str, problems: _Problems) -> str | None:
    if not isinstance(node.value, str):
        problems.add(node.location, f"'{key}' must be text, not a {node.kind}")
        return None
    unstorable = _unstorable_character(node.value)
    if unstorable:
        problems.add(node.location, f"'{key}' {unstorable}")
        return None
    if key == "code":  # highlighted by Pygments, not parsed as Markdown
        shape = [problem for problem in [long_line_problem(node.value)] if problem]
    else:
        shape = text_shape_problems(node.value)
    for problem in shape:
        problems.add(node.location, f"'{key}' {problem}")
    return node.value if not shape else None


# C0 control characters but tab and newline. Anki joins a note's fields with U+001F, so one in a
# field makes a note with a field too many and the importer rejects the whole deck; a NUL or a
# backspace would be stored as it is, invisible. YAML writes them only as escapes ("\x1f").
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f]")
_CONTROL_NAMES = {0x00: "NUL", 0x1F: "Anki's field separator"}


def _unstorable_character(text: str) -> str | None:
    match = _UNSTORABLE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    name = _CONTROL_NAMES.get(code, "a control character")
    return f"contains U+{code:04X} ({name}) at character {match.start() + 1}, which an Anki note cannot hold: remove it"


def _required_int(values: dict[str, Node], key: str, where: Location, problems: _Problems) -> int | None:
    text = _required_text(values, key, where, problems)
    if text is None:
        return None
    if not re.fullmatch(r"[1-9][0-9]*", text) or int(text) > MAX_ANKI_ID:
        problems.add(values[key].location, f"'{key}' must be a positive whole number below 2^63, not '{text}'")
        return None
    return int(text)


def _text_list(node: Node | None, key: str, problems: _Problems) -> tuple[str, ...]:
    if node is None or node.value is None:
        return ()
    if not isinstance(node.value, list):
        problems.add(node.location, f"'{key}' must be a list, not {node.kind}")
        return ()
    items = []
    for item in node.value:
        if not isinstance(item.value, str) or not item.value.strip():
            problems.add(item.location, f"each entry of '{key}' must be non-empty text")
        else:
            items.append(item.value)
    return tuple(items)


def _aliases(node: Node | None, problems: _Problems) -> tuple[str, ...]:
    # An alias is searched for in Anki (`mathdeck push`): a slug like an id, never a pattern.
    for item in node.value if node is not None and isinstance(node.value, list) else ():
        if isinstance(item.value, str) and item.value.strip() and not ID_PATTERN.match(item.value):
            problems.add(item.location, f"alias '{item.value}' must be a slug like an id: lowercase letters, digits and single hyphens")
    return _text_list(node, "aliases", problems)


def _tags(node: Node | None, problems: _Problems) -> tuple[str, ...]:
    tags = _text_list(node, "tags", problems)
    for tag in tags:
        if not TAG_PATTERN.match(tag):
            problems.add(node.location, f"tag '{tag}' may hold only letters, digits and _ . : + - (Anki splits tags on spaces)")
    return tags


def _level(values: dict[str, Node], problems: _Problems) -> str | None:
    level = _optional_text(values, "level", problems)
    if level is not None and level not in LEVELS:
        problems.add(values["level"].location, f"level '{level}' must be one of {', '.join(LEVELS)}")
        return None
    return level


def _boolean(node: Node | None, problems: _Problems) -> bool:
    if node is None or node.value is None:
        return False
    if node.value in ("true", "false"):
        return node.value == "true"
    problems.add(node.location, f"must be true or false, not '{node.value}'")
    return False
