"""fields: the declarative schema's building blocks over yamlsource's located nodes.

A `Schema` is a tuple of `Field`s, each a key, a value type and whether it is required; schema.py
declares one per input file. `read()` checks a mapping against one: unknown keys (with a
did-you-mean, at the key's line and column), missing keys, wrong types and malformed values are
problems with a code (README, "Problem codes"), all of them at once; what is valid comes back as
plain Python values, with the nodes as written (for the lines a Card keeps).

Why not pydantic: its errors carry a path of keys, not a line and column, and mapping each one
back to the YAML would cost as much as these types, plus its import on every load.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from .bounds import long_line_problem, text_shape_problems
from .problems import Location, Problem, did_you_mean
from .records import Record
from .yamlsource import Node

# Codes of problems the schema finds (README, "Problem codes").
UNKNOWN_KEY = "MD110"
MISSING_KEY = "MD111"
WRONG_TYPE = "MD112"
BAD_VALUE = "MD113"
EMPTY = "MD114"
UNSTORABLE = "MD115"  # a character a note cannot hold, or text shaped to slow the build down

MAX_ANKI_ID = 2**63 - 1
INVALID = object()  # what a value type returns after reporting a problem


class Found(list):
    """The problems found so far (a list of Problem)."""

    def add(self, where: Location, message: str, code: str = "") -> None:
        self.append(Problem(where, message, code=code))


# A value type checks one node: its Python value, or INVALID after adding a problem.
ValueType = Callable[[Node, str, "Found"], Any]


class Field(Record):
    __slots__ = field_names = ("name", "type", "required")
    name: Final[str]
    type: Final[ValueType]
    required: Final[bool]

    def __init__(self, name: str, type: ValueType, required: bool = False) -> None:
        self.name = name
        self.type = type
        self.required = required


class Schema(Record):
    field_names = ("what", "fields")
    __slots__ = (*field_names, "by_name")
    what: Final[str]  # how messages name the mapping: "deck.yaml", "a qa card", "a section"
    fields: Final[tuple[Field, ...]]
    by_name: Final[dict[str, Field]]  # made once per schema, read for every mapping

    def __init__(self, what: str, fields: tuple[Field, ...]) -> None:
        self.what = what
        self.fields = fields
        self.by_name = {f.name: f for f in fields}

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.by_name)


class Values:
    """A mapping read against its schema: the valid values, and the nodes as written. (A plain
    class: builder/records.py says why.)"""

    __slots__ = ("node", "nodes", "ok", "values")

    def __init__(self, values: dict[str, Any], nodes: dict[str, Node], node: Node, ok: bool):
        self.values = values
        self.nodes = nodes
        self.node = node
        self.ok = ok  # no problem in this mapping

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def at(self, key: str) -> Location:
        """The line of `key`'s value, or of the mapping without it (what a Card keeps)."""
        return self.nodes[key].location if key in self.nodes else self.node.location


def read(
    node: Node,
    schema: Schema,
    found: Found,
    label: str = "",
    not_a_mapping: str = "",
    strict: bool = True,
) -> Values | None:
    """`node` checked against `schema`; None when it is not a mapping at all. `label` ("card 'x'")
    starts the messages about missing and empty keys; `strict=False` leaves other keys alone (a
    card of an unknown kind: its keys cannot be judged)."""
    if not isinstance(node.value, dict):
        found.add(
            node.at,
            not_a_mapping or f"{schema.what} must be a mapping, not {node.kind}",
            WRONG_TYPE,
        )
        return None
    before = len(found)
    fields = schema.by_name
    prefix = f"{label}: " if label else ""
    for key, written in node.value.items():
        if key not in fields and strict:
            found.add(
                written.key_at or written.at,
                f"unknown key '{key}' in {schema.what}{suggestion(key, schema.keys)}",
                UNKNOWN_KEY,
            )
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        value = node.value.get(name)
        if value is None:
            if spec.required:
                found.add(node.at, f"{prefix}missing required key '{name}'", MISSING_KEY)
        elif value.value is None:
            if spec.required:
                found.add(value.at, f"{prefix}'{name}' is empty", EMPTY)
        else:
            checked = spec.type(value, name, found)
            if checked is not INVALID:
                values[name] = checked
    return Values(values, dict(node.value), node, len(found) == before)


def suggestion(word: str, choices) -> str:
    """' (did you mean "x"?)' for a close choice, else '; keys are: ...' to show them all."""
    close = did_you_mean(word, choices)
    return f" (did you mean '{close}'?)" if close else f"; keys are: {', '.join(choices)}"


# ---------------------------------------------------------------- value types


def text(node: Node, name: str, found: Found) -> Any:
    """Text as written, with no character a note cannot hold and no shape that slows Markdown."""
    if not isinstance(node.value, str):
        found.add(node.at, f"'{name}' must be text, not a {node.kind}", WRONG_TYPE)
        return INVALID
    unstorable = unstorable_character(node.value)
    if unstorable:
        found.add(node.at, f"'{name}' {unstorable}", UNSTORABLE)
        return INVALID
    # code is highlighted by Pygments, not parsed as Markdown
    shape = (
        [p for p in [long_line_problem(node.value)] if p]
        if name == "code"
        else text_shape_problems(node.value)
    )
    for problem in shape:
        found.add(node.at, f"'{name}' {problem}", UNSTORABLE)
    return node.value if not shape else INVALID


