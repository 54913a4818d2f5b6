"""token_sets: what near-duplicate texts are compared by (builder/near_duplicates.py), for every
text of a deck's side at once, as numpy arrays.

A text's tokens: its prose words, lowercased, cut to their first 6 letters (a cheap stemmer:
"regularisation" and "regularization", "variance" and "variances" agree), stop words dropped;
and each formula's TeX, without what changes only its looks (spacing, sizing and font commands,
braces; \\dfrac is \\frac), as overlapping runs of 3 TeX tokens (a formula of fewer tokens gives
one token: its tokens joined by spaces). A token is its string: the formula "$x$" and the word
"x" give one token.

The texts are read together, joined by a separator that no text holds: one regex pass finds
every formula, builder/tex_tokens.py their TeX tokens, and numpy (builder/prose_stems.py) finds
the prose words in the UTF-8 bytes, each packed into an integer (6 ASCII letters fit in 48 bits,
and big-endian packing keeps their alphabetical order). No Python object is made for a word, a
TeX token or a text: at 20,000 cards this is about a fifth of the time of reading each text by
itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from typing import TYPE_CHECKING

from .prose_stems import STEM_LENGTH, packed_stem, prose_stems
from .sorted_arrays import first_of_runs, renumbered

if TYPE_CHECKING:
    import numpy as np

# $$display$$ or $inline$ (an inline `$` neither escaped nor doubled). Written to start with the
# `$` itself, so the regex engine skips to the next `$` instead of trying every character; the
# lookbehind then looks back past it.
MATH_PATTERN = r"\$(?:\$(ANY+?)\$\$|(?<![\\$]\$)(?!\$)(ANY+?)(?<!\\)\$)"
MATH = re.compile(MATH_PATTERN.replace("ANY", "."), re.S)
WORD = re.compile(r"[a-z0-9]+")
RUN = 3  # TeX tokens per formula shingle

_SPELLED_STEM = re.compile(rf"[a-z0-9]{{1,{STEM_LENGTH}}}")
_SYMBOL = re.compile(r"[^\s\w\\{}&~$]")  # what a separator must be: one TOKEN, no noise, no math
# A formula's token that is no stem, as an integer: its kind in the 2 low bits (no TeX token, one,
# two, a run of 3), the ids of its TeX tokens above them.
_EMPTY, _SINGLE, _PAIR, _RUN = range(4)
_KEY_BITS = 63  # an integer key must fit an int64


class TokenSets:
    """The token sets of `texts` texts: `row[i]` holds `token[i]`, each token once a text.
    Tokens are numbered 0, 1, ...; `spelling` gives their strings (which break ties between
    equally rare tokens: a set's order changes with string hashing). (A plain class:
    builder/records.py says why.)"""

    __slots__ = ("row", "spelling", "texts", "token")

    def __init__(
        self,
        texts: int,
        row: np.ndarray,
        token: np.ndarray,
        spelling: Callable[[np.ndarray], list[str]],
    ) -> None:
        self.texts = texts
        self.row = row
        self.token = token
        self.spelling = spelling

    @classmethod
    def of_sets(cls, sets: Sequence[Iterable[str]]) -> TokenSets:
        """Sets of strings already made (tests, or tokens kept elsewhere)."""
        import numpy as np

        vocabulary: defaultdict[str, int] = defaultdict()
        vocabulary.default_factory = vocabulary.__len__  # a new token gets the next id
        rows: list[int] = []
        tokens: list[int] = []
        for at, tokens_of_text in enumerate(sets):
            tokens += map(vocabulary.__getitem__, tokens_of_text)
            rows += [at] * (len(tokens) - len(rows))
        row, token, ids = _numbered(np.array(rows, np.int64), np.array(tokens, np.int64), len(sets))
        words = list(vocabulary)
        return cls(len(sets), row, token, lambda numbers: [words[i] for i in ids[numbers].tolist()])


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
    word_rows, words = prose_stems(" ".join(prose), separator)
    tex = _formula_tokens(formulas, separator)
    # stems and the formulas' other tokens are numbered apart: each fits one key with its text
    stem_row, stem, stems = _numbered(
        np.r_[word_rows, formula_rows[tex.stem_formulas]], np.r_[words, tex.stems], len(texts)
    )
    tex_row, tex_token, others = _numbered(formula_rows[tex.formulas], tex.raw, len(texts))
    row, token = np.r_[stem_row, tex_row], np.r_[stem, len(stems) + tex_token]
    return TokenSets(len(texts), row, token, partial(_spell, stems, others, tex))


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


class _FormulaTokens:
    """The formulas' tokens: stems (a formula of one TeX token that could be a word: "$x$" and
    "x" are one token) and the other tokens as integers (see _EMPTY), by formula."""

    __slots__ = ("formulas", "pairs", "raw", "stem_formulas", "stems", "words")

    def __init__(
        self,
        stem_formulas: np.ndarray,
        stems: np.ndarray,
        formulas: np.ndarray,
        raw: np.ndarray,
        words: Sequence[str],
        pairs: np.ndarray | None,
    ) -> None:
        self.stem_formulas = stem_formulas
        self.stems = stems
        self.formulas = formulas
        self.raw = raw
        self.words = words  # each TeX token, by id
        self.pairs = pairs  # what a pair's number stands for, where pairs were numbered

    def spell(self, raw: int) -> str:
        kind, key = raw & 3, raw >> 2
        if kind == _EMPTY:
            return ""
        if kind == _SINGLE:
            return self.words[key]
        if kind == _PAIR:
            return " ".join(self._pair(key))
        pair, last = divmod(key, len(self.words))
        return " ".join((*self._pair(pair), self.words[last]))

    def _pair(self, pair: int) -> tuple[str, str]:
        first, second = divmod(
            pair if self.pairs is None else int(self.pairs[pair]), len(self.words)
        )
        return self.words[first], self.words[second]


def _formula_tokens(formulas: list[str], separator: str) -> _FormulaTokens:
    """Each formula's tokens: its runs of RUN TeX tokens, or its TeX tokens joined by spaces
    when it has fewer."""
    import numpy as np

    from .tex_tokens import tex_tokens  # here: lint_text and lint_rules need only MATH and WORD

    tex = tex_tokens(formulas, separator)
    ids, words, count = tex.ids, tex.words, len(tex.words)
    between = ids == tex.separator
    formula = np.cumsum(between)  # a separator starts the next formula
    size = np.bincount(formula, minlength=len(formulas))
    size[1:] -= 1
    first = np.r_[0, np.flatnonzero(between) + 1]
    whole = np.r_[~between, False, False]
    at = np.flatnonzero(whole[:-2] & whole[1:-1] & whole[2:])  # where a run of 3 starts
    ids = np.r_[ids, 0, 0]
    empty, one, two = (np.flatnonzero(size == tokens) for tokens in range(RUN))
    # the first two tokens of each run, then the two of each formula of two
    pair = np.r_[at, first[two]]
    pair, pairs = ids[pair] * count + ids[pair + 1], None
    if (int(pair.max(initial=0)) + 1) * count >= 1 << (_KEY_BITS - 2):  # number them instead
        pair, pairs = renumbered(pair)
    single = ids[first[one]]
    stem = _stems_of(single, words)
    raw = np.r_[
        (pair[: len(at)] * count + ids[at + 2]) << 2 | _RUN,
        pair[len(at) :] << 2 | _PAIR,
        single[stem < 0] << 2 | _SINGLE,
        np.full(len(empty), _EMPTY),
    ]
    formulas_of = np.r_[formula[at], two, one[stem < 0], empty]
    return _FormulaTokens(one[stem >= 0], stem[stem >= 0], formulas_of, raw, words, pairs)


def _stems_of(ids: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """The packed stem of each TeX token that could be a word, -1 for the others."""
    import numpy as np

    distinct = np.sort(ids)
    distinct = distinct[first_of_runs(distinct)]
    stems = [
        packed_stem(words[at]) if _SPELLED_STEM.fullmatch(words[at]) else -1
        for at in distinct.tolist()
    ]
    return np.array(stems, np.int64)[np.searchsorted(distinct, ids)]


def _spell(
    stems: np.ndarray, others: np.ndarray, tex: _FormulaTokens, tokens: np.ndarray
) -> list[str]:
    """The strings of tokens numbered by tokenise: stems first, then the formulas' others."""
    spelled = []
    for token in tokens.tolist():
        if token < len(stems):
            packed = int(stems[token]).to_bytes(STEM_LENGTH, "big")
            spelled.append(packed.rstrip(b"\0").decode("ascii"))
        else:
            spelled.append(tex.spell(int(others[token - len(stems)])))
    return spelled


def _numbered(
    rows: np.ndarray, values: np.ndarray, texts: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (row, value) once, its value numbered 0, 1, ... in the values' order: (rows,
    numbers, the values by number). One sort of the row and value as one integer; values too
    wide to share it with the row are numbered first."""
    import numpy as np

    bits = max(texts - 1, 1).bit_length()
    table = None
    if int(values.max(initial=0)) >> (_KEY_BITS - bits):
        values, table = renumbered(values)
    key = np.sort(values << bits | rows)
    key = key[first_of_runs(key)]
    value, row = key >> bits, key & ((1 << bits) - 1)
    new = first_of_runs(value)
    distinct = value[new]
    return row, np.cumsum(new) - 1, distinct if table is None else table[distinct]
