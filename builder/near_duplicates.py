"""Near-duplicate texts: which texts say nearly the same thing, in about linear time.

A text becomes a set of tokens (`text_tokens`): its prose words, stop words dropped and cut to
their first 6 letters (a cheap stemmer: "regularisation" and "regularization", "variance" and
"variances" agree), and each formula's TeX normalised (spacing, sizing and font commands and
braces dropped) as overlapping 3-token runs. Two texts are near-duplicates when the Jaccard
similarity of their sets reaches the threshold.

Pairs are found by prefix filtering (Bayardo et al., "Scaling up all pairs similarity search",
WWW 2007): with every set's tokens sorted rarest first, two sets with Jaccard >= t share one of
the first |s| - ceil(t|s|) + 1 tokens of each. Only those prefixes are indexed, so a text meets
only the earlier texts that share one of its rare tokens, and the similarity is then computed
exactly (deterministic, unlike MinHash/LSH's estimates). A token found once in the whole deck
pairs nothing: it has no rank and is dropped before any sorting.

Two caps keep the work linear where a deck is one big cluster (every card made from one
template, "Expectation of X_k ... (case i)"): a token indexes at most `POSTINGS` texts, and a
text is compared with at most `CANDIDATES` earlier ones, those sharing the most prefix tokens.
Each text is reported with one partner, its most similar. The search runs on numpy arrays over
all the texts at once (tokens as integer ranks, postings and candidate pairs by sorting), not a
Python loop per text, and skips the candidates that cannot reach the threshold (fewer tokens
found twice than it needs) before computing any similarity. `mathdeck bench` measures the time
and how many planted duplicates are found (builder/lint_bench.py).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
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
# TeX that changes how a formula looks, not what it says (matched in lowercased text).
TEX_NOISE = re.compile(
    r"\\(?:left|right)\.|\\(?:left|right|big{1,2}[lrm]?|displaystyle|textstyle|quad|qquad|[,;:!> ]"
    r"|mathrm|mathit|mathbf|boldsymbol|"
    r"bm|mathsf|mathtt|text|textrm|textit|textbf|operatorname\*?|mbox|limits|nolimits)(?![a-z])"
    r"|[{}&~$]|\\\\"
)
TOKEN = re.compile(r"\\[a-z]+|[a-z0-9]+|[^\s\w]")  # a word, a TeX command, or one symbol
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.S)
WORD = re.compile(r"[a-z0-9]+")
STEM = re.compile(
    rf"([a-z0-9]{{1,{STEM_LENGTH}}})[a-z0-9]*"
)  # a word's first letters: a cheap stemmer
STOP_STEMS = frozenset(word[:STEM_LENGTH] for word in STOP_WORDS)
CANDIDATES = 8  # earlier texts compared with one text at most (the ones sharing most rare tokens)
POSTINGS = 8  # texts indexed under one token at most: a token in more says nothing of duplication
RUN = 3  # TeX tokens per formula shingle
MIN_TOKENS = 3  # texts with fewer tokens are too short to call duplicates ("$p(x)$")


def text_tokens(text: str) -> frozenset[str]:
    """The set of tokens a text is compared by: its prose words (stop words dropped, cut to 6
    letters) and the runs of 3 TeX tokens in each formula (see the module's docstring)."""
    lowered = text.lower()
    if "$" not in lowered:
        return frozenset(STEM.findall(lowered)) - STOP_STEMS
    pieces = MATH.split(lowered)  # prose, display TeX or None, inline TeX or None, prose, ...
    runs: list[str] = []
    for tex in map(formula_tokens, filter(None, pieces[1::3] + pieces[2::3])):
        runs += (
            map(" ".join, zip(tex, tex[1:], tex[2:], strict=False))
            if len(tex) >= RUN
            else [" ".join(tex)]
        )
    return (frozenset(STEM.findall(" ".join(pieces[0::3]))) - STOP_STEMS).union(runs)


def formula_tokens(tex: str) -> list[str]:
    """TeX tokens of a formula, without what changes only its looks (TEX_NOISE; \\dfrac is
    \\frac)."""
    return TOKEN.findall(
        TEX_NOISE.sub(" ", tex).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    )


@dataclass(frozen=True)
class Pair:
    later: int  # index of the later text
    earlier: int
    similarity: float  # Jaccard, 0..1


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def near_duplicates(
    sets: Sequence[frozenset[str]], threshold: float, groups: Sequence[object] | None = None
) -> list[Pair]:
    """For each set, its most similar earlier set with Jaccard >= threshold (if any). Sets of one
    group (the texts of one note) are never paired. The search is vectorised (numpy arrays over
    all texts at once) but finds what a loop over the texts in order would: see `_candidates`."""
    import numpy as np  # ~0.1 s to load: paid only when a side is linted afresh

    sizes = np.array([len(tokens) for tokens in sets], dtype=np.int64)
    row, rank, prefix = _prefixes(sets, sizes, threshold)
    ranked = np.bincount(row, minlength=len(sets))  # tokens that another text may share
    later, earlier = _candidates(row[prefix], rank[prefix], len(sets))
    group_ids: dict[object, int] = {}
    group = np.array(
        [
            group_ids.setdefault(g, len(group_ids))
            for g in (range(len(sets)) if groups is None else groups)
        ],
        dtype=np.int64,
    )
    smallest, largest = threshold * sizes[later], sizes[later] / threshold
    keep = (smallest <= sizes[earlier]) & (sizes[earlier] <= largest)  # Jaccard <= size ratio
    keep &= group[later] != group[earlier]
    # only tokens found twice can be shared: most candidates cannot reach the threshold
    most = np.minimum(ranked[later], ranked[earlier])
    keep &= most / (sizes[later] + sizes[earlier] - most) >= threshold
    later, earlier = later[keep], earlier[keep]
    shared = np.fromiter(
        (len(sets[i] & sets[j]) for i, j in zip(later.tolist(), earlier.tolist(), strict=True)),
        dtype=np.int64,
        count=len(later),
    )
    similarity = shared / (sizes[later] + sizes[earlier] - shared)  # as exact as Python's int / int
    return _best_partners(later, earlier, similarity, threshold)


def _candidates(row: np.ndarray, rank: np.ndarray, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """(later, earlier) index arrays: for each text, in text order, the at most CANDIDATES
    earlier texts it is compared with, most shared prefix tokens first, ties in the order a loop
    would meet them (prefix token by prefix token, each token's texts in order). `row` and `rank`
    are the prefixes' tokens, sorted by text then rank (`_prefixes`)."""
    import numpy as np

    at = _places(row)  # a token's place in its text's prefix
    # postings: the first POSTINGS texts with the token in their prefix (stable sort: in order)
    by_token = np.argsort(rank, kind="stable")
    posted = by_token[_places(rank[by_token]) < POSTINGS]  # sorted by token, then text
    posted_token = rank[posted]
    first = np.searchsorted(posted_token, rank)  # each prefix entry's token's postings
    count = np.searchsorted(posted_token, rank, side="right") - first
    entry = np.repeat(np.arange(len(rank)), count)
    within = np.arange(len(entry)) - np.repeat(np.cumsum(count) - count, count)
    later, earlier = row[entry], row[posted[first[entry] + within]]
    met = at[entry] * POSTINGS + within  # order met: by prefix token, then place in its postings
    seen = earlier < later  # a text meets only the texts indexed before it
    later, earlier, met = later[seen], earlier[seen], met[seen]
    span = int(met.max(initial=0)) + 1
    key = np.sort((later * texts + earlier) * span + met)  # by pair, then order met
    pair, met = key // span, key % span
    starts = _run_starts(pair)
    shared = np.diff(np.r_[starts, len(pair)])  # prefix tokens shared
    pair, met = pair[starts], met[starts]  # each pair with the first time it was met
    later, earlier = pair // texts, pair % texts
    order = np.lexsort((met, -shared, later))
    later, earlier = later[order], earlier[order]
    keep = _places(later) < CANDIDATES
    return later[keep], earlier[keep]


def _prefixes(
    sets: Sequence[frozenset[str]], sizes: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every text's tokens found in two texts or more, as (text, rank) arrays sorted by text then
    rank, and whether each is in its text's prefix: the first |s| - ceil(t|s|) + 1 of a text of
    MIN_TOKENS or more. Ranks count from 1 rarest first, ties in the order of the tokens' text
    (never in a set's order, which Python's string hashing changes from one process to the
    next)."""
    import numpy as np

    vocabulary: defaultdict[str, int] = defaultdict()
    vocabulary.default_factory = vocabulary.__len__  # a new token gets the next id: one C pass
    ids = np.fromiter(
        map(vocabulary.__getitem__, chain.from_iterable(sets)), dtype=np.int64, count=sizes.sum()
    )
    words = list(vocabulary)
    frequency = np.bincount(ids, minlength=len(words))
    shared = sorted(np.flatnonzero(frequency > 1).tolist(), key=words.__getitem__)
    alphabetical = np.array(shared, dtype=np.int64)
    by_rank = alphabetical[np.argsort(frequency[alphabetical], kind="stable")]
    ranks = np.zeros(len(words), dtype=np.int64)
    ranks[by_rank] = np.arange(1, len(by_rank) + 1)
    rank = ranks[ids]
    row = np.repeat(np.arange(len(sets)), sizes)
    key = np.sort((row * (len(by_rank) + 1) + rank)[rank > 0])
    row, rank = key // (len(by_rank) + 1), key % (len(by_rank) + 1)
    ranked = np.bincount(row, minlength=len(sets))
    length = ranked - np.ceil(threshold * sizes).astype(np.int64) + 1
    length[sizes < MIN_TOKENS] = 0
    return row, rank, _places(row) < length[row]


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts in a sorted array."""
    import numpy as np

    return np.flatnonzero(np.r_[len(values) > 0, values[1:] != values[:-1]])


def _places(values: np.ndarray) -> np.ndarray:
    """Each item's place (0, 1, ...) among the equal values before it, in a sorted array."""
    import numpy as np

    starts = _run_starts(values)
    return np.arange(len(values)) - np.repeat(starts, np.diff(np.r_[starts, len(values)]))


def _best_partners(
    later: np.ndarray, earlier: np.ndarray, similarity: np.ndarray, threshold: float
) -> list[Pair]:
    """Each later text's most similar partner at or over the threshold, ties to the first
    candidate (lexsort is stable), in text order."""
    import numpy as np

    good = similarity >= threshold
    later, earlier, similarity = later[good], earlier[good], similarity[good]
    order = np.lexsort((-similarity, later))
    later, earlier, similarity = later[order], earlier[order], similarity[order]
    best = np.r_[True, later[1:] != later[:-1]] if len(later) else np.zeros(0, dtype=bool)
    return [
        Pair(i, j, s)
        for i, j, s in zip(
            later[best].tolist(), earlier[best].tolist(), similarity[best].tolist(), strict=True
        )
    ]
