"""options: what a build is asked to do, and how it reports progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from .project import deck_paths
from .records import Record

# progress(stage) names the stage under way; progress(stage, done, total) also counts its items
# (cli shows a bar: "Drawing figures 3/10").
Progress = Callable[..., None]


def quiet(_: str, *counts: int) -> None:
    """The Progress of a run that shows none: the stage names go nowhere."""


class BuildOptions(Record):
    __slots__ = field_names = (
        "cards_dir",
        "out_dir",
        "figures_dir",
        "cache_dir",
        "force",
        "check_math",
        "allow_note_type_change",
        "dev",
        "release",
        "lang",
        "build_cache_dir",
        "strict",
        "releases_dir",
        "changelog_file",
    )
    cards_dir: Final[Path]
    out_dir: Final[Path]
    figures_dir: Final[Path]
    cache_dir: Final[Path]
    force: Final[bool]
    check_math: Final[bool]
    allow_note_type_change: Final[bool]
    # `mathdeck watch`: always the development build <slug>-<version>+dev.apkg
    # (commit.package_path).
    dev: Final[bool]
    # `mathdeck release --minor` etc.: bump the version, write the changelog, record the release.
    release: Final[str | None]
    # "en+zh" (as written) or "en": English only, the Zh field left empty. An "en" build goes to
    # <slug>-<version>-en.apkg; its times are the en+zh deck's, recorded in the lock as an en+zh
    # build would, so building it twice gives the same bytes.
    lang: Final[str]
    # Parsed cards, check results, notes and MathJax verdicts (builder/memo.py); by default
    # build/ beside cache_dir (.cache/build/ in a project).
    build_cache_dir: Final[Path | None]
    strict: Final[bool]  # `--strict`: warnings (the linter's too) are errors
    # Where `release` keeps every released .apkg and writes the changelog; by default where
    # deck.yaml's `paths:` (or else the deck folder) says: builder/project.py.
    releases_dir: Final[Path | None]
    changelog_file: Final[Path | None]

    def __init__(
        self,
        cards_dir: Path,
        out_dir: Path,
        figures_dir: Path,
        cache_dir: Path,
        force: bool = False,
        check_math: bool = True,
        allow_note_type_change: bool = False,
        dev: bool = False,
        release: str | None = None,
        lang: str = "en+zh",
        build_cache_dir: Path | None = None,
        strict: bool = False,
        releases_dir: Path | None = None,
        changelog_file: Path | None = None,
    ) -> None:
        self.cards_dir = cards_dir
        self.out_dir = out_dir
        self.figures_dir = figures_dir
        self.cache_dir = cache_dir
        self.force = force
        self.check_math = check_math
        self.allow_note_type_change = allow_note_type_change
        self.dev = dev
        self.release = release
        self.lang = lang
        self.build_cache_dir = build_cache_dir
        self.strict = strict
        self.releases_dir = releases_dir
        self.changelog_file = changelog_file

    @classmethod
    def for_deck(
        cls, cards_dir: Path, out_dir: Path | None = None, figures_dir: Path | None = None, **more
    ) -> BuildOptions:
        """Options for the deck in `cards_dir`, its files where deck.yaml's `paths:` puts them."""
        paths = deck_paths(cards_dir)
        return cls(
            cards_dir=cards_dir,
            out_dir=out_dir or paths.dist,
            figures_dir=figures_dir or paths.figures,
            cache_dir=paths.cache / "figures",
            releases_dir=paths.releases,
            changelog_file=paths.changelog,
            **more,
        )

    @property
    def build_caches(self) -> Path:
        return self.build_cache_dir or self.cache_dir.parent / "build"

    @property
    def releases(self) -> Path:
        return self.releases_dir or deck_paths(self.cards_dir).releases

    @property
    def changelog(self) -> Path:
        return self.changelog_file or deck_paths(self.cards_dir).changelog
