"""The near-duplicate finder (builder/near_duplicates.py) against two references: a brute-force
all-pairs Jaccard where no cap binds, and the plain loop over the texts it vectorises (prefix
filtering with the POSTINGS and CANDIDATES caps) where they do, pair for pair."""

from __future__ import annotations

import math
import random
from collections import Counter
from itertools import chain

import pytest

from builder.near_duplicates import CANDIDATES, MIN_TOKENS, POSTINGS, Pair, jaccard
from builder.near_duplicates import near_duplicates as near_duplicates_of_tokens
from builder.token_sets import TokenSets

THRESHOLD = 0.75


def near_duplicates(sets, threshold, groups=None) -> list[Pair]:
    return near_duplicates_of_tokens(TokenSets.of_sets(sets), threshold, groups)


def topical_texts(count: int, seed: int) -> list[frozenset[str]]:
    """Texts of about 12 tokens: 10 of the 12 words of one of count // 4 topics (so a topic has
    about 4 texts, some of them near-duplicates) and 2 of 20 common words."""
    rng = random.Random(seed)
    common = [f"common{i}" for i in range(20)]
    texts = []
    for _ in range(count):
        topic = rng.randrange(count // 4)
        words = [f"t{topic}w{i}" for i in range(12)]
        texts.append(frozenset(rng.sample(words, rng.randint(9, 12)) + rng.sample(common, 2)))
    return texts


def brute_force(sets, groups) -> dict[int, float]:
    """Each text's highest Jaccard with an earlier text of another group, when >= THRESHOLD."""
    best = {}
    for i, tokens in enumerate(sets):
        if len(tokens) < MIN_TOKENS:
            continue
        similarities = [jaccard(tokens, sets[j]) for j in range(i) if groups[j] != groups[i]]
        if similarities and max(similarities) >= THRESHOLD:
            best[i] = max(similarities)
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_finds_every_pair_brute_force_finds(seed):
    sets = topical_texts(400, seed)
    groups = [i // 3 for i in range(len(sets))]  # some neighbours are one note's texts
    found = near_duplicates(sets, THRESHOLD, groups)
    assert {pair.later: pair.similarity for pair in found} == brute_force(sets, groups)
    for pair in found:
        assert pair.earlier < pair.later and groups[pair.earlier] != groups[pair.later]
        assert jaccard(sets[pair.later], sets[pair.earlier]) == pair.similarity
    assert len(found) > 20  # the texts do have near-duplicates to find


def loop_near_duplicates(sets, threshold, groups) -> list[Pair]:
    """The finder as a loop over the texts in order (what near_duplicates vectorises)."""
    frequency = Counter(chain.from_iterable(sets))
    shared = sorted((count, token) for token, count in frequency.items() if count > 1)
    rank = {token: at for at, (_, token) in enumerate(shared, 1)}
    index: dict[int, list[int]] = {}
    pairs = []
    for i, tokens in enumerate(sets):
        if len(tokens) < MIN_TOKENS:
            continue
        ranks = sorted(filter(None, map(rank.get, tokens)))
        prefix = ranks[: len(ranks) - math.ceil(threshold * len(tokens)) + 1]
        met = Counter(chain.from_iterable(index.get(key, []) for key in prefix))
        best = None
        for j, _ in met.most_common(CANDIDATES):  # ties in the order met
            size = len(sets[j])
            fits = threshold * len(tokens) <= size <= len(tokens) / threshold
            similarity = jaccard(tokens, sets[j])
            better = best is None or similarity > best.similarity
            if fits and groups[j] != groups[i] and similarity >= threshold and better:
                best = Pair(i, j, similarity)
        if best is not None:
            pairs.append(best)
        for key in prefix:
            if len(index.setdefault(key, [])) < POSTINGS:
                index[key].append(i)
    return pairs


@pytest.mark.parametrize("vocabulary", [14, 16, 24])
def test_matches_the_loop_where_the_caps_bind(vocabulary):
    """1,500 texts of 9 to 12 words from a few: one big cluster, where a token has more texts
    than POSTINGS and a text more candidates than CANDIDATES. The caps then skip true pairs;
    the vectorised finder skips the same ones, and breaks ties the same way."""
    rng = random.Random(vocabulary)
    words = [f"w{i}" for i in range(vocabulary)]
    sets = [frozenset(rng.sample(words, rng.randint(9, 12))) for _ in range(1500)]
    groups = [i // 2 for i in range(len(sets))]
    found = near_duplicates(sets, THRESHOLD, groups)
    assert found == loop_near_duplicates(sets, THRESHOLD, groups)
    assert found  # some pairs survive the caps


@pytest.mark.parametrize("pairs_at_once", [1, 7, 64])
def test_pairs_counted_a_slice_at_a_time_give_the_same_pairs(monkeypatch, pairs_at_once):
    """The shared tokens are counted PAIRS_AT_ONCE candidate pairs at a time (to bound memory):
    slices that cut the pairs anywhere find what counting them all at once finds."""
    import builder.near_duplicates as module

    rng = random.Random(5)
    words = [f"w{i}" for i in range(16)]
    sets = [frozenset(rng.sample(words, rng.randint(9, 12))) for _ in range(600)]
    groups = [i // 2 for i in range(len(sets))]
    at_once = near_duplicates(sets, THRESHOLD, groups)
    monkeypatch.setattr(module, "PAIRS_AT_ONCE", pairs_at_once)
    assert near_duplicates(sets, THRESHOLD, groups) == at_once
    assert at_once


def test_short_and_empty_inputs():
    assert near_duplicates([], THRESHOLD) == []
    assert near_duplicates([frozenset("ab"), frozenset("ab")], THRESHOLD) == []  # < MIN_TOKENS
    assert near_duplicates([frozenset("abc"), frozenset("def")], THRESHOLD) == []
    assert near_duplicates([frozenset("abc"), frozenset("abc")], THRESHOLD) == [Pair(1, 0, 1.0)]
