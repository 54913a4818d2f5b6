"""Where a deck's files live: every file a deck owns sits with it, so a command run on one deck
never writes another deck's files and several decks can share one repository.

The deck folder is the folder holding deck.yaml (and the card files). Its figure scripts, build
output, kept releases, changelog and caches default to places inside it. `paths:` in deck.yaml
moves any of them, relative to the deck folder; the flagship uses it to keep its historical
layout (cards/ beside figures/, dist/, releases/ and CHANGELOG.md at the repository root).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from .problems import Problem, SourceError
from .records import Record

DECK_FILE = "deck.yaml"
# deck.yaml `paths:` keys and where each defaults to, inside the deck folder.
PATH_DEFAULTS = {
    "figures": "figures",  # figure scripts (figures/<name>.py)
    "dist": "dist",  # builds: <slug>-<version>.apkg, and <slug>-<version>+dev.apkg (development)
    "releases": "releases",  # every released .apkg, kept (and committed) for learners to download
    "changelog": "CHANGELOG.md",
    "cache": ".cache",  # drawn figures and build caches
}


class DeckPaths(Record):
    __slots__ = field_names = ("deck", "figures", "dist", "releases", "changelog", "cache")
    deck: Final[Path]  # the folder with deck.yaml
    figures: Final[Path]
    dist: Final[Path]
    releases: Final[Path]
    changelog: Final[Path]
    cache: Final[Path]

    def __init__(
        self, deck: Path, figures: Path, dist: Path, releases: Path, changelog: Path, cache: Path
    ) -> None:
        self.deck = deck
        self.figures = figures
        self.dist = dist
        self.releases = releases
        self.changelog = changelog
        self.cache = cache


def deck_paths(deck_dir: Path) -> DeckPaths:
    """The deck's locations: deck.yaml's `paths:` (relative to the deck folder) over PATH_DEFAULTS.
    A deck.yaml that cannot be read gives the defaults (loading the deck reports why); a bad
    `paths:` value is a SourceError at its line."""
    chosen = {**PATH_DEFAULTS, **_paths_setting(deck_dir / DECK_FILE)}
    return DeckPaths(
        deck_dir, **{key: Path(os.path.normpath(deck_dir / value)) for key, value in chosen.items()}
    )


def default_deck_dir(cwd: Path = Path(".")) -> Path:
    """`--cards` when none is given: cards/ where it holds a deck (the flagship's layout), else
    the current folder when it holds deck.yaml (a deck made by `mathdeck new`), else cards/."""
    if not (cwd / "cards" / DECK_FILE).is_file() and (cwd / DECK_FILE).is_file():
        return cwd
    return cwd / "cards"


def _paths_setting(path: Path) -> dict[str, str]:
    from .yamlsource import read_yaml

    try:
        root = read_yaml(path) if path.is_file() else None
    except SourceError:
        return {}
    if root is None or not isinstance(root.value, dict) or "paths" not in root.value:
        return {}
    node = root.value["paths"]
    if not isinstance(node.value, dict):
        raise SourceError(
            [
                Problem(
                    node.location,
                    f"paths must be a mapping of {', '.join(PATH_DEFAULTS)} to folders, "
                    f"not {node.kind}",
                )
            ]
        )
    problems, chosen = [], {}
    for key, value in node.value.items():
        if key not in PATH_DEFAULTS:
            problems.append(
                Problem(
                    value.location,
                    f"unknown key 'paths.{key}': the keys are {', '.join(PATH_DEFAULTS)}",
                )
            )
        elif not isinstance(value.value, str) or not value.value.strip():
            problems.append(
                Problem(
                    value.location,
                    f"paths.{key} must be a path relative to the deck folder, not {value.kind}",
                )
            )
        else:
            chosen[key] = value.value.strip()
    if problems:
        raise SourceError(problems)
    return chosen
