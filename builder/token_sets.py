"""token_sets: what near-duplicate texts are compared by (builder/near_duplicates.py), for every
text of a deck's side at once, as numpy arrays.

A text's tokens: its prose words, lowercased, cut to their first 6 letters (a cheap stemmer:
"regularisation" and "regularization", "variance" and "variances" agree), stop words dropped;
and each formula's TeX, without what changes only its looks (spacing, sizing and font commands,
braces; \\dfrac is \\frac), as overlapping runs of 3 TeX tokens (a formula of fewer tokens gives
one token: its tokens joined by spaces). A token is its string: the formula "$x$" and the word
"x" give one token.

The texts are read together, joined by a separator that no text holds: one regex pass finds
every formula, one more every TeX token, and numpy finds the prose words in the UTF-8 bytes,
each packed into an integer (6 ASCII letters fit in 48 bits, and big-endian packing keeps their
alphabetical order). No Python object is made for a word, and none for a text: at 20,000 cards
this is about a tenth of reading each text by itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
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
# $$display$$ or $inline$ (an inline `$` neither escaped nor doubled). Written to start with the
# `$` itself, so the regex engine skips to the next `$` instead of trying every character; the
# lookbehind then looks back past it.
MATH_PATTERN = r"\$(?:\$(ANY+?)\$\$|(?<![\\$]\$)(?!\$)(ANY+?)(?<!\\)\$)"
MATH = re.compile(MATH_PATTERN.replace("ANY", "."), re.S)
WORD = re.compile(r"[a-z0-9]+")
RUN = 3  # TeX tokens per formula shingle

_ALPHANUMERIC = bytes(range(ord("0"), ord("9") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_SPELLED_STEM = re.compile(rf"[a-z0-9]{{1,{STEM_LENGTH}}}")
_SYMBOL = re.compile(r"[^\s\w\\{}&~$]")  # what a separator must be: one TOKEN, no noise, no math
_OTHER = 1 << (8 * STEM_LENGTH)  # token kinds, above the packed stems: short formulas not a stem
_RUNS = 2 * _OTHER  # and runs of 3 TeX tokens


@dataclass(frozen=True)
class TokenSets:
    """The token sets of `texts` texts: `row[i]` holds `token[i]`, sorted by text then token,
    each token once a text. Tokens are numbered 0, 1, ...; `spelling` gives their strings (which
    break ties between equally rare tokens: a set's order changes with string hashing)."""

    texts: int
    row: np.ndarray
    token: np.ndarray
    spelling: Callable[[np.ndarray], list[str]]

    @classmethod
    def of_sets(cls, sets: Sequence[Iterable[str]]) -> TokenSets:
        """Sets of strings already made (tests, or tokens kept elsewhere)."""
        import numpy as np

        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__  # a new token gets the next id
        rows, tokens = [], []
        for at, tokens_of_text in enumerate(sets):
            ids = list(map(vocabulary.__getitem__, tokens_of_text))
            tokens += ids
            rows += [at] * len(ids)
        words = list(vocabulary)
        row, token = _distinct(np.array(rows, np.int64), np.array(tokens, np.int64), len(words))
        return cls(len(sets), row, token, lambda ids: [words[i] for i in ids.tolist()])


def tokenise(texts: Sequence[str]) -> TokenSets:
    """The token sets of the texts (see the module's docstring)."""
    import numpy as np  # ~0.1 s to load: paid only when a side is linted afresh

    separator = _separator(texts)
    pieces = _math(separator).split(separator.join(texts).lower())
    # pieces: prose, display TeX or None, inline TeX or None, prose, ... ; the separators are
    # in the prose, so the formulas' texts are counted from it
    prose = pieces[0::3]
    formula_rows = np.cumsum([piece.count(separator) for piece in prose])[:-1]
    formulas = [
        display or inline for display, inline in zip(pieces[1::3], pieces[2::3], strict=True)
    ]
    word_rows, words = _prose_stems(" ".join(prose), separator)
    formula_of, tex = _formula_tokens(formulas, separator)
    raw = np.concatenate([words, tex.raw])
    rows = np.concatenate([word_rows, formula_rows[formula_of]]).astype(np.int64)
    order, new = _runs_of(raw)
    compact = np.empty(len(raw), np.int64)
    compact[order] = np.cumsum(new) - 1
    distinct = raw[order[new]]
    row, token = _distinct(rows, compact, len(distinct))
    return TokenSets(len(texts), row, token, lambda ids: tex.spell(distinct[ids]))


def _separator(texts: Sequence[str]) -> str:
    """NUL, unless a text holds one: then the first character that no text holds, even once
    lowercased, and that TOKEN reads as one symbol and no other pattern here reads at all."""
    if not any("\0" in text for text in texts):
        return "\0"
    joined = "".join(texts)
    seen = set(joined) | set(joined.lower())
    return next(
        character
        for character in map(chr, range(0x110000))
        if character not in seen and _SYMBOL.fullmatch(character) and character.lower() == character
    )


@cache
def _math(separator: str) -> re.Pattern[str]:
    """MATH within one text of texts joined by the separator."""
    return re.compile(MATH_PATTERN.replace("ANY", f"[^{re.escape(separator)}]"))


def _prose_stems(prose: str, separator: str) -> tuple[np.ndarray, np.ndarray]:
    """(text, packed stem) of every word of the prose, stop words aside: the stem is a word's
    first STEM_LENGTH letters of [a-z0-9], packed big-endian into an integer."""
    import numpy as np

    if separator != "\0":
        prose = prose.replace("\0", " ").replace(separator, "\0")  # NUL is not a letter either
    padding = b" " * STEM_LENGTH
    data = np.frombuffer(b" " + prose.encode("utf-8", "surrogatepass") + padding, np.uint8)
    letter = np.zeros(256, bool)
    letter[np.frombuffer(_ALPHANUMERIC, np.uint8)] = True
    letter = letter[data]
    start = np.flatnonzero(letter[1:] & ~letter[:-1]) + 1
    stem = np.zeros(len(start), np.int64)
    inside = np.ones(len(start), bool)
    for offset in range(STEM_LENGTH):
        inside &= letter[start + offset]
        stem = (stem << 8) | np.where(inside, data[start + offset], 0)
    row = np.searchsorted(np.flatnonzero(data == 0), start)
    stops = np.array(sorted(map(_packed, STOP_WORDS)), np.int64)
    stop = stops[np.searchsorted(stops, stem).clip(max=len(stops) - 1)] == stem
    return row[~stop], stem[~stop]


def _packed(word: str) -> int:
    """A stem as an integer: its first STEM_LENGTH bytes, big-endian, zeros after."""
    return int.from_bytes(word[:STEM_LENGTH].encode("ascii").ljust(STEM_LENGTH, b"\0"), "big")


@dataclass(frozen=True)
class _TexTokens:
    """The formulas' tokens as integers (`raw`), above the packed stems but for a short formula
    that is a stem, and how to spell any token."""

    raw: np.ndarray
    tokens: list[str]  # the TeX tokens, with a separator between formulas
    runs: np.ndarray  # where in `tokens` each distinct run of 3 starts
    others: list[str]  # the short formulas that are no stem

    def spell(self, raw: np.ndarray) -> list[str]:
        spelled = []
        for value in raw.tolist():
            if value < _OTHER:
                spelled.append(value.to_bytes(STEM_LENGTH, "big").rstrip(b"\0").decode("ascii"))
            elif value < _RUNS:
                spelled.append(self.others[value - _OTHER])
            else:
                at = int(self.runs[value - _RUNS])
                spelled.append(" ".join(self.tokens[at : at + RUN]))
        return spelled


def _formula_tokens(formulas: list[str], separator: str) -> tuple[np.ndarray, _TexTokens]:
    """Each formula's tokens, as (formula, raw token) arrays: its runs of RUN TeX tokens, or
    its TeX tokens joined by spaces when it has fewer."""
    import numpy as np

    cleaned = TEX_NOISE_COMMANDS.sub(" ", separator.join(formulas))
    for character in TEX_NOISE_CHARACTERS:
        cleaned = cleaned.replace(character, " ")
    tokens = TOKEN.findall(cleaned.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac"))
    vocabulary: defaultdict[str, int] = defaultdict(None, {separator: 0})
    vocabulary.default_factory = vocabulary.__len__
    ids = np.fromiter(map(vocabulary.__getitem__, tokens), np.int64, len(tokens))
    between = ids == 0
    formula = np.cumsum(between)  # a separator starts the next formula
    size = np.bincount(formula, minlength=len(formulas))
    size[1:] -= 1
    whole = ~between
    at = np.flatnonzero(whole[:-2] & whole[1:-1] & whole[2:]) if len(ids) >= RUN else ids[:0]
    run_index, runs = _run_index(ids, at, len(vocabulary))
    short = np.flatnonzero(size < RUN)
    first = np.r_[0, np.flatnonzero(between) + 1]
    others: dict[str, int] = {}
    short_raw = [
        _packed(joined)
        if _SPELLED_STEM.fullmatch(joined)
        else _OTHER + others.setdefault(joined, len(others))
        for joined in (
            " ".join(tokens[start : start + count])
            for start, count in zip(first[short].tolist(), size[short].tolist(), strict=True)
        )
    ]
    raw = np.concatenate([np.array(short_raw, np.int64), _RUNS + run_index])
    formula_of = np.concatenate([short, formula[at]])
    return formula_of, _TexTokens(raw, tokens, runs, list(others))


def _run_index(ids: np.ndarray, at: np.ndarray, vocabulary: int) -> tuple[np.ndarray, np.ndarray]:
    """Each run of RUN tokens starting at `at`, numbered by its tokens, and where each distinct
    run is first found."""
    import numpy as np

    key = ids[at]
    for step in range(1, RUN):
        if vocabulary * (int(key.max(initial=0)) + 1) >= 1 << 62:  # keep the key in 64 bits
            order, new = _runs_of(key)
            key = np.empty_like(key)
            key[order] = np.cumsum(new) - 1
        key = key * vocabulary + ids[at + step]
    order, new = _runs_of(key)
    index = np.empty(len(key), np.int64)
    index[order] = np.cumsum(new) - 1
    return index, at[order[new]]


def _runs_of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that sorts the values, and where in it each distinct value starts."""
    import numpy as np

    order = np.argsort(values)
    return order, _starts(values[order])


def _starts(ordered: np.ndarray) -> np.ndarray:
    """Whether each value of a sorted array is the first of its run of equal values."""
    import numpy as np

    new = np.ones(len(ordered), bool)
    new[1:] = ordered[1:] != ordered[:-1]
    return new


def _distinct(rows: np.ndarray, tokens: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The (row, token) pairs sorted, each once."""
    import numpy as np

    key = np.sort(rows * max(count, 1) + tokens)
    key = key[_starts(key)]
    return key // max(count, 1), key % max(count, 1)