def matching(pattern: re.Pattern, rule: str) -> ValueType:
    """Text that matches `pattern`; `rule` completes "'<value>' must ..." (`{name}` is the key)."""

    def check(node: Node, name: str, found: Found) -> Any:
        value = text(node, name, found)
        if value is not INVALID and not pattern.match(value):
            found.add(node.at, f"{name} '{value}' {rule.format(name=name)}", BAD_VALUE)
            return INVALID
        return value

    return check


def one_of(choices: tuple[str, ...]) -> ValueType:
    def check(node: Node, name: str, found: Found) -> Any:
        value = text(node, name, found)
        if value is not INVALID and value not in choices:
            found.add(node.at, f"{name} '{value}' must be one of {', '.join(choices)}", BAD_VALUE)
            return INVALID
        return value

    return check


def anki_id(node: Node, name: str, found: Found) -> Any:
    value = text(node, name, found)
    if value is INVALID:
        return value
    if not re.fullmatch(r"[1-9][0-9]*", value) or int(value) > MAX_ANKI_ID:
        found.add(
            node.at,
            f"'{name}' must be a positive whole number below 2^63, not '{value}'",
            BAD_VALUE,
        )
        return INVALID
    return int(value)


def whole_number_in(numbers: range, meaning: str, note: str = "") -> ValueType:
    def check(node: Node, name: str, found: Found) -> Any:
        written = node.value if isinstance(node.value, str) else ""
        if not re.fullmatch(r"[0-9]{1,6}", written) or int(written) not in numbers:
            found.add(
                node.at,
                f"'{name}' must be {meaning} from {numbers.start} to {numbers.stop - 1}{note}, "
                f"not '{written or node.kind}'",
                BAD_VALUE,
            )
            return INVALID
        return int(written)

    return check


def boolean(node: Node, name: str, found: Found) -> Any:
    if node.value in ("true", "false"):
        return node.value == "true"
    found.add(
        node.at,
        f"'{name}' must be true or false, not '{_written(node)}'",
        BAD_VALUE,
    )
    return INVALID


def _written(node: Node) -> str:
    return node.value if isinstance(node.value, str) else node.kind


def text_list(item: Callable[[Node, Found], bool] | None = None) -> ValueType:
    """A list of non-empty texts; `item` may refuse one (it reports why)."""

    def check(node: Node, name: str, found: Found) -> Any:
        if not isinstance(node.value, list):
            found.add(node.at, f"'{name}' must be a list, not {node.kind}", WRONG_TYPE)
            return INVALID
        items = []
        for entry in node.value:
            if not isinstance(entry.value, str) or not entry.value.strip():
                found.add(entry.at, f"each entry of '{name}' must be non-empty text", WRONG_TYPE)
            elif item is None or item(entry, found):
                items.append(entry.value)
        return tuple(items)

    return check


def mapping_of(value: ValueType, keys: Callable[[str, Node, Found], bool], what: str) -> ValueType:
    """A mapping whose keys `keys` accepts (reporting those it refuses), each value a `value`."""

    def check(node: Node, name: str, found: Found) -> Any:
        if not isinstance(node.value, dict):
            found.add(node.at, f"'{name}' must be a mapping of {what}, not {node.kind}", WRONG_TYPE)
            return INVALID
        result = {}
        for key, item in node.value.items():
            if item.value is None:
                found.add(item.at, f"'{name}.{key}' is empty", EMPTY)
            elif keys(key, item, found):
                checked = value(item, f"{name}.{key}", found)
                if checked is not INVALID:
                    result[key] = checked
        return result

    return check


def any_mapping(node: Node, name: str, found: Found) -> Any:
    """A mapping another module checks (`lint:`): only its shape is this schema's business."""
    if not isinstance(node.value, dict):
        found.add(node.at, f"'{name}' must be a mapping, not {node.kind}", WRONG_TYPE)
        return INVALID
    return node


def nodes(node: Node, name: str, found: Found) -> Any:
    """A list whose items the caller reads against their own schema."""
    if not isinstance(node.value, list):
        found.add(node.at, f"'{name}' must be a list, not {node.kind}", WRONG_TYPE)
        return INVALID
    return node.value


# C0 control characters but tab and newline. Anki joins a note's fields with U+001F, so one in a
# field makes a note with a field too many and the importer rejects the whole deck; a NUL or a
# backspace would be stored as it is, invisible. YAML writes them only as escapes ("\x1f").
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f]")
_CONTROL_NAMES = {0x00: "NUL", 0x1F: "Anki's field separator"}


def unstorable_character(text_: str) -> str | None:
    match = _UNSTORABLE.search(text_)
    if match is None:
        return None
    code = ord(match.group())
    name = _CONTROL_NAMES.get(code, "a control character")
    return (
        f"contains U+{code:04X} ({name}) at character {match.start() + 1}, "
        "which an Anki note cannot hold: remove it"
    )
