"""The value types of the declarative schema (fields.py): each checks one located node and
returns its Python value, or INVALID after adding a problem with its code. Text is refused when it
holds a character a note cannot hold or a shape that slows Markdown down."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .bounds import long_line_problem, text_shape_problems
from .fields import (
    BAD_VALUE,
    EMPTY,
    INVALID,
    MAX_ANKI_ID,
    UNSTORABLE,
    WRONG_TYPE,
    Found,
    ValueType,
)
from .yamlsource import Node


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
