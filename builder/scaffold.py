"""`mathdeck new DIR`: a deck that builds at once, from the files in builder/templates/new_deck/.

The deck gets ids of its own (deck and one note type per kind), drawn at random: Anki finds a
learner's deck and notes by them, so two decks must never share one, and they never change.
The folder appears whole or not at all: the files are written into a temporary folder beside
it, which is then renamed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .kinds import KINDS

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "new_deck"
# Ids are drawn from [2**50, 2**53): far from Anki's own small ids (the Default deck is 1) and
# from millisecond timestamps, and exact in JSON and JavaScript (AnkiConnect, Anki's web views).
# Two decks drawing the same one of these 7.9e15 numbers is vanishingly unlikely.
ID_LOW, ID_HIGH = 2**50, 2**53
# Template files whose name cannot be the file's own in the package (setuptools skips dotfiles).
RENAMED = {"gitignore": ".gitignore"}


class ScaffoldError(Exception):
    """The folder cannot become a new deck (it holds files already, or a name is unusable)."""


@dataclass(frozen=True)
class NewDeck:
    folder: Path
    title: str
    slug: str
    files: list[Path]  # relative to folder


def new_deck(folder: Path, title: str | None = None) -> NewDeck:
    """Write a working deck into `folder` (absent or empty)."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"{folder} already exists and is not an empty folder: choose a new one")
    name = folder.resolve().name
    slug = slug_for(name)
    title = title or _title_for(name)
    ids = fresh_ids(1 + len(KINDS))
    # @TITLE_YAML@ is a YAML value (quoted: a title with `: ` or `#` stays text); @TITLE@ is prose.
    values = {
        "@TITLE_YAML@": json.dumps(title, ensure_ascii=False),
        "@TITLE@": title,
        "@SLUG@": slug,
        "@DECK_ID@": str(ids[0]),
    }
    values |= {
        f"@{kind.upper()}_ID@": str(number) for kind, number in zip(KINDS, ids[1:], strict=True)
    }
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=folder.parent))
    try:
        files = _write_templates(staging, values)
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return NewDeck(folder, title, slug, files)


def fresh_ids(count: int) -> list[int]:
    """`count` distinct random ids for a deck and its note types."""
    ids: set[int] = set()
    while len(ids) < count:
        ids.add(ID_LOW + secrets.randbelow(ID_HIGH - ID_LOW))
    return sorted(ids)


def slug_for(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ScaffoldError(
            f"cannot make a deck name from '{name}': use letters or digits in the folder's name"
        )
    return slug


def _title_for(name: str) -> str:
    return re.sub(r"[-_]+", " ", name).strip().title() or name


def _write_templates(target: Path, values: dict[str, str]) -> list[Path]:
    written = []
    for source in sorted(TEMPLATE_DIR.rglob("*")):
        if not source.is_file() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE_DIR)
        relative = relative.with_name(RENAMED.get(relative.name, relative.name))
        text = source.read_text(encoding="utf-8")
        for marker, value in values.items():
            text = text.replace(marker, value)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        written.append(relative)
    return written
