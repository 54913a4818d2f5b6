"""card_kind: what a card kind declares (CardKind) and the Anki cards a note makes (StudyCard).

The kinds themselves are in kinds.py. Both are Records (builder/records.py says why): an edit's
build makes them at import, before it asks node for its new formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

from .records import Record

if TYPE_CHECKING:
    from .model import Card


class FieldRenderer(Protocol):
    """What a kind's `fields` may ask render for (render.py provides it)."""

    def markdown(self, text: str, inline: bool = False) -> str: ...
    def code(self, code: str, language: str) -> str: ...


class StudyCard(Record):
    """One Anki card a note makes, in source keys: what its front asks and what its back answers
    (builder/lint_rules.py reads them for duplicates, long backs and fronts that give the answer
    away)."""

    __slots__ = field_names = ("template", "front", "back", "asks_for_name")
    template: Final[str]  # the block stem, as in CardKind.templates
    front: Final[tuple[str, ...]]
    back: Final[tuple[str, ...]]
    # The back is a name (a reverse card's concept): the front must not show its key terms.
    asks_for_name: Final[bool]

    def __init__(
        self,
        template: str,
        front: tuple[str, ...],
        back: tuple[str, ...],
        asks_for_name: bool = False,
    ) -> None:
        self.template = template
        self.front = front
        self.back = back
        self.asks_for_name = asks_for_name


def _no_source_problems(card: Card) -> list[tuple[str, str]]:
    return []


class CardKind(Record):
    __slots__ = field_names = (
        "name",
        "required",
        "optional",
        "note_fields",
        "templates",
        "fields",
        "anki_cards",
        "markdown_entry",
        "study",
        "options",
        "not_markdown",
        "pairs",
        "source_problems",
        "is_cloze",
    )
    name: Final[str]
    # Source keys holding text, as the author writes them. All are Markdown (their HTML is audited
    # and every formula in them goes through MathJax) but those in `not_markdown`.
    required: Final[tuple[str, ...]]
    optional: Final[tuple[str, ...]]
    # Anki field names, in order; the first is the sort field. Zh, Figure and CardId are filled by
    # render for every kind; `fields` gives the others from the card.
    note_fields: Final[tuple[str, ...]]
    # (Anki template name, block name stem in templates/notetypes/<kind>.html)
    templates: Final[tuple[tuple[str, str], ...]]
    fields: Final[Callable[[Card, FieldRenderer], dict[str, str]]]
    # How many Anki cards one note makes (the build summary's count).
    anki_cards: Final[Callable[[Card], int]]
    # The entry in the Markdown cheat sheet: blocks from the card's Markdown (`text`, deck macros
    # expanded) and its Chinese term as " (术语)" or "".
    markdown_entry: Final[Callable[[Card, dict[str, str], str], list[str]]]
    # The Anki cards a note makes, as StudyCards (the same count as anki_cards, but a cloze's one).
    study: Final[Callable[[Card], tuple[StudyCard, ...]]]
    options: Final[tuple[str, ...]]  # of OPTION_KEYS
    not_markdown: Final[tuple[str, ...]]  # text keys shown as they are (code, by Pygments)
    pairs: Final[tuple[tuple[str, str], ...]]  # optional keys that must come together
    # What else load must refuse in a card of this kind: (source key, message) pairs.
    source_problems: Final[Callable[[Card], list[tuple[str, str]]]]
    is_cloze: Final[bool]  # Anki's cloze note type: one card per {{cN::...}} in the text

    def __init__(
        self,
        name: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
        note_fields: tuple[str, ...],
        templates: tuple[tuple[str, str], ...],
        fields: Callable[[Card, FieldRenderer], dict[str, str]],
        anki_cards: Callable[[Card], int],
        markdown_entry: Callable[[Card, dict[str, str], str], list[str]],
        study: Callable[[Card], tuple[StudyCard, ...]],
        options: tuple[str, ...] = (),
        not_markdown: tuple[str, ...] = (),
        pairs: tuple[tuple[str, str], ...] = (),
        source_problems: Callable[[Card], list[tuple[str, str]]] = _no_source_problems,
        is_cloze: bool = False,
    ) -> None:
        self.name = name
        self.required = required
        self.optional = optional
        self.note_fields = note_fields
        self.templates = templates
        self.fields = fields
        self.anki_cards = anki_cards
        self.markdown_entry = markdown_entry
        self.study = study
        self.options = options
        self.not_markdown = not_markdown
        self.pairs = pairs
        self.source_problems = source_problems
        self.is_cloze = is_cloze

    @property
    def note_type_name(self) -> str:
        return f"mathdeck {self.name}"

    @property
    def markdown(self) -> tuple[str, ...]:
        return tuple(key for key in self.required + self.optional if key not in self.not_markdown)

    @property
    def source_keys(self) -> tuple[str, ...]:
        return self.required + self.optional + self.options

    @property
    def template_file(self) -> str:
        return f"notetypes/{self.name}.html"

    @property
    def export_template(self) -> str:
        return f"export/{self.name}.html"
