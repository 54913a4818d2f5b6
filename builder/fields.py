"""fields: the declarative schema's building blocks over yamlsource's located nodes.

A `Schema` is a tuple of `Field`s, each a key, a value type (value_types.py) and whether it is
required; schema.py declares one per input file. `read()` checks a mapping against one: unknown
keys (with a did-you-mean, at the key's line and column), missing keys, wrong types and malformed
values are problems with a code (README, "Problem codes"), all of them at once; what is valid
comes back as plain Python values, with the nodes as written (for the lines a Card keeps).

Why not pydantic: its errors carry a path of keys, not a line and column, and mapping each one
back to the YAML would cost as much as these types, plus its import on every load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

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
