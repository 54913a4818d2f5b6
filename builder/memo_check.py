"""memo_check: the checks behind the build's caches (memo.py): which cards passed every check
before, unchanged (they are not checked again), and MathJax's verdicts on formulas it judged
before (only new formulas go to node).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .cache import BuildCache, fingerprint
from .check import CHECKS_SOURCES
from .check_math import FormulaChecker
from .content_hash import content_key
from .markdown_math import macro_signature
from .mathjax import Verdict
from .memo import markdown_fingerprint, memoised, verdicts_fingerprint
from .model import Deck


def checked_before(cache: BuildCache, deck: Deck, digests: list[str]) -> list[bool]:
    """Which cards passed every check before, unchanged (check.deck_facts skips them). One entry
    per card file: the digests (model.card_digest) of its cards that passed, looked up once a file
    rather than once a card (20,000 lookups were 0.05 s of an edit)."""
    context = _checked_context(deck)
    before = []
    file: Path | None = None
    passed: frozenset[str] = frozenset()
    for card, digest in zip(deck.cards, digests, strict=True):
        if card.location.file is not file:  # a file's cards come together, with one Path
            file = card.location.file
            passed = frozenset(cache.get(_checked_file_key(context, file.name)) or ())
        before.append(digest in passed)
    return before


def remember_checked(passed: list[bool], cache: BuildCache, deck: Deck, digests: list[str]) -> None:
    """Remember which cards passed every check (call only when no check found an error)."""
    context = _checked_context(deck)
    by_file: dict[str, list[str]] = {}
    file: Path | None = None
    in_file: list[str] = []
    for card, digest, card_passed in zip(deck.cards, digests, passed, strict=True):
        if card.location.file is not file:  # a file's name once, not once a card (20,000)
            file = card.location.file
            in_file = by_file.setdefault(file.name, [])
        if card_passed:
            in_file.append(digest)
    for name, passed_digests in by_file.items():
        cache.put(_checked_file_key(context, name), passed_digests)


def _checked_context(deck: Deck) -> str:
    """What every card's checks depend on besides the card: the deck settings they read and the
    checking code (Markdown's and MathJax's included)."""
    return content_key(
        "checked",
        markdown_fingerprint(),
        verdicts_fingerprint(),
        fingerprint(CHECKS_SOURCES),
        macro_signature(deck.config.macros),
        f"phone_width={deck.config.phone_width}",
        f"tex_links={deck.config.tex_links}",
    )


def _checked_file_key(context: str, file_name: str) -> str:
    # card files are the *.yaml of one folder: a name is a file
    return content_key(context, "file", file_name)


class RememberingFormulaChecker(FormulaChecker):
    """check_math.FormulaChecker behind the verdict cache: a formula MathJax judged before is
    answered from it; only new ones go to node, whose verdicts are kept for the next build."""

    def __init__(self, cache: BuildCache, tex_links: str = "none"):
        super().__init__(tex_links)
        self.cache = cache
        self.remembered: dict[tuple[str, bool], Verdict] = {}

    def add(self, formulas: Iterable[tuple[str, bool]]) -> None:
        new = []
        for item in formulas:
            # A formula repeats across cards: its cache key is made once, not at every use.
            if item in self.remembered or self.knows(item):
                continue
            verdict = self.cache.get(self._key(item))
            if verdict is None:
                new.append(item)
            else:
                self.remembered[item] = verdict
        super().add(new)

    def finish(
        self, progress: Callable[..., None] | None = None
    ) -> dict[tuple[str, bool], Verdict]:
        known = len(self.remembered)

        def counted(stage: str, done: int, total: int) -> None:  # the remembered ones count as done
            if progress is not None:
                progress(stage, known + done, known + total)

        judged = super().finish(counted)
        for item, verdict in judged.items():
            self.cache.put(self._key(item), verdict)
        return {**self.remembered, **judged}

    def exact_verdicts(self, items: list[tuple[str, bool]]) -> dict[tuple[str, bool], Verdict]:
        # kept in place of the bounds: the card that needed them asks no more
        exact = super().exact_verdicts(items)
        for item, verdict in exact.items():
            self.cache.put(self._key(item), verdict)
        return exact

    def tex_names(self) -> dict[str, tuple[str, ...]]:
        # the cache's fingerprint holds MathJax's version and the checker's code
        return memoised(self.cache, content_key("tex-names"), super().tex_names)

    def _key(self, item: tuple[str, bool]) -> str:
        tex, display = item
        return content_key("D" if display else "I", tex, self.tex_links)
