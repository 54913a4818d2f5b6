"""changes: which cards a build added, changed, retired or removed, compared with the one before.

`mathdeck build` compares the lock before and after (the content hash of every card's note, as
written); `mathdeck watch` compares the notes of two rebuilds. Both say it in these words.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Final

from .identity import Lock
from .records import Record


class CardChanges(Record):
    __slots__ = field_names = ("added", "changed", "retired", "removed")
    added: Final[list[str]]
    changed: Final[list[str]]
    retired: Final[list[str]]  # changed, and now marked `retired: true`
    removed: Final[list[str]]  # gone from the sources

    def __init__(
        self,
        added: list[str] | None = None,
        changed: list[str] | None = None,
        retired: list[str] | None = None,
        removed: list[str] | None = None,
    ) -> None:
        self.added = [] if added is None else added
        self.changed = [] if changed is None else changed
        self.retired = [] if retired is None else retired
        self.removed = [] if removed is None else removed

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.retired or self.removed)


def card_changes(
    before: dict[str, str], after: dict[str, str], retired: AbstractSet[str] = frozenset()
) -> CardChanges:
    """`before` and `after` map card id → content hash; `retired` names the cards retired now."""
    edited = [card for card in after.keys() & before.keys() if after[card] != before[card]]
    return CardChanges(
        added=sorted(after.keys() - before.keys()),
        changed=sorted(card for card in edited if card not in retired),
        retired=sorted(card for card in edited if card in retired),
        removed=sorted(before.keys() - after.keys()),
    )


def lock_hashes(lock: Lock) -> dict[str, str]:
    """card id → the content hash of its note as the lock records it."""
    return {entry.id: entry.content_hash for entry in lock.notes.values()}
