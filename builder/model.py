"""The domain: a deck of cards, each card of one kind. Nothing here reads YAML or writes files."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Final

from .content_hash import content_key
from .kinds import KINDS, CardKind  # noqa: F401  (a kind is defined in kinds.py)
from .macros import Macro
from .phone_budget import DEFAULT_PHONE_WIDTH
from .problems import Location
from .records import Record

RETIRED_SUBDECK = "Retired"
RETIRED_TAG = "retired"

LEVELS = ("L1", "L2", "L3")
TITLE_LENGTH = 80


class LintSettings(Record):
    """A `lint:` mapping as written, on a card (`ignore` only) or in deck.yaml; builder/lint.py
    checks the codes and applies the settings."""

    __slots__ = field_names = ("ignore", "strict", "word_budget", "display_budget")
    ignore: Final[tuple[tuple[str, Location], ...]]  # (code, where it is written)
    strict: Final[bool]  # warnings are errors, as with --strict
    word_budget: Final[int | None]  # words on a back; None: the linter's default
    display_budget: Final[int | None]  # display formula lines on a back; None: the linter's default

    def __init__(
        self,
        ignore: tuple[tuple[str, Location], ...] = (),
        strict: bool = False,
        word_budget: int | None = None,
        display_budget: int | None = None,
    ) -> None:
        self.ignore = ignore
        self.strict = strict
        self.word_budget = word_budget
        self.display_budget = display_budget

    @property
    def ignored(self) -> frozenset[str]:
        return frozenset(code for code, _ in self.ignore)


NO_LINT_SETTINGS = LintSettings()  # immutable: the default of every card and deck


class Card(Record):
    """One card as its file writes it (a plain Record: builder/records.py says why)."""

    __slots__ = field_names = (
        "id",
        "kind",
        "text",
        "subdeck",
        "location",
        "text_locations",
        "tags",
        "level",
        "zh",
        "figure",
        "figure_location",
        "covers",
        "aliases",
        "reverse",
        "retired",
        "language",
        "code_file",
        "lint",
    )
    id: str
    kind: str
    # Markdown source text by source key (concept, formula, question, ...); code cards hold the
    # code itself under "code" whether it was written inline or read from code_file.
    text: dict[str, str]
    subdeck: str
    location: Location
    # a dict; a cached card's makes each Location when asked for (parsed_cards.TextLocations)
    text_locations: MutableMapping[str, Location]
    tags: tuple[str, ...]
    level: str | None
    zh: str | None
    figure: str | None
    figure_location: Location | None
    covers: tuple[str, ...]
    aliases: tuple[str, ...]
    reverse: bool
    # Dropped from the deck. Anki never deletes notes on import, so the card stays in the sources
    # and its note is tagged `retired` and moved to the Retired subdeck for learners to delete.
    retired: bool
    language: str
    code_file: str | None
    # `lint: {ignore: [MD301, ...]}`: findings kept on purpose
    lint: LintSettings

    def __init__(
        self,
        id: str,
        kind: str,
        text: dict[str, str],
        subdeck: str,
        location: Location,
        text_locations: MutableMapping[str, Location] | None = None,
        tags: tuple[str, ...] = (),
        level: str | None = None,
        zh: str | None = None,
        figure: str | None = None,
        figure_location: Location | None = None,
        covers: tuple[str, ...] = (),
        aliases: tuple[str, ...] = (),
        reverse: bool = False,
        retired: bool = False,
        language: str = "python",
        code_file: str | None = None,
        lint: LintSettings = NO_LINT_SETTINGS,
    ) -> None:
        self.id = id
        self.kind = kind
        self.text = text
        self.subdeck = subdeck
        self.location = location
        self.text_locations = {} if text_locations is None else text_locations
        self.tags = tags
        self.level = level
        self.zh = zh
        self.figure = figure
        self.figure_location = figure_location
        self.covers = covers
        self.aliases = aliases
        self.reverse = reverse
        self.retired = retired
        self.language = language
        self.code_file = code_file
        self.lint = lint

    @property
    def all_tags(self) -> tuple[str, ...]:
        tags = list(self.tags)
        if self.level and self.level not in tags:
            tags.append(self.level)
        return tuple(sorted(set(tags)))

    @property
    def title(self) -> str:
        """One line that names the card in summaries and changelogs."""
        kind = KINDS[self.kind]
        line = " ".join(self.text.get(kind.required[0], "").split())
        if len(line) <= TITLE_LENGTH:
            return line
        cut = line[:TITLE_LENGTH].rsplit(" ", 1)[0]
        if cut.count("$") % 2:  # never cut a formula in half: stop before it instead
            cut = cut[: cut.rindex("$")].rstrip()
        return cut + " …"


def card_digest(card: Card) -> str:
    """A hash of everything in a card but where it stands in its file: what check and render
    read."""
    return content_key(
        card.id,
        card.kind,
        card.text,
        card.subdeck,
        card.tags,
        card.level,
        card.zh,
        card.figure,
        card.covers,
        card.aliases,
        card.reverse,
        card.retired,
        card.language,
        card.code_file,
    )


class DeckConfig(Record):
    """deck.yaml as read (a plain Record: builder/records.py says why)."""

    __slots__ = field_names = (
        "title",
        "slug",
        "deck_id",
        "version",
        "description",
        "note_type_ids",
        "location",
        "version_location",
        "macros",
        "phone_width",
        "tex_links",
        "description_location",
        "note_types_location",
        "lint",
    )
    title: str
    slug: str
    deck_id: int
    version: str
    description: str
    # kind name → its Anki note type's id, fixed forever; only the kinds the deck uses need one
    note_type_ids: dict[str, int]
    location: Location
    version_location: Location
    macros: tuple[Macro, ...]
    # The narrowest phone the deck is made for, in CSS px: `check` reports formulas wider than its
    # card (check_math.PhoneBudget). Typical phones are 360-412 px wide.
    phone_width: int
    # "https": \href in math may link to https: addresses; "none": no link, style, class, id
    # or URL in math at all (builder/mathjax/safety.mjs)
    tex_links: str
    description_location: Location | None  # the sanitiser's audit of the description reports here
    # where deck.yaml sets note_types (or deck.yaml itself): for a missing id's message
    note_types_location: Location | None
    lint: LintSettings  # `lint: {strict, ignore, word_budget, display_budget}`

    def __init__(
        self,
        title: str,
        slug: str,
        deck_id: int,
        version: str,
        description: str,
        note_type_ids: dict[str, int],
        location: Location,
        version_location: Location,
        macros: tuple[Macro, ...] = (),
        phone_width: int = DEFAULT_PHONE_WIDTH,
        tex_links: str = "none",
        description_location: Location | None = None,
        note_types_location: Location | None = None,
        lint: LintSettings = NO_LINT_SETTINGS,
    ) -> None:
        self.title = title
        self.slug = slug
        self.deck_id = deck_id
        self.version = version
        self.description = description
        self.note_type_ids = note_type_ids
        self.location = location
        self.version_location = version_location
        self.macros = macros
        self.phone_width = phone_width
        self.tex_links = tex_links
        self.description_location = description_location
        self.note_types_location = note_types_location
        self.lint = lint


class Deck(Record):
    __slots__ = field_names = ("config", "cards")
    config: DeckConfig
    cards: list[Card]

    def __init__(self, config: DeckConfig, cards: list[Card]) -> None:
        self.config = config
        self.cards = cards

    @property
    def file_stem(self) -> str:
        return f"{self.config.slug}-{self.config.version}"


LANGUAGES = ("en", "en+zh")  # `--lang`: English only, or with the established Chinese terms


def in_language(deck: Deck, lang: str) -> Deck:
    """The deck as `--lang` asks: "en+zh" as written; "en" without the Chinese terms (Zh empty)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; choose one of {', '.join(LANGUAGES)}")
    if lang == "en+zh":
        return deck
    return Deck(deck.config, [card.replace(zh=None) for card in deck.cards])
