"""The cheat sheet: the deck's notes in parts and sections, in the seed's order.

`cards/outline.yaml` (optional) names the parts and sections; a card goes under the deepest
section whose `tag` it carries, so the cards themselves stay the one source of every formula.
Without an outline, each subdeck is one part and cards keep their source order. Retired cards
are left out. `export markdown` and `export html` both write this structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .fields import Found, read
from .load import OUTLINE_FILE
from .model import Deck
from .problems import Location, Problem, SourceError
from .render import RenderedNote
from .schema import DUPLICATE, OUTLINE, PART, SECTION, UNKNOWN_NAME
from .yamlsource import Node, read_yaml


@dataclass(frozen=True)
class OutlineSection:
    title: str
    tag: str | None
    depth: int  # 1 for a part's top sections
    location: Location


@dataclass(frozen=True)
class OutlinePart:
    subdeck: str
    title: str
    sections: tuple[
        OutlineSection, ...
    ]  # flattened, in reading order (a parent before its children)
    location: Location


@dataclass
class SheetSection:
    title: str | None  # None: the cards of a part that no section claims
    depth: int
    anchor: str
    notes: list[RenderedNote] = field(default_factory=list)


@dataclass
class SheetPart:
    title: str
    anchor: str
    sections: list[SheetSection]

    @property
    def notes(self) -> list[RenderedNote]:
        return [note for section in self.sections for note in section.notes]


@dataclass
class Sheet:
    title: str
    version: str
    parts: list[SheetPart]

    @property
    def notes(self) -> list[RenderedNote]:
        return [note for part in self.parts for note in part.notes]


# ---------------------------------------------------------------- outline.yaml


def load_outline(cards_dir: Path) -> list[OutlinePart]:
    """The parts of cards/outline.yaml ([] when there is none); SourceError lists every problem."""
    path = cards_dir / OUTLINE_FILE
    if not path.exists():
        return []
    root = read_yaml(path)
    problems = Found()
    outline = read(
        root,
        OUTLINE,
        problems,
        not_a_mapping=f"{OUTLINE_FILE} must be a mapping with a 'parts' list",
    )
    parts = []
    for node in outline.get("parts", ()) if outline is not None else ():
        part = read(
            node,
            PART,
            problems,
            not_a_mapping="each part must be a mapping with 'subdeck', 'title' and 'sections'",
        )
        if part is not None:
            subdeck = part.get("subdeck", "")
            sections = _sections(part.get("sections", ()), 1, problems)
            parts.append(
                OutlinePart(subdeck, part.get("title") or subdeck, tuple(sections), node.location)
            )
    problems += _repeated(parts)
    if problems:
        raise SourceError(sorted(problems))
    return parts


def _sections(nodes: list[Node], depth: int, problems: Found) -> list[OutlineSection]:
    flat = []
    for item in nodes:
        section = read(
            item,
            SECTION,
            problems,
            not_a_mapping="each section must be a mapping with 'title' (and 'tag', 'sections')",
        )
        if section is not None:
            flat.append(
                OutlineSection(section.get("title", ""), section.get("tag"), depth, item.location)
            )
            flat += _sections(section.get("sections", ()), depth + 1, problems)
    return flat


def _repeated(parts: list[OutlinePart]) -> list[Problem]:
    problems, subdecks = [], set()
    for part in parts:
        if part.subdeck in subdecks:
            problems.append(
                Problem(part.location, f"subdeck '{part.subdeck}' is listed twice", code=DUPLICATE)
            )
        subdecks.add(part.subdeck)
        tags = set()
        for section in part.sections:
            if section.tag and section.tag in tags:
                problems.append(
                    Problem(
                        section.location,
                        f"tag '{section.tag}' names two sections of '{part.subdeck}'",
                        code=DUPLICATE,
                    )
                )
            tags.add(section.tag)
    return problems


def outline_problems(outline: list[OutlinePart], deck: Deck) -> list[Problem]:
    """Outline entries that match no card: most likely a typo in a tag or a subdeck."""
    problems = []
    subdecks = {card.subdeck for card in deck.cards}
    for part in outline:
        if part.subdeck not in subdecks:
            problems.append(
                Problem(part.location, f"no card is in subdeck '{part.subdeck}'", code=UNKNOWN_NAME)
            )
            continue
        tags = {tag for card in deck.cards if card.subdeck == part.subdeck for tag in card.all_tags}
        for section in part.sections:
            if section.tag and section.tag not in tags:
                problems.append(
                    Problem(
                        section.location,
                        f"no card in '{part.subdeck}' has the tag '{section.tag}'",
                        code=UNKNOWN_NAME,
                    )
                )
    return sorted(problems)


# ---------------------------------------------------------------- grouping


def build_sheet(deck: Deck, notes: list[RenderedNote], outline: list[OutlinePart]) -> Sheet:
    """Every live note, each once, in the outline's parts and sections."""
    live = [note for note in notes if not note.card.retired]
    by_subdeck: dict[str, list[RenderedNote]] = {}
    for note in live:
        by_subdeck.setdefault(note.card.subdeck, []).append(note)
    outlined = {part.subdeck: part for part in outline}
    order = [part.subdeck for part in outline if part.subdeck in by_subdeck]
    order += [subdeck for subdeck in by_subdeck if subdeck not in outlined]
    parts = []
    for subdeck in order:
        part = outlined.get(subdeck) or OutlinePart(
            subdeck, subdeck or deck.config.title, (), Location(Path())
        )
        parts.append(_sheet_part(part, by_subdeck[subdeck]))
    return Sheet(deck.config.title, deck.config.version, parts)


def _sheet_part(part: OutlinePart, notes: list[RenderedNote]) -> SheetPart:
    anchor = slugify(part.title)
    loose = SheetSection(None, 1, f"{anchor}-more")
    sections = [SheetSection(s.title, s.depth, slugify(s.tag or s.title)) for s in part.sections]
    for note in notes:
        index = _deepest_section(part.sections, set(note.card.all_tags))
        (loose if index is None else sections[index]).notes.append(note)
    kept = [loose] if loose.notes else []
    kept += [section for index, section in enumerate(sections) if _has_notes(sections, index)]
    return SheetPart(part.title, anchor, kept)


def _deepest_section(sections: tuple[OutlineSection, ...], tags: set[str]) -> int | None:
    matches = [index for index, section in enumerate(sections) if section.tag in tags]
    return max(matches, key=lambda index: (sections[index].depth, -index)) if matches else None


def _has_notes(sections: list[SheetSection], index: int) -> bool:
    """A section is shown when it or one of the sections nested under it has notes."""
    return any(section.notes for section in [sections[index], *_children(sections, index)])


def _children(sections: list[SheetSection], index: int) -> list[SheetSection]:
    depth, children = sections[index].depth, []
    for section in sections[index + 1 :]:
        if section.depth <= depth:
            break
        children.append(section)
    return children


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
