"""`mathdeck lock --repair`: the lock file rewritten from what can be trusted in it
(lock_repair.py), with the times of the notes it lost read back from the newest .apkg wherever the
sources, loaded and rendered as a build would (from its caches), still match it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import write_atomically
from .identity import (
    LOCK_FILE,
    guid_for_card,
    lock_from_data,
    lock_text,
    require_regular_lock,
)
from .memo import BuildCaches, render_deck_memoised
from .model import Deck
from .options import BuildOptions
from .parsed_cards import load_sources_memoised

if TYPE_CHECKING:
    from .lock_repair import Repair


def repair_lock_file(options: BuildOptions) -> Repair:
    """`mathdeck lock --repair`: the lock rewritten from what can be trusted in it (both sides
    of a merge conflict), with the times of notes it lost read back from the newest .apkg in the
    output folder wherever the sources still match it (`package` in the returned Repair)."""
    from .figures import plan_figures
    from .lock_repair import CurrentNote, repair_lock, restore_times  # only this command's
    from .stages import figure_files

    path = options.cards_dir / LOCK_FILE
    require_regular_lock(path)
    repaired = repair_lock(path.read_text(encoding="utf-8", errors="replace"))
    caches = BuildCaches.open(options.build_caches)
    try:
        loaded = load_sources_memoised(options.cards_dir, caches.cards)
        deck, plans = loaded.complete(), plan_figures(options.figures_dir)
        notes = render_deck_memoised(deck, figure_files(deck, plans), caches.notes, loaded.digests)
    finally:
        caches.save()
    package = newest_package(options.out_dir, deck)
    if package is not None:
        restore_times(
            repaired,
            [
                CurrentNote(
                    guid_for_card(n.card),
                    n.card.id,
                    n.content_hash,
                    "\x1f".join(n.fields),
                    " ".join(n.tags),
                )
                for n in notes
            ],
            package,
        )
    write_atomically(path, lock_text(lock_from_data(repaired.data)).encode("utf-8"))
    return repaired


def newest_package(out_dir: Path, deck: Deck) -> Path | None:
    """dist/<slug>-<version>[+dev].apkg of the highest version (not -en builds); a development
    build is newer than the release it starts from."""
    pattern = re.compile(re.escape(deck.config.slug) + r"-(\d+)\.(\d+)\.(\d+)(\+dev)?\.apkg")
    found = [
        ((*map(int, match.groups()[:3]), bool(match.group(4))), path)
        for path in out_dir.glob("*.apkg")
        if (match := pattern.fullmatch(path.name))
    ]
    return max(found)[1] if found else None
