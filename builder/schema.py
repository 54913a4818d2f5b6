"""schema: what each YAML input may hold, declared once as fields (fields.py).

deck.yaml, a card file and each kind of card, outline.yaml and a seed file: the readers (load,
card_file, sheet, coverage) take their Schema from here and read their files with fields.read.
The lock file is JSON with a schema of its own (lockfile.py) that reports in the same codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .fields import BAD_VALUE, INVALID, UNKNOWN_KEY, Field, Found, Schema, read, suggestion
from .model import LEVELS, LintSettings
from .value_types import (
    anki_id,
    any_mapping,
    boolean,
    mapping_of,
    matching,
    nodes,
    one_of,
    text,
    text_list,
    whole_number_in,
)
from .yamlsource import Node

DUPLICATE = "MD120"  # an id (card, alias, seed item, outline part or section) used twice
UNKNOWN_NAME = "MD123"  # a name that refers to nothing: a seed item, an outline's subdeck or tag

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_.:+-]+$")
SEMVER_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
MACRO_NAME = re.compile(r"^[A-Za-z]+$")


def _slug_item(rule: str) -> Callable[[Node, Found], bool]:
    def check(entry: Node, found: Found) -> bool:
        if ID_PATTERN.match(str(entry.value)):
            return True
        found.add(entry.at, f"{rule.format(value=entry.value)}", BAD_VALUE)
        return False

    return check


def _tag(entry: Node, found: Found) -> bool:
    if TAG_PATTERN.match(str(entry.value)):
        return True
    found.add(
        entry.at,
        f"tag '{entry.value}' may hold only letters, digits and _ . : + - "
        "(Anki splits tags on spaces)",
        BAD_VALUE,
    )
    return False


def _macro_name(name: str, node: Node, found: Found) -> bool:
    if MACRO_NAME.match(name):
        return True
    found.add(
        node.key_at or node.at,
        f"macro name '{name}' must be letters only (it is used as \\{name})",
        BAD_VALUE,
    )
    return False


def _one_of_keys(choices: tuple[str, ...], where: str) -> Callable[[str, Node, Found], bool]:
    def check(name: str, node: Node, found: Found) -> bool:
        if name in choices:
            return True
        found.add(
            node.key_at or node.at,
            f"unknown key '{name}' in {where}{suggestion(name, choices)}",
            UNKNOWN_KEY,
        )
        return False

    return check


PHONE_WIDTHS = range(240, 1025)  # CSS px: from the smallest phones to a tablet
TEX_LINKS = ("none", "https")  # may \href in math link to https: addresses?
SLUG_RULE = "must be a slug: lowercase letters, digits and single hyphens"
TAGS = Field("tags", text_list(_tag))
# `lint: {...}` in deck.yaml and on a card: the card linter (builder/lint.py) checks what is inside.
LINT = Field("lint", any_mapping)
LINT_BUDGETS = range(1, 10_000)
DECK_LINT = Schema(
    "'lint'",
    (
        Field("strict", boolean),
        Field("ignore", text_list()),
        Field("word_budget", whole_number_in(LINT_BUDGETS, "a number of words")),
        Field("display_budget", whole_number_in(LINT_BUDGETS, "a number of display formula lines")),
    ),
)
CARD_LINT = Schema("'lint'", (Field("ignore", text_list()),))


def lint_settings(node: Node | None, schema: Schema, found: Found) -> LintSettings:
    """A `lint:` mapping (deck.yaml's DECK_LINT, a card's CARD_LINT) as LintSettings; each ignored
    code keeps its place, where builder/lint.py reports an unknown one."""
    if node is None or node is INVALID or not isinstance(node.value, dict):
        return LintSettings()
    values = read(node, schema, found)
    if values is None:
        return LintSettings()
    listed = values.nodes["ignore"].value if "ignore" in values.values else []
    items = listed if isinstance(listed, list) else []  # the schema made `ignore` a list
    ignore = tuple((item.value, item.at) for item in items if isinstance(item.value, str))
    return LintSettings(
        ignore, values.get("strict", False), values.get("word_budget"), values.get("display_budget")
    )


def deck_schema(kinds: tuple[str, ...]) -> Schema:
    return Schema(
        "deck.yaml",
        (
            Field("title", text, required=True),
            Field(
                "slug",
                matching(ID_PATTERN, "must be lowercase letters, digits and hyphens"),
                required=True,
            ),
            Field("deck_id", anki_id, required=True),
            Field(
                "version",
                matching(SEMVER_PATTERN, "is not semver (MAJOR.MINOR.PATCH)"),
                required=True,
            ),
            Field("description", text),
            Field(
                "note_types", mapping_of(anki_id, _one_of_keys(kinds, "note_types"), "kind to id")
            ),
            Field("macros", mapping_of(text, _macro_name, "name to TeX")),
            Field(
                "phone_width",
                whole_number_in(PHONE_WIDTHS, "a width in CSS px", " (phones are 360-412)"),
            ),
            Field("tex_links", one_of(TEX_LINKS)),
            LINT,
            # Where the deck's files live: read (and checked) by project.deck_paths, before the
            # deck loads.
            Field("paths", any_mapping),
        ),
    )


CARD_FILE = Schema(
    "a card file",
    (Field("subdeck", text, required=True), TAGS, Field("cards", nodes, required=True)),
)

# The keys every card takes, whatever its kind; the kind adds its own (card_schema).
COMMON_FIELDS = (
    Field("id", matching(ID_PATTERN, SLUG_RULE), required=True),
    Field("kind", text, required=True),
    TAGS,
    Field("level", one_of(LEVELS)),
    Field("zh", text),
    Field("figure", text),
    Field("covers", text_list()),
    # An alias is searched for in Anki (`mathdeck push`): a slug like an id, never a pattern.
    Field(
        "aliases",
        text_list(
            _slug_item(
                "alias '{value}' must be a slug like an id: "
                "lowercase letters, digits and single hyphens"
            )
        ),
    ),
    Field("retired", boolean),
    LINT,
)
# Non-text keys a kind may take (kinds.OPTION_KEYS).
OPTION_FIELDS = {
    "reverse": Field("reverse", boolean),
    "language": Field("language", text),
    "code_file": Field("code_file", text),
}


def card_schema(kind) -> Schema:
    """The keys of a card of `kind` (a kinds.CardKind): the common ones, its text keys and options.
    `code` is optional here: card_file knows it may come from `code_file` instead."""
    own = tuple(
        Field(key, text, required=key in kind.required) for key in kind.required + kind.optional
    ) + tuple(OPTION_FIELDS[key] for key in kind.options)
    return Schema(f"a {kind.name} card", COMMON_FIELDS + own)


SECTION = Schema(
    "a section", (Field("title", text, required=True), Field("tag", text), Field("sections", nodes))
)
PART = Schema(
    "a part",
    (Field("subdeck", text, required=True), Field("title", text), Field("sections", nodes)),
)
OUTLINE = Schema("the outline", (Field("parts", nodes, required=True),))
SEED_FILE = Schema("a seed file", (Field("items", nodes, required=True),))
SEED_ITEM = Schema(
    "a seed item", (Field("id", text, required=True), Field("text", text, required=True))
)
