"""Building decks in throwaway folders, from copies of real sources."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MINIMAL = REPO / "tests" / "fixtures" / "minimal"


def copy_sources(source: Path, target: Path) -> Path:
    """Copy a project (cards/ and figures/) so a test may edit it; returns the cards folder."""
    shutil.copytree(source / "cards", target / "cards")
    if (source / "figures").exists():
        shutil.copytree(
            source / "figures", target / "figures", ignore=shutil.ignore_patterns("__pycache__")
        )
    else:
        (target / "figures").mkdir()
    return target / "cards"


def copy_flagship(project: Path) -> Path:
    """The flagship sources in a throwaway folder, with its figures already drawn: they are drawn
    once into the repository's own cache (.cache/figures, as `mathdeck figures` would) and copied,
    so each test module does not redraw them. A cached file's name is the hash of its inputs."""
    from builder import figures

    copy_sources(REPO, project)
    cache = REPO / ".cache" / "figures"
    figures.make_figures(
        figures.plan_figures(REPO / "figures").values(), cache
    )  # only what is missing
    shutil.copytree(
        cache, project / ".cache" / "figures", ignore=shutil.ignore_patterns(".drawing-*")
    )
    return project


def build_in(project: Path, force: bool = False, check_math: bool = True, **more):
    from builder.build import BuildOptions, build

    options = BuildOptions(
        cards_dir=project / "cards",
        out_dir=project / "dist",
        figures_dir=project / "figures",
        cache_dir=project / ".cache" / "figures",
        force=force,
        check_math=check_math,
        **more,
    )
    return build(options)


def set_version(cards_dir: Path, version: str) -> None:
    deck_yaml = cards_dir / "deck.yaml"
    lines = [
        f"version: {version}" if line.startswith("version:") else line
        for line in deck_yaml.read_text().splitlines()
    ]
    deck_yaml.write_text("\n".join(lines) + "\n")
