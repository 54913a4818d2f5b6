"""build_summary: what `build` prints when it is done, as plain data, so that a no-op build can
print it again without building (builder/build_stamp.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .problems import Location, Problem
from .records import Record

if TYPE_CHECKING:
    from .build import BuildResult


class BuildSummary(Record):
    """What `build` prints when it is done, as plain data."""

    __slots__ = field_names = (
        "title",
        "version",
        "cards_by_kind",
        "notes",
        "anki_cards",
        "subdecks",
        "media_files",
        "media_bytes",
        "figures_drawn",
        "figures_cached",
        "size",
        "seconds",
        "path",
        "status",
        "development",
        "released",
        "warnings",
    )
    title: str
    version: str
    cards_by_kind: dict[str, int]
    notes: int
    anki_cards: int
    subdecks: int
    media_files: int
    media_bytes: int
    figures_drawn: int
    figures_cached: int
    size: int
    seconds: float
    path: str
    status: str  # "written", "unchanged" or "replaced"
    development: bool  # the development build, <slug>-<version>+dev.apkg
    released: str | None  # the last release's version, if any
    warnings: list[Problem]

    def __init__(
        self,
        title: str,
        version: str,
        cards_by_kind: dict[str, int],
        notes: int,
        anki_cards: int,
        subdecks: int,
        media_files: int,
        media_bytes: int,
        figures_drawn: int,
        figures_cached: int,
        size: int,
        seconds: float,
        path: str,
        status: str,
        development: bool,
        released: str | None,
        warnings: list[Problem] | None = None,
    ) -> None:
        self.title = title
        self.version = version
        self.cards_by_kind = cards_by_kind
        self.notes = notes
        self.anki_cards = anki_cards
        self.subdecks = subdecks
        self.media_files = media_files
        self.media_bytes = media_bytes
        self.figures_drawn = figures_drawn
        self.figures_cached = figures_cached
        self.size = size
        self.seconds = seconds
        self.path = path
        self.status = status
        self.development = development
        self.released = released
        self.warnings = [] if warnings is None else warnings


def summary_of(result: BuildResult) -> BuildSummary:
    from .commit import DEV_SUFFIX

    return BuildSummary(
        title=result.deck.config.title,
        version=result.deck.config.version,
        cards_by_kind=dict(result.cards_by_kind),
        notes=len(result.notes),
        anki_cards=result.anki_cards,
        subdecks=len({note.subdeck for note in result.notes}),
        media_files=len(result.media),
        media_bytes=sum(path.stat().st_size for path in result.media),
        figures_drawn=result.figures_drawn,
        figures_cached=result.figures_cached,
        size=result.size,
        seconds=result.seconds,
        path=str(result.path),
        status=result.status,
        development=result.path.name.endswith(f"{DEV_SUFFIX}.apkg"),
        released=result.released,
        warnings=list(result.warnings),
    )


def as_noop(summary: BuildSummary) -> BuildSummary:
    """What the next build prints when nothing changed: the package is the one this build left,
    and every figure is cached."""
    return summary.replace(
        status="unchanged",
        figures_drawn=0,
        figures_cached=summary.figures_drawn + summary.figures_cached,
    )


def _plain(problem: Problem) -> dict:
    where = problem.location
    return {
        "location": [str(where.file), where.line, where.column],
        **{key: getattr(problem, key) for key in ("message", "severity", "card", "code")},
    }


def _problem(plain: dict) -> Problem:
    file, line, column = plain["location"]
    return Problem(
        Location(Path(file), line, column),
        **{key: plain[key] for key in ("message", "severity", "card", "code")},
    )


def summary_to_plain(summary: BuildSummary) -> dict:
    return {**summary.as_dict(), "warnings": [_plain(w) for w in summary.warnings]}


def summary_from_plain(plain: dict) -> BuildSummary:
    return BuildSummary(**{**plain, "warnings": [_problem(w) for w in plain["warnings"]]})
