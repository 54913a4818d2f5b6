"""`check` runs every check of `build`: on each broken project below both exit 1 with the same
problems, every one of them at once, and neither writes a deck."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from builds import MINIMAL, copy_sources, set_version

EPOCH = "1764000000"
CARDS = "cards/cards.yaml"


def run(project: Path, *args: str, **env: str):
    environment = {**os.environ, "COLUMNS": "200", "SOURCE_DATE_EPOCH": EPOCH, **env}
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment,
    )


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """The minimal project released once (0.2.0): its lock records the release."""
    project = tmp_path_factory.mktemp("released") / "project"
    copy_sources(MINIMAL, project)
    result = run(project, "release", "--minor")
    assert result.returncode == 0, result.stderr
    shutil.rmtree(project / "dist")
    return project


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def delete_card(project: Path) -> None:
    """Remove the released card 'snippet-softmax' (the last in the file) from the sources."""
    path = project / CARDS
    text = path.read_text()
    path.write_text(text[: text.index("  - id: snippet-softmax")])


@dataclass
class Case:
    name: str
    breaks: Callable[[Path], None]
    expected: list[str]  # the problem lines, exactly, in order
    env: dict[str, str] = field(default_factory=dict)


# The released card's problem, at its entry in the lock.
GONE = (
    "cards/mathdeck.lock.json:@LINE@: card 'snippet-softmax' (Write a numerically stable softmax "
    "in PyTorch.) was in release 0.2.0 but is gone from the sources. Anki never deletes notes on "
    "import, so learners would keep it forever: put it back with 'retired: true' (its note is then "
    "tagged 'retired' and moved to the Retired subdeck), or rename it with 'aliases'"
)

CASES = [
    Case("a released card deleted", delete_card, [GONE]),
    Case(
        "a released card deleted, and an undefined macro in another card",
        lambda project: (
            delete_card(project),
            edit(project / CARDS, "when fitting $q$ to $p$", r"when fitting $\qq$ to $p$"),
        ),
        [
            "cards/cards.yaml:25:75: MD140 card 'q13-kl-divergence', field 'followup_question': "
            "MathJax: Undefined control sequence \\qq (define it under 'macros' in deck.yaml, or "
            "use \\operatorname{...}) in $\\qq$",
            GONE,
        ],
    ),
    Case(
        "an interrupted release",
        lambda project: set_version(project / "cards", "0.1.0"),
        [
            "cards/deck.yaml:6: release 0.2.0 was interrupted (the lock records it; deck.yaml "
            "still says 0.1.0): run `mathdeck release` to finish it",
        ],
    ),
    Case(
        "a git conflict in the lock",
        lambda project: edit(
            project / "cards" / "mathdeck.lock.json", ' "notes": {', '<<<<<<< HEAD\n "notes": {'
        ),
        [
            "cards/mathdeck.lock.json:@LINE@: MD130 merge conflict in the lock file (a git "
            "conflict marker): run `mathdeck lock --repair` to merge both sides (each card keeps "
            "its later time), then commit it",
        ],
    ),
    Case(
        "a bad SOURCE_DATE_EPOCH",
        lambda project: None,
        [
            "SOURCE_DATE_EPOCH: 'yesterday' must be whole seconds since 1970 (digits only): "
            "unset it or set it to e.g. `git log -1 --format=%ct` (the time of the last commit)",
        ],
        env={"SOURCE_DATE_EPOCH": "yesterday"},
    ),
    Case(
        "an unknown key under paths:",
        lambda project: edit(project / "cards" / "deck.yaml", ", dist: ../dist", ", dsit: ../dist"),
        [
            "cards/deck.yaml:@LINE@: unknown key 'paths.dsit': the keys are figures, dist, "
            "releases, changelog, cache",
        ],
    ),
]


def _line_of(path: Path, text: str) -> int:
    return next(
        number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_check_and_build_report_the_same_problems(case, released, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(released, project)
    case.breaks(project)
    expected = [line.replace("@LINE@", str(_where(case, project))) for line in case.expected]

    outcomes = {command: run(project, command, **case.env) for command in ("check", "build")}
    for command, result in outcomes.items():
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        # the last line counts the problems; only build's adds "nothing was written"
        *problems, count = result.stderr.splitlines()
        assert re.fullmatch(r"\d+ problems?(; nothing was written)?\.", count), count
        assert problems == expected, command
    assert not (project / "dist").exists()


def _where(case: Case, project: Path) -> int:
    if "conflict" in case.name:
        return _line_of(project / "cards" / "mathdeck.lock.json", "<<<<<<<")
    if "paths:" in case.name:
        return _line_of(project / "cards" / "deck.yaml", "dsit:")
    return _line_of(
        project / "cards" / "mathdeck.lock.json", '"snippet-softmax": {'
    )  # the released card's entry
