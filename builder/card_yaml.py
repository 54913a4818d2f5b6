"""Editing card files in place: one value of one card replaced, everything else byte for byte.

A round-trip YAML library (ruamel.yaml) re-emits the whole document with its own indentation,
line width and quoting; here the composer the loader uses (PyYAML's libyaml, 30 times faster than
ruamel's) only finds where a value stands (its nodes carry the character offsets of every scalar)
and the new value is written into the original text at that span, so nothing else can change.
Multi-line text becomes a literal block (`|`), one line keeps the quoting it had (or the plainest
that reads back the same), and every edit is read back, by the same parser, before it is accepted.
"""

from __future__ import annotations

import json

from .yaml_loader import pyyaml

MULTI_LINE_STYLE = "|"


class YamlEditError(ValueError):
    """The card or key cannot be found, or the edited text would not read back as written."""


def _compose(text: str):
    yaml = pyyaml()
    return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _card_node(root, card_id: str):
    cards = _value_of(root, "cards")
    if cards is None or not hasattr(cards, "value") or not isinstance(cards.value, list):
        raise YamlEditError("the file has no `cards:` list")
    for item in cards.value:
        id_node = _value_of(item, "id")
        if id_node is not None and id_node.value == card_id:
            return item
    raise YamlEditError(f"no card with id '{card_id}' in the file")


def _value_of(mapping, key: str):
    if mapping is None or not isinstance(getattr(mapping, "value", None), list):
        return None
    for key_node, value_node in mapping.value:
        if isinstance(key_node.value, str) and key_node.value == key:
            return value_node
    return None


def read_value(text: str, card_id: str, key: str) -> str | None:
    value = _value_of(_card_node(_compose(text), card_id), key)
    return None if value is None else value.value


def set_value(text: str, card_id: str, key: str, value: str) -> str:
    """`text` with card `card_id`'s `key` set to `value` (added as its last key if absent)."""
    card = _card_node(_compose(text), card_id)
    indent = card.value[0][0].start_mark.column
    node = _value_of(card, key)
    if node is None:
        edited = _add_key(text, card, indent, key, value)
    else:
        start, end = node.start_mark.index, _end_of_value(text, node)
        written = scalar_text(value, indent, getattr(node, "style", None))
        if written.endswith("\n") and text[end - 1 : end] != "\n":
            end = _end_of_line(text, end)
        edited = text[:start] + written + text[end:]
    if read_value(edited, card_id, key) != value:
        raise YamlEditError(f"'{key}' of card '{card_id}' would not read back as written")
    return edited


def _end_of_value(text: str, node) -> int:
    """Where a value ends: a block scalar's span runs on over the blank lines after it (they
    separate cards), which are not its text unless it keeps them (`|+`)."""
    start, end = node.start_mark.index, node.end_mark.index
    if getattr(node, "style", None) in ("|", ">") and not text[start:end].split("\n", 1)[
        0
    ].rstrip().endswith("+"):
        content = text[start:end].rstrip(" \t\n")
        return _end_of_line(text, start + len(content))
    return end


def _end_of_line(text: str, position: int) -> int:
    """Just after the line break that ends the line holding `position` (or the end of the text)."""
    newline = text.find("\n", position)
    return len(text) if newline < 0 else newline + 1


def _add_key(text: str, card, indent: int, key: str, value: str) -> str:
    end = _end_of_value(text, card.value[-1][1])
    if text[end - 1 : end] != "\n":  # a one-line value: the new key goes on the next line
        if "\n" not in text[end:]:
            text += "\n"
        end = _end_of_line(text, end)
    line = " " * indent + f"{key}: " + scalar_text(value, indent, None)
    return text[:end] + (line if line.endswith("\n") else line + "\n") + text[end:]


def scalar_text(value: str, indent: int, style: str | None) -> str:
    """How `value` is written after `key: ` in a mapping whose keys start at column `indent`."""
    if "\n" in value.rstrip("\n") or style == MULTI_LINE_STYLE:
        return _literal(value, indent + 2)
    for candidate in _one_line_forms(value, style):
        if _reads_back(candidate, value):
            return candidate
    return json.dumps(value, ensure_ascii=False)


def _one_line_forms(value: str, style: str | None) -> list[str]:
    plain, single, double = (
        value,
        "'" + value.replace("'", "''") + "'",
        json.dumps(value, ensure_ascii=False),
    )
    order = {"'": [single, plain, double], '"': [double, single, plain]}.get(
        style or "", [plain, single, double]
    )
    return [form for form in order if "\n" not in form]


def _reads_back(written: str, value: str) -> bool:
    yaml = pyyaml()
    try:
        node = _compose(f"key: {written}\n")
    except yaml.YAMLError:
        return False
    found = _value_of(node, "key")
    # the loader reads every scalar as its text, but a plain `~` or nothing at all is no value
    return found is not None and found.value == value and not found.tag.endswith(":null")


def _literal(value: str, indent: int) -> str:
    body = value.rstrip("\n")
    trailing = len(value) - len(body)
    chomping = {0: "-", 1: ""}.get(trailing, "+")
    indicator = (
        str(2) if body[:1] in (" ", "\t") else ""
    )  # a body starting with a space needs its indentation said
    lines = "".join((" " * indent + line if line else "") + "\n" for line in body.split("\n"))
    return f"|{indicator}{chomping}\n" + lines + "\n" * max(trailing - 1, 0)


def append_cards(text: str | None, subdeck: str, cards: list[dict[str, str]]) -> str:
    """A card file (`text`, or a new one for `subdeck`) with `cards` (key → text, in order) at the
    end of its `cards:` list."""
    text = text if text is not None else f"subdeck: {scalar_text(subdeck, 0, None)}\ncards:\n"
    if text and not text.endswith("\n"):
        text += "\n"
    for card in cards:
        entry = []
        for number, (key, value) in enumerate(card.items()):
            written = scalar_text(value, 4, None)
            entry.append(
                ("  - " if number == 0 else "    ")
                + f"{key}: "
                + (written if written.endswith("\n") else written + "\n")
            )
        text += ("\n" if not text.endswith("cards:\n") else "") + "".join(entry)
    return text
