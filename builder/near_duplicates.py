"""Near-duplicate texts: which texts say nearly the same thing, in about linear time.

A text becomes a set of tokens (builder/token_sets.py): its prose words, stop words dropped and
cut to their first 6 letters, and each formula's TeX normalised, as overlapping 3-token runs. Two
texts are near-duplicates when the Jaccard similarity of their sets reaches the threshold.

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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .sorted_arrays import first_of_runs, places, run_starts, stable_order
from .token_sets import TokenSets

if TYPE_CHECKING:
    import numpy as np

CANDIDATES = 8  # earlier texts compared with one text at most (the ones sharing most rare tokens)
POSTINGS = 8  # texts indexed under one token at most: a token in more says nothing of duplication
# Candidate pairs whose tokens are counted at once: all 160,000 of 20,000 texts together made
# arrays of every token of both texts of every pair, ~400 MB at once, the build's peak of memory.
PAIRS_AT_ONCE = 1 << 14
MIN_TOKENS = 3  # texts with fewer tokens are too short to call duplicates ("$p(x)$")


@dataclass(frozen=True)
class Pair:
    later: int  # index of the later text
    earlier: int
    similarity: float  # Jaccard, 0..1


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def near_duplicates(
    sets: TokenSets, threshold: float, groups: Sequence[int] | None = None
) -> list[Pair]:
    """For each set, its most similar earlier set with Jaccard >= threshold (if any). Sets of one
    group (the texts of one note, numbered alike) are never paired. The search is vectorised
    (numpy arrays over all texts at once) but finds what a loop over the texts in order would:
    see `_candidates`."""
    import numpy as np

    texts = sets.texts
    sizes = np.bincount(sets.row, minlength=texts)
    row, rank, prefix = _prefixes(sets, sizes, threshold)
    ranked = np.bincount(row, minlength=texts)  # tokens that another text may share
    later, earlier = _candidates(row[prefix], rank[prefix], texts)
    group = np.arange(texts) if groups is None else np.asarray(groups)
    smallest, largest = threshold * sizes[later], sizes[later] / threshold
    keep = (smallest <= sizes[earlier]) & (sizes[earlier] <= largest)  # Jaccard <= size ratio
    keep &= group[later] != group[earlier]
    # only tokens found twice can be shared: most candidates cannot reach the threshold
    most = np.minimum(ranked[later], ranked[earlier])
    keep &= most / (sizes[later] + sizes[earlier] - most) >= threshold
    later, earlier = later[keep], earlier[keep]
    shared = _shared(row, rank, ranked, later, earlier)
    similarity = shared / (sizes[later] + sizes[earlier] - shared)  # as exact as Python's int / int
    return _best_partners(later, earlier, similarity, threshold)


def _shared(
    row: np.ndarray, rank: np.ndarray, ranked: np.ndarray, later: np.ndarray, earlier: np.ndarray
) -> np.ndarray:
    """How many tokens each pair of texts shares (`row`, `rank` sorted by text then rank)."""
    import numpy as np

    span = int(rank.max(initial=0)) + 1
    first = np.cumsum(ranked) - ranked
    counted = [
        _shared_in(
            rank,
            ranked,
            first,
            span,
            later[at : at + PAIRS_AT_ONCE],
            earlier[at : at + PAIRS_AT_ONCE],
        )
        for at in range(0, len(later), PAIRS_AT_ONCE)
    ]
    return np.concatenate(counted) if counted else np.zeros(0, dtype=np.int64)


def _shared_in(
    rank: np.ndarray,
    ranked: np.ndarray,
    first: np.ndarray,
    span: int,
    later: np.ndarray,
    earlier: np.ndarray,
) -> np.ndarray:
    """_shared for some of the pairs: the ranked tokens of both texts, sorted by pair and rank."""
    import numpy as np

    texts = np.concatenate([later, earlier])
    count = ranked[texts]
    entry = np.repeat(first[texts] - np.cumsum(count) + count, count) + np.arange(count.sum())
    pair = np.repeat(np.tile(np.arange(len(later)), 2), count)
    key = np.sort(pair * span + rank[entry])  # a token of both texts: twice in a row
    twice = key[1:][key[1:] == key[:-1]]
    return np.bincount(twice // span, minlength=len(later))


def _candidates(row: np.ndarray, rank: np.ndarray, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """(later, earlier) index arrays: for each text, in text order, the at most CANDIDATES
    earlier texts it is compared with, most shared prefix tokens first, ties in the order a loop
    would meet them (prefix token by prefix token, each token's texts in order). `row` and `rank`
    are the prefixes' tokens, sorted by text then rank (`_prefixes`)."""
    import numpy as np

    at = places(row)  # a token's place in its text's prefix
    # postings: the first POSTINGS texts with the token in their prefix (stable: in text order)
    by_token = stable_order(rank)
    place = np.empty(len(rank), dtype=np.int64)  # how many earlier texts have the token
    place[by_token] = places(rank[by_token])
    posted = by_token[place[by_token] < POSTINGS]  # sorted by token, then text
    postings = np.bincount(rank[posted], minlength=int(rank.max(initial=0)) + 1)
    first = (np.cumsum(postings) - postings)[rank]  # each prefix entry's token's postings
    # a text meets the texts indexed before it: the first `place` of the postings, at most all
    count = np.minimum(place, POSTINGS)
    entry = np.repeat(np.arange(len(rank)), count)
    within = np.arange(len(entry)) - np.repeat(np.cumsum(count) - count, count)
    later, earlier = row[entry], row[posted[first[entry] + within]]
    met = at[entry] * POSTINGS + within  # order met: by prefix token, then place in its postings
    # one integer per meeting, in bit fields (shifts, not divisions): (later, earlier, met)
    text_bits, met_bits = _bits(texts), _bits(int(met.max(initial=0)) + 1)
    key = np.sort((later << text_bits | earlier) << met_bits | met)  # by pair, then order met
    starts = run_starts(key >> met_bits)
    shared = np.diff(np.r_[starts, len(key)])  # prefix tokens shared
    key = key[starts]  # each pair with the first time it was met
    later, met = key >> (text_bits + met_bits), key & ((1 << met_bits) - 1)
    # by text, most shared first, then order met (unique within a text: no ties to break)
    most = int(shared.max(initial=0))
    shared_bits = _bits(most + 1)
    key = np.sort(((later << shared_bits | most - shared) << met_bits) | met)
    later = key >> (shared_bits + met_bits)
    keep = places(later) < CANDIDATES
    later, met = later[keep], key[keep] & ((1 << met_bits) - 1)
    # the earlier text is the one met then: which posting of which of the text's prefix tokens
    counts = np.bincount(row, minlength=texts)
    entry = (np.cumsum(counts) - counts)[later] + met // POSTINGS
    return later, row[posted[first[entry] + met % POSTINGS]]


def _bits(count: int) -> int:
    """Bits that hold any of 0 .. count - 1."""
    return max(count - 1, 1).bit_length()


def _prefixes(
    sets: TokenSets, sizes: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every text's tokens found in two texts or more, as (text, rank) arrays sorted by text then
    rank, and whether each is in its text's prefix: the first |s| - ceil(t|s|) + 1 of a text of
    MIN_TOKENS or more. Ranks count from 1 rarest first, ties in the order of the tokens' text
    (never in a set's order, which Python's string hashing changes from one process to the
    next)."""
    import numpy as np

    frequency = np.bincount(sets.token)
    shared = np.flatnonzero(frequency > 1)
    spelled = sets.spelling(shared)
    alphabetical = shared[sorted(range(len(shared)), key=spelled.__getitem__)]
    by_rank = alphabetical[stable_order(frequency[alphabetical])]
    ranks = np.zeros(len(frequency), dtype=np.int64)
    ranks[by_rank] = np.arange(1, len(by_rank) + 1)
    rank = ranks[sets.token]
    rank_bits = _bits(len(by_rank) + 1)
    key = np.sort((sets.row << rank_bits | rank)[rank > 0])
    row, rank = key >> rank_bits, key & ((1 << rank_bits) - 1)
    ranked = np.bincount(row, minlength=sets.texts)
    length = ranked - np.ceil(threshold * sizes).astype(np.int64) + 1
    length[sizes < MIN_TOKENS] = 0
    return row, rank, places(row) < length[row]


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
    best = first_of_runs(later)
    return [
        Pair(i, j, s)
        for i, j, s in zip(
            later[best].tolist(), earlier[best].tolist(), similarity[best].tolist(), strict=True
        )
    ]
