"""user_cache: the per-user cache folder, shared by every deck: the MathJax packages an installed
mathdeck fetches, node's code cache, and what `mathdeck` remembers of command lines it answered
(builder/cli_replay.py). Nothing here is a deck's: deleting it only costs time."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """MATHDECK_CACHE, else $XDG_CACHE_HOME/mathdeck, else ~/.cache/mathdeck."""
    if os.environ.get("MATHDECK_CACHE"):
        return Path(os.environ["MATHDECK_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mathdeck"


def stamps_dir(kind: str) -> Path:
    """Where `mathdeck` keeps what it remembers of command lines of one kind (help, builds, the
    options Typer resolved)."""
    return user_cache_dir() / kind
