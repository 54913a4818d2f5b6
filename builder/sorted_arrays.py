"""sorted_arrays: what the near-duplicate finder (builder/near_duplicates.py, token_sets.py) asks
of sorted numpy integer arrays: runs of equal values, places within them, numbering. Sorting
one int64 key is several times faster than np.argsort, np.unique or np.lexsort on this machine
(numpy's SIMD sort), so orders are made by sorting keys that carry what they need."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def first_of_runs(ordered: np.ndarray) -> np.ndarray:
    """Whether each value of a sorted array is the first of its run of equal values."""
    import numpy as np

    new = np.ones(len(ordered), bool)
    new[1:] = ordered[1:] != ordered[:-1]
    return new


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    import numpy as np

    return np.flatnonzero(first_of_runs(ordered))


def places(ordered: np.ndarray) -> np.ndarray:
    """Each item's place (0, 1, ...) among the equal values before it, in a sorted array."""
    import numpy as np

    starts = run_starts(ordered)
    return np.arange(len(ordered)) - np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))


def stable_order(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable") for values >= 0, by sorting each value and its place as
    one integer (a quarter of the time)."""
    import numpy as np

    count = len(values)
    return np.sort(values.astype(np.int64) * count + np.arange(count)) % max(count, 1)


def renumbered(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values numbered 0, 1, ... in their order, and the values by number."""
    import numpy as np

    order = np.argsort(values)
    new = first_of_runs(values[order])
    numbers = np.empty_like(values)
    numbers[order] = np.cumsum(new) - 1
    return numbers, values[order[new]]
