"""content_hash: a short hash of plain values, the key of whatever was made from them.

A card's digest (model.card_digest) and every key of the build's caches (builder/memo.py) are one.
"""

from __future__ import annotations

import hashlib
import json

# json.dumps with these options makes a new encoder at every call: half of its time on the
# ~100,000 keys of a 20,000-card cold build (card digests, MathJax verdicts).
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def content_key(*parts) -> str:
    """A hash of plain values (text, numbers, lists of them); JSON keeps ("ab", "c") and
    ("a", "bc") apart."""
    text = _JSON.encode(parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def subkey(context: str, key: str) -> str:
    """content_key(context, key) for two content keys, faster: the pair is fixed-width hex."""
    return hashlib.blake2b((context + key).encode("ascii"), digest_size=20).hexdigest()
