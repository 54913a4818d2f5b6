"""One card file (cards/<anything>.yaml) → its Cards, read against the schema (schema.py).

A card with a problem is left out and its problems are reported; the file's other cards are
kept, so the checks after load still judge them (every problem of every phase in one run).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .bounds import long_line_problem
from .fields import BAD_VALUE, EMPTY, WRONG_TYPE, Found, Schema, Values, read
from .kinds import FILE_KEYS
from .model import KINDS, Card
from .problems import Problem, SourceError, did_you_mean
from .schema import CARD_FILE, CARD_LINT, COMMON_FIELDS, card_schema, lint_settings
from .value_types import unstorable_character
from .yamlsource import Node, read_yaml

NOT_REGULAR = "not a regular file (a folder, FIFO or device is never read): remove it or rename it"
CODE_FILE = "MD116"  # a code_file that cannot be used
KIND_RULE = (
    "MD117"  # a rule of the card's kind: a key pair, one of code/code_file, a cloze deletion
)
_CARD_SCHEMAS = {name: card_schema(kind) for name, kind in KINDS.items()}
_ANY_CARD = Schema("a card", COMMON_FIELDS)


def read_source(path: Path, found: Found) -> Node | None:
    """The file's located YAML, or None after adding why it cannot be read."""
    try:
        return read_yaml(path)
    except SourceError as error:
        found.extend(error.problems)
        return None


def load_card_file(path: Path, problems: list[Problem], cards_dir: Path) -> list[Card]:
    """The file's cards that have no problem; the problems of the others (and the file's) added."""
    found = Found()
    cards = _cards(path, found, cards_dir)
    problems.extend(found)
    return cards


def _cards(path: Path, found: Found, cards_dir: Path) -> list[Card]:
    root = read_source(path, found)
    if root is None:
        return []
    values = read(
        root,
        CARD_FILE,
        found,
        not_a_mapping=f"a card file must be a mapping with 'subdeck' and 'cards', not {root.kind}",
    )
    if values is None or "cards" not in values.values:
        return []
    subdeck, file_tags = values.get("subdeck", ""), values.get("tags", ())
    cards = [
        _load_card(node, subdeck, file_tags, found, cards_dir) for node in values.values["cards"]
    ]
    return [card for card in cards if card is not None]


def _load_card(
    node: Node, subdeck: str, file_tags: tuple[str, ...], found: Found, cards_dir: Path
) -> Card | None:
    if not isinstance(node.value, dict):
        found.add(node.at, f"each card must be a mapping of keys, not {node.kind}", WRONG_TYPE)
        return None
    before = len(found)
    written_id = node.value.get("id")
    label = (
        f"card '{written_id.value}'"
        if written_id is not None and isinstance(written_id.value, str)
        else "this card"
    )
    kind_node = node.value.get("kind")
    kind = (
        KINDS.get(kind_node.value)
        if kind_node is not None and isinstance(kind_node.value, str)
        else None
    )
    if kind is None:  # its keys cannot be judged without a kind: only id and kind
        values = read(node, _ANY_CARD, found, label, strict=False)
        if (
            values is not None
            and kind_node is not None
            and isinstance(kind_node.value, str)
            and "kind" in values.values
        ):
            close = did_you_mean(kind_node.value, KINDS)
            hint = f" (did you mean '{close}'?)" if close else ""
            found.add(
                kind_node.at,
                f"unknown kind '{kind_node.value}'{hint}; kinds are: {', '.join(KINDS)}",
                BAD_VALUE,
            )
        return None
    values = read(node, _CARD_SCHEMAS[kind.name], found, label)
    if values is None:  # not a mapping: refused above already
        return None
    for key in kind.required:
        if isinstance(values.get(key), str) and not values.get(key).strip():
            found.add(values.nodes[key].at, f"{label}: '{key}' is empty", EMPTY)
    text = {
        key: values.get(key)
        for key in kind.required + kind.optional
        if isinstance(values.get(key), str)
    }
    card = Card(
        id=values.get("id", ""),
        kind=kind.name,
        text=text,
        subdeck=subdeck,
        location=node.location,
        text_locations={key: values.at(key) for key in text},
        tags=tuple(sorted(set(file_tags) | set(values.get("tags", ())))),
        level=values.get("level"),
        zh=values.get("zh"),
        figure=values.get("figure"),
        figure_location=values.at("figure") if "figure" in values.nodes else None,
        covers=values.get("covers", ()),
        aliases=values.get("aliases", ()),
        reverse=values.get("reverse", False),
        retired=values.get("retired", False),
        language=values.get("language") or "python",
        lint=lint_settings(values.get("lint"), CARD_LINT, found),
    )
    if card.zh is not None:
        card.text_locations["zh"] = values.at("zh")
    _kind_rules(card, kind, values, label, found, cards_dir)
    return card if len(found) == before else None


