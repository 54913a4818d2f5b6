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
pairs nothing: it has no rank (`token_ranks`) and is dropped before any sorting.

Two caps keep the work linear where a deck is one big cluster (every card made from one
template, "Expectation of X_k ... (case i)"): a token indexes at most `POSTINGS` texts, and a
text is compared with at most `CANDIDATES` earlier ones, those sharing the most prefix tokens.
Each text is reported with one partner, its most similar. `mathdeck bench` measures the time
and how many planted duplicates are found (builder/lint_bench.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

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
    group (the texts of one note) are never paired."""
    rank = token_ranks(sets)
    sizes = [len(tokens) for tokens in sets]
    if groups is None:
        groups = range(len(sets))  # every set a group of its own
    index: dict[int, list[int]] = {}  # a prefix token's rank -> the first texts with it
    pairs = []
    for i, tokens in enumerate(sets):
        size = sizes[i]
        if size < MIN_TOKENS:
            continue
        # tokens found once pair nothing: rank.get drops them (a rank is never 0)
        ranks = sorted(filter(None, map(rank.get, tokens)))
        length = len(ranks) - math.ceil(threshold * size) + 1  # of the prefix, in shared tokens
        if length <= 0:
            continue
        prefix = ranks[:length]
        met = [index[key] for key in prefix if key in index]
        if met:
            best = _most_similar(i, met, sets, sizes, groups, threshold)
            if best is not None:
                pairs.append(best)
        for key in prefix:
            postings = index.setdefault(key, [])
            if len(postings) < POSTINGS:
                postings.append(i)
    return pairs


def token_ranks(sets: Sequence[frozenset[str]]) -> dict[str, int]:
    """Each token found in two texts or more, as an int from 1 that orders them rarest first,
    ties in the order of the tokens' text (never in a set's order, which Python's string hashing
    changes from one process to the next), so that sorting a text's tokens is cheap. A token
    found once in all the texts pairs nothing and has none."""
    frequency = Counter(chain.from_iterable(sets))
    shared = sorted((count, token) for token, count in frequency.items() if count > 1)
    return {token: rank for rank, (_, token) in enumerate(shared, 1)}


def _most_similar(
    i: int,
    met: list[list[int]],
    sets: Sequence[frozenset[str]],
    sizes: list[int],
    groups: Sequence[object],
    threshold: float,
) -> Pair | None:
    """The earlier text most like text i among the CANDIDATES that share most of its prefix
    (`met`: the postings of its prefix tokens), ties to the first met."""
    if len(met) == 1:  # each met once: in the order met
        candidates = met[0][:CANDIDATES]
    else:  # Counter.most_common, in C: the most met first, ties in the order met
        counts = Counter(chain.from_iterable(met))
        candidates = sorted(counts, key=counts.__getitem__, reverse=True)[:CANDIDATES]
    tokens, group = sets[i], groups[i]
    smallest, largest = threshold * sizes[i], sizes[i] / threshold  # Jaccard <= ratio of sizes
    best = None
    for j in candidates:
        if smallest <= sizes[j] <= largest and groups[j] != group:
            similarity = jaccard(tokens, sets[j])
            if similarity >= threshold and (best is None or similarity > best.similarity):
                best = Pair(i, j, similarity)
    return best
