"""lint: flashcard craft, as warnings with a code, a place and a fix (issue 15).

A pure function of the loaded deck: `lint_deck(deck)` returns Problems, never prints. The rules
(README, "Card linter") are MD301-MD305; MD300 is a wrong `lint:` setting, always an error.
Warnings do not stop a build; `--strict` (or `lint: {strict: true}` in deck.yaml) makes them
errors. A card keeps a finding on purpose with `lint: {ignore: [MD30x]}`, deck.yaml for all.
This module holds the codes, the settings and the ignoring; the rules themselves are in
lint_rules (one card each) and lint_duplicates (MD301), how they read a card's text in
lint_text. The work is done by card position and placed on the cards last, so that a build can
remember it (builder/lint_memo.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from .lint_duplicates import (
    Offered,
    Repeat,
    compared_keys,
    find_repeats,
    repeat_problem,
    side_repeats,
)
from .lint_rules import (
    Finding,
    document_reference_problems,
    given_away_problems,
    long_back_problems,
    placeholder_problems,
)
from .model import Card, Deck, LintSettings
from .problems import Problem, did_you_mean
from .records import Record

# The code whose findings a build may remember (builder/lint_memo.py): a change to one empties
# the lint cache.
LINT_SOURCES = (
    "lint.py",
    "lint_rules.py",
    "lint_text.py",
    "lint_duplicates.py",
    "near_duplicates.py",
    "token_sets.py",
    "prose_stems.py",
    "sorted_arrays.py",
    "tex_tokens.py",
    "kinds.py",
    "card_kind.py",
    "markdown_math.py",
    "cloze.py",
    "problems.py",  # one_line, in the messages
)


class Rule(Record):
    __slots__ = field_names = ("code", "name")
    code: Final[str]  # what a card's `lint: {ignore: [...]}` names
    name: Final[str]  # what the README's table calls it

    def __init__(self, code: str, name: str) -> None:
        self.code = code
        self.name = name


# What each rule catches and how to fix it: the README's "Card linter" table, and each message.
RULES = {
    rule.code: rule
    for rule in (
        Rule("MD301", "near-duplicate"),
        Rule("MD302", "too-long"),
        Rule("MD303", "gives-away"),
        Rule("MD304", "placeholder"),
        Rule("MD305", "refers-to-document"),
    )
}
SETTINGS = "MD300"  # a `lint:` setting the linter cannot follow: an error, never ignorable
WORD_BUDGET = 120  # words on a back, inline math counting as one
DISPLAY_BUDGET = 6  # display formula lines on a back (each row of an aligned block is one)


class CardLint:
    """What the linter finds in one card by itself: a function of the card's content and the
    word and display budgets, which a build remembers by the card's digest. (A plain class:
    builder/records.py says why; never compared.)"""

    __slots__ = ("compared", "findings")

    def __init__(
        self, findings: tuple[Finding, ...], compared: tuple[tuple[str, str], ...]
    ) -> None:
        self.findings = findings  # MD302-MD305
        self.compared = compared  # (key, side) of the texts MD301 compares


def lint_card(card: Card, word_budget: int, display_budget: int) -> CardLint:
    return CardLint(
        (
            *long_back_problems(card, word_budget, display_budget),
            *given_away_problems(card),
            *placeholder_problems(card),
            *document_reference_problems(card),
        ),
        compared_keys(card),
    )


class DeckLint(Record):
    """What the linter finds in a deck, by card position, before any finding has a place."""

    __slots__ = field_names = ("findings", "repeats")
    findings: Final[tuple[tuple[int, Finding], ...]]  # MD302-MD305
    repeats: Final[tuple[Repeat, ...]]  # MD301

    def __init__(
        self, findings: tuple[tuple[int, Finding], ...], repeats: tuple[Repeat, ...]
    ) -> None:
        self.findings = findings
        self.repeats = repeats


class Linter:
    """The linter's work on a deck: each card by itself, then the near-duplicates among each
    side's texts. builder/lint_memo.py's RememberingLinter answers from the last build."""

    def __init__(self, settings: LintSettings):
        self.word_budget = settings.word_budget or WORD_BUDGET
        self.display_budget = settings.display_budget or DISPLAY_BUDGET

    def deck(self, deck: Deck) -> DeckLint:
        linted = [
            (at, card, self.card(card)) for at, card in enumerate(deck.cards) if not card.retired
        ]
        repeats = []
        if "MD301" not in deck.config.lint.ignored:
            offered = [
                (at, card, lint.compared)
                for at, card, lint in linted
                if not card.lint.ignore or "MD301" not in card.lint.ignored
            ]
            repeats = find_repeats(offered, self.side_repeats)
        findings = tuple((at, finding) for at, _, lint in linted for finding in lint.findings)
        return DeckLint(findings, tuple(repeats))

    def card(self, card: Card) -> CardLint:
        return lint_card(card, self.word_budget, self.display_budget)

    def side_repeats(self, offered: Sequence[Offered], side: str) -> list[Repeat]:
        return side_repeats(offered, side)


def lint_deck(deck: Deck, linter: Linter | None = None) -> list[Problem]:
    """Every lint finding of the deck's cards (retired ones aside) as a warning, minus those
    ignored; and wrong `lint:` settings as errors."""
    settings = deck.config.lint
    found = (linter or Linter(settings)).deck(deck)
    cards = deck.cards
    findings = [repeat_problem(repeat, cards) for repeat in found.repeats]
    findings += (_placed(cards[at], finding) for at, finding in found.findings)
    ignored_by = {card.id: card.lint.ignored for card in cards if card.lint.ignore}
    kept = [
        finding
        for finding in findings
        if finding.code not in settings.ignored
        and finding.code not in ignored_by.get(finding.card, ())
    ]
    return settings_problems(deck) + kept


def _placed(card: Card, finding: Finding) -> Problem:
    """A finding at its key's line in the card as it stands."""
    return Problem(
        card.text_locations.get(finding.key, card.location),
        f"card '{card.id}': {finding.message}",
        "warning",
        card.id,
        finding.code,
    )


def as_errors(problems: list[Problem]) -> list[Problem]:
    """`--strict`: every warning an error."""
    return [problem.replace(severity="error") for problem in problems]


def settings_problems(deck: Deck) -> list[Problem]:
    """Codes in `lint: {ignore: [...]}` that name no rule, with a did-you-mean."""
    written = [
        *deck.config.lint.ignore,
        *(entry for card in deck.cards for entry in card.lint.ignore),
    ]
    problems = []
    for code, where in written:
        if code not in RULES:
            close = did_you_mean(code.upper(), RULES, cutoff=0.5)
            hint = f" (did you mean '{close}'?)" if close else ""
            problems.append(
                Problem(
                    where,
                    f"unknown lint code '{code}'{hint}; the codes are: "
                    f"{', '.join(f'{rule.code} {rule.name}' for rule in RULES.values())}",
                    code=SETTINGS,
                )
            )
    return problems
