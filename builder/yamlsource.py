"""Safe YAML reading that remembers where every value came from.

Why not yaml.safe_load: we need line numbers for every value, all scalars as the text the author
wrote (YAML 1.1 would turn `no` into False and `2024-05-01` into a date), and no way for
hostile input (alias bombs, huge files, deep nesting) to eat the machine.

PyYAML is imported when a file is parsed, not with this module: a build whose card files all
come from the parsed-cards cache may need none, and the schema modules use Node at import
(yaml_loader.py imports it, and makes its loader).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .problems import Location, Problem, SourceError
from .yaml_loader import NULL_FORMS, NULL_TAG, pyyaml, text_loader

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 12


if TYPE_CHECKING:
    import yaml


class Node:
    """A YAML value with where it is written: str for scalars, list[Node], or dict[str, Node].

    `location` is its line alone: what a Card keeps (cached by line, so a card read from the cache
    and one parsed afresh are equal). `at` adds the column, for problems found while reading;
    `key_at` is where the key of a mapping's value is written (an unknown key is reported there).
    Each is made when asked for: a card file has ~2,300 values and keys, and most Locations were
    never read (a third of converting a 20,000-card deck's YAML). A plain class (builder/records.py
    says why): nodes are read, never compared.
    """

    __slots__ = ("column", "file", "key_mark", "line", "value")

    def __init__(
        self,
        value: str | list[Node] | dict[str, Node] | None,
        file: Path,
        line: int,
        column: int = 0,
        key_mark: tuple[int, int] | None = None,  # (line, column) of its key, in a mapping
    ) -> None:
        self.value = value
        self.file = file
        self.line = line
        self.column = column
        self.key_mark = key_mark

    @property
    def location(self) -> Location:
        return Location(self.file, self.line)

    @property
    def at(self) -> Location:
        return Location(self.file, self.line, self.column)

    @property
    def key_at(self) -> Location | None:
        return Location(self.file, *self.key_mark) if self.key_mark else None

    @property
    def kind(self) -> str:
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, list):
            return "list"
        if self.value is None:
            return "empty value"
        return "text"


def read_yaml(path: Path, text: str | None = None) -> Node:
    """Parse one YAML file into Nodes, or raise SourceError naming the file and line."""
    if text is None:
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise SourceError(
                [Problem(Location(path), f"cannot read file: {error.strerror}", code=UNREADABLE)]
            ) from None
        if len(raw) > MAX_FILE_BYTES:
            raise SourceError(
                [
                    Problem(
                        Location(path),
                        f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}",
                        code=UNREADABLE,
                    )
                ]
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError([not_utf8_problem(path, raw, error)]) from None
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SourceError(
            [
                Problem(
                    Location(path), f"file is larger than {MAX_FILE_BYTES:,} bytes", code=UNREADABLE
                )
            ]
        )
    yaml = pyyaml()
    try:
        root = yaml.compose(text, Loader=text_loader())
    except yaml.MarkedYAMLError as error:
        raise SourceError([_syntax_problem(path, text, error)]) from None
    except yaml.YAMLError as error:
        raise SourceError(
            [Problem(Location(path), f"malformed YAML: {error}", code=MALFORMED)]
        ) from None
    except RecursionError:
        raise SourceError(
            [Problem(Location(path), "malformed YAML: nesting is too deep", code=HOSTILE)]
        ) from None
    if root is None:
        return Node(None, path, 1, 1)
    return _convert(root, path, depth=0, seen=set())


# Codes of problems met while reading a file (README, "Problem codes").
UNREADABLE = "MD100"  # missing, unreadable, too large, not UTF-8


def not_utf8_problem(path: Path, data: bytes, error: UnicodeDecodeError, fix: str = "") -> Problem:
    """`path:line:column: MD100 not UTF-8 text (byte 0xe9)`, at the first byte that is not (the
    column counts bytes: the line's text cannot be decoded to count characters)."""
    line_start = data.rfind(b"\n", 0, error.start) + 1
    where = Location(path, data.count(b"\n", 0, error.start) + 1, error.start - line_start + 1)
    message = f"not UTF-8 text (byte 0x{data[error.start]:02x}){fix}"
    return Problem(where, message, code=UNREADABLE)


MALFORMED = "MD101"  # a YAML syntax error, with a plain-language hint
HOSTILE = "MD102"  # aliases, nesting too deep
DUPLICATE_KEY = "MD103"

# PyYAML's words (C and pure-Python loaders say some of them differently) → what to do about it.
_HINTS = (
    (
        "mapping values are not allowed",
        "a value that contains ': ' must be quoted ('...') or written as a block (|)",
    ),
    (
        "cannot start any token",
        "indent with spaces, never tabs; quote a value that starts with @, ` or %",
    ),
    (
        "unknown escape character",
        "inside double quotes a backslash starts an escape: write TeX in single quotes or a block "
        "(|)",
    ),
    (
        "expected ',' or ']'",
        "a value that starts with [ is read as a list: close it with ], or quote the value",
    ),
    (
        "expected ',' or '}'",
        "a value that starts with { is read as a mapping: close it with }, or quote the value",
    ),
    (
        "could not find expected ':'",
        "a line that continues a value must be indented more than its key, or quote the value",
    ),
    ("expected <block end>", "this line is indented differently from the keys around it"),
    ("did not find expected key", "this line is indented differently from the keys around it"),
    ("did not find expected '-' indicator", "a list item needs '- ' at the list's indentation"),
    ("end of stream", "a quote is opened and never closed"),
)


def _syntax_problem(path: Path, text: str, error: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error at the spot to fix, in the parser's words plus what to do about it.
    An unclosed quote is reported where it opens, not at the end of the file."""
    message = error.problem or error.context or "malformed YAML"
    mark = error.problem_mark or error.context_mark
    if "end of stream" in message and error.context_mark is not None:
        mark = error.context_mark
    hint = next((hint for words, hint in _HINTS if words in message), None)
    if "cannot start any token" in message and mark is not None and _char_at(text, mark) == "\t":
        hint = "indent with spaces: YAML does not allow tabs"
    where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
    return Problem(
        where, f"malformed YAML: {message}" + (f" ({hint})" if hint else ""), code=MALFORMED
    )


def _char_at(text: str, mark) -> str:
    lines = text.splitlines()
    return lines[mark.line][mark.column : mark.column + 1] if mark.line < len(lines) else ""


def _mark(path: Path, node: yaml.Node) -> Location:
    return Location(path, node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: yaml.Node, path: Path, depth: int, seen: set[int]) -> Node:
    if depth > MAX_DEPTH:
        raise SourceError(
            [Problem(_mark(path, node), f"nesting deeper than {MAX_DEPTH} levels", code=HOSTILE)]
        )
    # An alias makes the composer hand us the same node object twice. Expanding aliases is how
    # "billion laughs" bombs work, and card sources have no use for them: refuse outright.
    if id(node) in seen:
        raise SourceError(
            [
                Problem(
                    _mark(path, node),
                    "YAML anchors and aliases (&name / *name) are not allowed",
                    code=HOSTILE,
                )
            ]
        )
    seen.add(id(node))
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    # PyYAML's node classes name their kind in `id` ("scalar", "sequence", "mapping"); its type
    # stubs leave it out. (isinstance would need PyYAML imported with this module.)
    if node.id == "scalar":  # type: ignore[attr-defined]
        if node.tag == NULL_TAG and node.value in NULL_FORMS:
            return Node(None, path, line, column)
        return Node(node.value, path, line, column)
    if node.id == "sequence":  # type: ignore[attr-defined]
        return Node(
            [_convert(item, path, depth + 1, seen) for item in node.value], path, line, column
        )
    mapping: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        if key_node.id != "scalar":
            raise SourceError(
                [Problem(Location(path, *key_mark), "a key must be plain text", code=MALFORMED)]
            )
        if key_node.value in mapping:
            first = mapping[key_node.value].key_mark or key_mark
            raise SourceError(
                [
                    Problem(
                        Location(path, *key_mark),
                        f"duplicate key '{key_node.value}' (first at line {first[0]})",
                        code=DUPLICATE_KEY,
                    )
                ]
            )
        value = _convert(value_node, path, depth + 1, seen)
        value.key_mark = key_mark
        if value.value is None:  # an empty value is where its key is
            value.line, value.column = key_mark
        mapping[key_node.value] = value
    return Node(mapping, path, line, column)
