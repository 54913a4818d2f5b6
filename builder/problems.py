"""Problems in the sources: what the user must fix, as opposed to bugs in mathdeck.

Every stage reports problems as values; only the CLI prints them and picks the exit code.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Final

from .records import Record


class Location(Record):
    """Where a value came from: a file, a 1-based line (0 when the file as a whole is meant) and a
    1-based column (0 when the whole line is meant)."""

    __slots__ = field_names = ("file", "line", "column")
    file: Final[Path]
    line: Final[int]
    column: Final[int]

    def __init__(self, file: Path, line: int = 0, column: int = 0) -> None:
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        shown = _relative(self.file)
        if not self.line:
            return shown
        return f"{shown}:{self.line}:{self.column}" if self.column else f"{shown}:{self.line}"


def _relative(path: Path) -> str:
    try:
        cwd = os.getcwd()
    except FileNotFoundError:  # deleted under a running `watch`
        return str(path)
    return _relative_to(path, cwd)


@lru_cache(maxsize=1024)
def _relative_to(path: Path, cwd: str) -> str:
    """Resolved once per file and working folder: resolving stats every folder of the path, and
    the linter names another card's place in each of its hundreds of near-duplicate warnings."""
    try:
        shown = str(path.resolve().relative_to(Path(cwd).resolve()))
    except (ValueError, OSError, RuntimeError):
        # outside the folder, or a path that cannot be resolved: a symlink loop (RuntimeError
        # before Python 3.13), a folder that may not be read (/proc/1/root): shown as given
        shown = str(path)
    if shown.isprintable():
        return shown
    # a problem is one line: a newline or a byte that is not UTF-8 in a file name is escaped
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in shown)


class Problem(Record):
    __slots__ = field_names = ("location", "message", "severity", "card", "code")
    compared = ("location", "message", "severity")
    location: Final[Location]
    message: Final[str]
    # "error" stops the build; a "warning" is reported and the build goes on (it names a fix).
    severity: Final[str]
    card: Final[str]  # the card id, where one card is meant
    # A short stable code (ruff style, e.g. "MD201"): what a user searches the README for and
    # names in a card's `lint: {ignore: [...]}`. Empty for problems that have none yet.
    code: Final[str]

    def __init__(
        self,
        location: Location,
        message: str,
        severity: str = "error",
        card: str = "",
        code: str = "",
    ) -> None:
        self.location = location
        self.message = message
        self.severity = severity
        self.card = card
        self.code = code

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        message = f"{self.code} {self.message}" if self.code else self.message
        return (
            f"{self.location}: {message}"
            if self.is_error
            else f"{self.location}: warning: {message}"
        )


def errors_in(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.is_error]


def warnings_in(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if not problem.is_error]


class SourceError(Exception):
    """Raised by a stage when the sources cannot go further; carries every problem found."""

    def __init__(self, problems: list[Problem] | None = None) -> None:
        self.problems: list[Problem] = [] if problems is None else problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in sorted(self.problems))


def one_line(text: str, limit: int) -> str:
    """Text for a problem message: its whitespace runs as single spaces, cut to `limit` with "…"."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def did_you_mean(word: str, choices, cutoff: float = 0.6) -> str | None:
    """The choice closest to a misspelt `word` (difflib's similarity ratio ≥ `cutoff`), or None:
    one rule for every did-you-mean (unknown keys, kinds, TeX macros)."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None
