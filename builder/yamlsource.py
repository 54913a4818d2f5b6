"""Safe YAML reading that remembers where every value came from.

Why not yaml.safe_load: we need line numbers for every value, all scalars as the text the author
wrote (YAML 1.1 would turn `no` into False and `2024-05-01` into a date), and no way for
hostile input (alias bombs, huge files, deep nesting) to eat the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

import yaml

from .problems import Location, Problem, SourceError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 12

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Node:
    """A YAML value with its 1-based line: str for scalars, list[Node], or dict[str, Node]."""

    value: Union[str, list["Node"], dict[str, "Node"], None]
    location: Location

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
            raise SourceError([Problem(Location(path), f"cannot read file: {error.strerror}")])
        if len(raw) > MAX_FILE_BYTES:
            raise SourceError([Problem(Location(path), f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError([Problem(Location(path), f"not UTF-8 text (byte {error.start})")])
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise SourceError([Problem(Location(path), f"file is larger than {MAX_FILE_BYTES:,} bytes")])
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        message = error.problem or error.context or "malformed YAML"
        raise SourceError([Problem(Location(path, line), f"malformed YAML: {message}")])
    except yaml.YAMLError as error:
        raise SourceError([Problem(Location(path), f"malformed YAML: {error}")])
    except RecursionError:
        raise SourceError([Problem(Location(path), "malformed YAML: nesting is too deep")])
    if root is None:
        return Node(None, Location(path, 1))
    return _convert(root, path, depth=0, seen=set())


def _convert(node: yaml.Node, path: Path, depth: int, seen: set[int]) -> Node:
    location = Location(path, node.start_mark.line + 1)
    if depth > MAX_DEPTH:
        raise SourceError([Problem(location, f"nesting deeper than {MAX_DEPTH} levels")])
    # An alias makes the composer hand us the same node object twice. Expanding aliases is how
    # "billion laughs" bombs work, and card sources have no use for them: refuse outright.
    if id(node) in seen:
        raise SourceError([Problem(location, "YAML anchors and aliases (&name / *name) are not allowed")])
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~", "null", "Null", "NULL"):
            return Node(None, location)
        return Node(node.value, location)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(item, path, depth + 1, seen) for item in node.value], location)
    mapping: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key_location = Location(path, key_node.start_mark.line + 1)
        if not isinstance(key_node, yaml.ScalarNode):
            raise SourceError([Problem(key_location, "a key must be plain text")])
        if key_node.value in mapping:
            raise SourceError([Problem(key_location, f"duplicate key '{key_node.value}'")])
        value = _convert(value_node, path, depth + 1, seen)
        if value.value is None:
            value.location = key_location
        mapping[key_node.value] = value
    return Node(mapping, location)