def _kind_rules(
    card: Card, kind, values: Values, label: str, found: Found, cards_dir: Path
) -> None:
    """What the schema cannot say: a text from a file, paired keys, the kind's own rules."""
    at = lambda key: values.nodes[key].at if key in values.nodes else values.node.at  # noqa: E731
    for file_key in kind.options:
        if file_key in FILE_KEYS:
            _load_text_or_file(card, FILE_KEYS[file_key], file_key, values, label, found, cards_dir)
    for first, second in kind.pairs:
        for key, other in ((first, second), (second, first)):
            if key in card.text and other not in card.text:
                found.add(at(key), f"{label}: '{key}' needs a '{other}'", KIND_RULE)
    for key, message in kind.source_problems(card):
        found.add(at(key), f"{label}: {message}", KIND_RULE)


def _load_text_or_file(
    card: Card, key: str, file_key: str, values: Values, label: str, found: Found, cards_dir: Path
) -> None:
    """A text written inline (`code:`) or read from a file under cards/ (`code_file:`): one."""
    inline, file_node = values.nodes.get(key), values.nodes.get(file_key)
    if (inline is None) == (file_node is None):
        found.add(
            values.node.at,
            f"{label}: a {card.kind} card needs exactly one of '{key}' or '{file_key}'",
            KIND_RULE,
        )
        return
    if file_node is None:  # written inline
        if not card.text.get(key, "").strip():
            found.add(
                values.node.at if inline is None else inline.at, f"{label}: '{key}' is empty", EMPTY
            )
        return
    relative = values.get(file_key)
    if relative is None:  # also a path with a NUL: the schema refused it, with its position
        return
    code_problem, code = _code_file_problem(cards_dir, relative)
    if code_problem:
        found.add(file_node.at, f"{label}: {file_key} '{relative}' {code_problem}", CODE_FILE)
    if code is not None:
        card.text[key] = code
        card.text_locations[key] = file_node.location
        card.code_file = relative


def _code_file_problem(cards_dir: Path, relative: str) -> tuple[str | None, str | None]:
    """(what is wrong with the file, its text when it can be used)."""
    path = (cards_dir / relative).resolve()
    if cards_dir.resolve() not in path.parents:
        return f"must be inside {cards_dir}", None
    if not regular_file(path) and path.exists():
        return "is not a regular file (a folder, FIFO or device is never read)", None
    try:
        code = read_regular_text(path)
    except (OSError, UnicodeDecodeError):
        return "cannot be read (missing or not UTF-8 text)", None
    long_line = long_line_problem(code)
    if long_line:
        return long_line, None
    if not code.strip():
        return "is empty", code
    return unstorable_character(code), code


def regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def read_regular_text(path: Path) -> str:
    """The file's text, refusing (without blocking) anything that became a FIFO or device since
    it was checked: O_NONBLOCK keeps open() of a FIFO from waiting for a writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        return handle.read().decode("utf-8")
