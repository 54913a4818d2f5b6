"""prepare: the first half of `build` for every other output (export markdown/html/csv, push).

load + check → language → render + figures, with the build's own stage functions, so a
cheat sheet, a CSV row and a pushed note carry exactly the HTML and media of the .apkg.
Nothing is written to the sources (no lock file: note times matter only to packages).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import Deck, in_language
from .options import BuildOptions, Progress, quiet
from .render import FigureFiles, RenderedNote
from .stages import figure_files, render_and_draw
from .stages_check import load_and_check


@dataclass(frozen=True)
class PreparedDeck:
    cards_dir: Path  # the sources' folder: its outline.yaml and lock are read by some outputs
    deck: Deck
    notes: list[RenderedNote]
    media: list[Path]  # cached figure files, named as the notes refer to them
    figures: dict[str, FigureFiles]  # figure name → its day and night media names

    def media_file(self, name: str) -> Path:
        return next(path for path in self.media if path.name == name)


def prepare(options: BuildOptions, lang: str = "en+zh", progress: Progress = quiet) -> PreparedDeck:
    checked = load_and_check(options, progress)
    deck = in_language(checked.deck, lang)
    rendered = render_and_draw(deck, checked.plans, options, progress)
    return PreparedDeck(
        options.cards_dir,
        deck,
        rendered.notes,
        rendered.figures.media,
        figure_files(deck, checked.plans),
    )
