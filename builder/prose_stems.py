"""The prose half of a text's tokens (token_sets.py): its words, lowercased, cut to their first
STEM_LENGTH letters (a cheap stemmer: "regularisation" and "regularization", "variance" and
"variances" agree), stop words dropped. numpy finds the words of every text at once in the UTF-8
bytes, each stem packed into an integer (6 ASCII letters fit in 48 bits, and big-endian packing
keeps their alphabetical order)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Words that carry no content of their own: two questions do not match on "what is the".
STOP_WORDS = frozenset(
    """
a an the of in on at to for from by with without into onto over under as is are was were be
been being it its this that these those there here and or nor but not no so than then if when
what which who whom whose why how does do did can could should would will may might must shall
your you we our one ones two their they them each every any some all both such very also only
just about between versus vs per via
""".split()  # noqa: SIM905
)
STEM_LENGTH = 6
# bytes.translate's table: 1 for a byte of [a-z0-9], a word's letters, 0 for any other
_LETTERS = bytes(byte in b"0123456789abcdefghijklmnopqrstuvwxyz" for byte in range(256))


def prose_stems(prose: str, separator: str) -> tuple[np.ndarray, np.ndarray]:
    """(text, packed stem) of every word of the prose, stop words aside: the stem is a word's
    first STEM_LENGTH letters of [a-z0-9], packed big-endian into an integer."""
    import numpy as np

    if separator != "\0":
        prose = prose.replace("\0", " ").replace(separator, "\0")  # NUL is not a letter either
    data = b" " + prose.encode("utf-8", "surrogatepass") + b" " * 8
    # a word's first letter and the first non-letter after it, in turn
    edges = np.flatnonzero(np.diff(np.frombuffer(data.translate(_LETTERS), np.int8)))
    start, end = edges[0::2] + 1, edges[1::2] + 1
    between = np.flatnonzero(np.frombuffer(data, np.uint8) == 0)  # NUL: where a text ends
    words = np.diff(np.r_[0, np.searchsorted(start, between), len(start)])
    row = np.repeat(np.arange(len(words)), words)
    # the 8 bytes from each word's first letter as one big-endian integer, cut to the stem
    eight = np.ndarray((len(data) - 7,), ">u8", data, 0, (1,))[start]
    cut = 8 * np.minimum(end - start, STEM_LENGTH).astype(np.uint64)
    stem = ((eight >> (np.uint64(64) - cut)) << (np.uint64(8 * STEM_LENGTH) - cut)).astype(np.int64)
    modulus, stops = _stop_stems()
    stop = stops[stem % modulus] == stem
    return row[~stop], stem[~stop]


@cache
def _stop_stems() -> tuple[int, np.ndarray]:
    """The packed stop words as a table by their value modulo a number that tells them apart:
    looking a stem up is then one division, not a search."""
    import numpy as np

    packed = sorted(map(packed_stem, STOP_WORDS))
    modulus = next(
        m for m in range(len(packed), 1 << 20) if len({p % m for p in packed}) == len(packed)
    )
    table = np.full(modulus, -1, np.int64)
    table[np.array(packed) % modulus] = packed
    return modulus, table


def packed_stem(word: str) -> int:
    """A stem as an integer: its first STEM_LENGTH bytes, big-endian, zeros after."""
    return int.from_bytes(word[:STEM_LENGTH].encode("ascii").ljust(STEM_LENGTH, b"\0"), "big")
