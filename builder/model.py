"""The domain: a deck of cards, each card of one kind. Nothing here reads YAML or writes files."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
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


@dataclass
class Card:
    id: str
    kind: str
    # Markdown source text by source key (concept, formula, question, ...); code cards hold the
    # code itself under "code" whether it was written inline or read from code_file.
    text: dict[str, str]
    subdeck: str
    location: Location
    # a dict; a cached card's makes each Location when asked for (parsed_cards.TextLocations)
    text_locations: MutableMapping[str, Location] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    level: str | None = None
    zh: str | None = None
    figure: str | None = None
    figure_location: Location | None = None
    covers: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    reverse: bool = False
    # Dropped from the deck. Anki never deletes notes on import, so the card stays in the sources
    # and its note is tagged `retired` and moved to the Retired subdeck for learners to delete.
    retired: bool = False
    language: str = "python"
    code_file: str | None = None
    # `lint: {ignore: [MD301, ...]}`: findings kept on purpose
    lint: LintSettings = NO_LINT_SETTINGS

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


@dataclass
class DeckConfig:
    title: str
    slug: str
    deck_id: int
    version: str
    description: str
    # kind name → its Anki note type's id, fixed forever; only the kinds the deck uses need one
    note_type_ids: dict[str, int]
    location: Location
    version_location: Location
    macros: tuple[Macro, ...] = ()
    # The narrowest phone the deck is made for, in CSS px: `check` reports formulas wider than its
    # card (check_math.PhoneBudget). Typical phones are 360-412 px wide.
    phone_width: int = DEFAULT_PHONE_WIDTH
    # "https": \href in math may link to https: addresses; "none": no link, style, class, id
    # or URL in math at all (builder/mathjax/safety.mjs)
    tex_links: str = "none"
    description_location: Location | None = (
        None  # the sanitiser's audit of the description reports here
    )
    # where deck.yaml sets note_types (or deck.yaml itself): for a missing id's message
    note_types_location: Location | None = None
    lint: LintSettings = NO_LINT_SETTINGS  # `lint: {strict, ignore, word_budget, display_budget}`


@dataclass
class Deck:
    config: DeckConfig
    cards: list[Card]

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
    return Deck(deck.config, [replace(card, zh=None) for card in deck.cards])
