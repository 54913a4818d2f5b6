"""changes: which cards a build added, changed, retired or removed, compared with the one before.

`mathdeck build` compares the lock before and after (the content hash of every card's note, as
written); `mathdeck watch` compares the notes of two rebuilds. Both say it in these words.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from .identity import Lock


@dataclass(frozen=True)
class CardChanges:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)  # changed, and now marked `retired: true`
    removed: list[str] = field(default_factory=list)  # gone from the sources

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
