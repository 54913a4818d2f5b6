"""lint: flashcard craft, as warnings with a code, a place and a fix (issue 15).

A pure function of the loaded deck: `lint_deck(deck)` returns Problems, never prints. The rules
(README, "Card linter") are MD301-MD305; MD300 is a wrong `lint:` setting, always an error.
Warnings do not stop a build; `--strict` (or `lint: {strict: true}` in deck.yaml) makes them
errors. A card keeps a finding on purpose with `lint: {ignore: [MD30x]}`, deck.yaml for all.
This module holds the codes, the settings and the ignoring; the rules themselves are in
lint_rules, and how they read a card's text in lint_text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .lint_rules import (
    document_reference_problems,
    given_away_problems,
    long_back_problems,
    near_duplicate_problems,
    placeholder_problems,
)
from .model import Deck
from .problems import Problem, did_you_mean


@dataclass(frozen=True)
class Rule:
    code: str  # what a card's `lint: {ignore: [...]}` names
    name: str  # what the README's table calls it


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


def lint_deck(deck: Deck) -> list[Problem]:
    """Every lint finding of the deck's cards (retired ones aside) as a warning, minus those
    ignored; and wrong `lint:` settings as errors."""
    settings = deck.config.lint
    cards = [card for card in deck.cards if not card.retired]
    findings = near_duplicate_problems([card for card in cards if "MD301" not in card.lint.ignored])
    for card in cards:
        findings += long_back_problems(
            card, settings.word_budget or WORD_BUDGET, settings.display_budget or DISPLAY_BUDGET
        )
        findings += given_away_problems(card)
        findings += placeholder_problems(card)
        findings += document_reference_problems(card)
    ignored_by = {card.id: card.lint.ignored for card in cards}
    kept = [
        finding
        for finding in findings
        if finding.code not in settings.ignored
        and finding.code not in ignored_by.get(finding.card, ())
    ]
    return settings_problems(deck) + kept


def as_errors(problems: list[Problem]) -> list[Problem]:
    """`--strict`: every warning an error."""
    return [replace(problem, severity="error") for problem in problems]


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
