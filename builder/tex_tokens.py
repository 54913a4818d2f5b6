"""tex_tokens: the TeX tokens of many formulas at once, as integer ids (builder/token_sets.py
makes a formula's near-duplicate tokens from them).

A formula loses what changes only its looks (spacing, sizing and font commands, braces; \\dfrac
is \\frac), then splits into TOKENs: a TeX command, a run of [a-z0-9], or one symbol. The
formulas come joined by a separator, itself a symbol token. When they are ASCII, as nearly all
TeX is, numpy finds the tokens in the bytes and reads each as the integer of its bytes (8 of
them, big-endian; longer ones go through a dict): no Python string per token. Otherwise TOKEN's
findall does, with the same tokens.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .sorted_arrays import renumbered

if TYPE_CHECKING:
    import numpy as np

# TeX that changes how a formula looks, not what it says (matched in lowercased text): these
# commands, and the characters TEX_NOISE_CHARACTERS. (No command holds one of those characters,
# so removing them after the commands removes what one pass of both would.)
TEX_NOISE_COMMANDS = re.compile(
    r"\\(?:left|right)\.|\\(?:left|right|big{1,2}[lrm]?|displaystyle|textstyle|quad|qquad|[,;:!> ]"
    r"|mathrm|mathit|mathbf|boldsymbol|"
    r"bm|mathsf|mathtt|text|textrm|textit|textbf|operatorname\*?|mbox|limits|nolimits)(?![a-z])"
    r"|\\\\"
)
TEX_NOISE_CHARACTERS = "{}&~$"
TOKEN = re.compile(r"\\[a-z]+|[a-z0-9]+|[^\s\w]")  # a word, a TeX command, or one symbol

# What TOKEN makes of each ASCII character: skipped, a letter, a digit, a backslash, a symbol.
_SKIP, _LETTER, _DIGIT, _BACKSLASH, _SYMBOL = range(5)
_KINDS = bytes(
    _LETTER
    if "a" <= chr(byte) <= "z"
    else _DIGIT
    if "0" <= chr(byte) <= "9"
    else _BACKSLASH
    if chr(byte) == "\\"
    else _SYMBOL
    if TOKEN.fullmatch(chr(byte))
    else _SKIP
    for byte in range(256)
)
_LONG = (1 << 63) - 1  # a token of more than 8 bytes: _LONG - its number


@dataclass(frozen=True)
class TexTokens:
    """The formulas' tokens in order, as ids (0, 1, ...), and each id's token."""

    ids: np.ndarray
    words: Sequence[str]
    separator: int  # the id of the separator between two formulas (-1 without two formulas)


def tex_tokens(formulas: list[str], separator: str) -> TexTokens:
    """The tokens of the formulas, which hold no `separator` (a symbol to TOKEN)."""
    cleaned = TEX_NOISE_COMMANDS.sub(" ", separator.join(formulas))
    for character in TEX_NOISE_CHARACTERS:
        cleaned = cleaned.replace(character, " ")
    cleaned = cleaned.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    return _ascii_tokens(cleaned, separator) if cleaned.isascii() else _tokens(cleaned, separator)


def _tokens(cleaned: str, separator: str) -> TexTokens:
    """TOKEN's findall, each token numbered by a dict."""
    import numpy as np

    tokens = TOKEN.findall(cleaned)
    vocabulary: defaultdict[str, int] = defaultdict(None, {separator: 0})
    vocabulary.default_factory = vocabulary.__len__  # a new token gets the next id
    ids = np.fromiter(map(vocabulary.__getitem__, tokens), np.int64, len(tokens))
    return TexTokens(ids, list(vocabulary), 0)


def _ascii_tokens(cleaned: str, separator: str) -> TexTokens:
    """The same tokens found by numpy in the bytes: where each starts and ends, then their
    bytes as integers, numbered in their order."""
    import numpy as np

    data = cleaned.encode("ascii")
    kind = np.frombuffer(data.translate(_KINDS), np.uint8)
    before = np.r_[_SKIP, kind[:-1]]
    letter, digit = kind == _LETTER, kind == _DIGIT
    # a run of letters right after a backslash is a command's; a digit after one starts a token
    run = letter & (before != _LETTER)
    command = np.r_[False, (run & (before == _BACKSLASH))[run]][np.cumsum(run)] & letter
    after_command = np.r_[False, command[:-1]]
    goes_on = (letter & (before == _BACKSLASH)) | (
        (letter | digit) & ((before == _LETTER) | (before == _DIGIT)) & ~(digit & after_command)
    )
    start = np.flatnonzero((kind >= _LETTER) & ~goes_on)
    ends = np.r_[goes_on[1:], False]
    end = np.flatnonzero((kind >= _LETTER) & ~ends) + 1
    length = end - start
    eight = np.ndarray((len(data) + 1,), ">u8", data + bytes(8), 0, (1,))[start].astype(np.int64)
    cut = 64 - 8 * np.minimum(length, 8)
    value = eight >> cut << cut  # a token's bytes, zeros after
    long = np.flatnonzero(length > 8)
    if len(long):
        numbers: dict[str, int] = {}
        value[long] = [
            _LONG - numbers.setdefault(cleaned[begin:stop], len(numbers))
            for begin, stop in zip(start[long].tolist(), end[long].tolist(), strict=True)
        ]
    else:
        numbers = {}
    ids, values = renumbered(value)
    at = int(np.searchsorted(values, ord(separator) << 56))
    separator_id = at if at < len(values) and values[at] == ord(separator) << 56 else -1
    return TexTokens(ids, _Spelled(values, list(numbers)), separator_id)


@dataclass(frozen=True)
class _Spelled(Sequence[str]):
    """The token of each id, spelled when asked (most are never asked)."""

    values: np.ndarray
    long: list[str]

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, at):
        value = int(self.values[at])
        if value > _LONG - len(self.long):
            return self.long[_LONG - value]
        return value.to_bytes(8, "big").rstrip(b"\0").decode("ascii") or "\0"
