"""MathJax's verdicts held to a record: every error message, width, width bound and its `exact`
flag on a fixed sample (flagship formulas, bench formulas, and formulas that reach each path of
the checker: errors, the safety wall, definitions, proof trees, what the bound does not model),
checked in one batch, streamed as a build streams them, and with \\href allowed.

A change that only makes node cheaper (builder/mathjax/*) must keep this passing. A change that
means to change a verdict re-records it, and says why in its commit:

    .venv/bin/python tests/test_mathjax_verdicts.py --update
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from builder import mathjax
from builder.bench_decks import distinct_formulas
from builder.mathjax import TexStream, measure_tex
from builder.phone_budget import FITS_DEFAULT_PHONE_EM

RECORD = Path(__file__).resolve().parent / "fixtures" / "mathjax_verdicts.json"
LINKS = [r"\href{https://example.org}{x}", r"\href{http://example.org}{x}"]


def measured(items) -> dict[str, list]:
    """Each mode's verdicts on `items`, as plain lists (JSON's form)."""
    return {
        "exact": [list(v) for v in measure_tex(items)],
        "bounded": [list(v) for v in measure_tex(items, bound_limit_em=FITS_DEFAULT_PHONE_EM)],
        "links": [
            list(v)
            for v in measure_tex(items, tex_links="https", bound_limit_em=FITS_DEFAULT_PHONE_EM)
        ],
    }


def differences(record: dict, answered: dict[str, list], count: int | None = None) -> list:
    """(mode, tex, display, recorded, answered) for each verdict that is not the recorded one."""
    formulas = record["formulas"][:count]
    return [
        (mode, tex, display, was, now)
        for mode, verdicts in answered.items()
        for (tex, display), was, now in zip(formulas, record[mode], verdicts, strict=False)
        if was != now
    ]


MODES = ("exact", "bounded", "links")


def read_record() -> dict:
    """{"formulas": [[tex, display], ...], mode: [verdict, ...] for each mode} from the file's
    rows, one a formula: [tex, display, exact verdict, bounded verdict, links verdict]."""
    rows = json.loads(RECORD.read_text(encoding="utf-8"))
    return {
        "formulas": [row[:2] for row in rows],
        **{mode: [row[2 + i] for row in rows] for i, mode in enumerate(MODES)},
    }


def write_record(formulas: list[tuple[str, bool]], answered: dict[str, list]) -> None:
    rows = [
        json.dumps([tex, display, *(answered[mode][i] for mode in MODES)], ensure_ascii=False)
        for i, (tex, display) in enumerate(formulas)
    ]
    RECORD.write_text("[\n" + ",\n".join(rows) + "\n]\n", encoding="utf-8")


def items_of(record: dict, count: int | None = None) -> list[tuple[str, bool]]:
    return [(tex, display) for tex, display in record["formulas"][:count]]


def test_every_verdict_is_the_recorded_one():
    record = read_record()
    assert len(record["formulas"]) > 1000
    assert differences(record, measured(items_of(record))) == []


def test_a_batch_shared_with_a_worker_thread_gives_the_recorded_verdicts():
    # check.mjs starts a worker thread for a batch of more than 2,000 formulas; the two threads take
    # pieces from one queue, the worker the first ones
    record = read_record()
    items = items_of(record)
    more = [item for item in distinct_formulas(3000) if item not in set(items)]
    verdicts = measure_tex(items + more, bound_limit_em=FITS_DEFAULT_PHONE_EM)[: len(items)]
    assert differences(record, {"bounded": [list(v) for v in verdicts]}) == []


def test_streamed_batches_give_the_recorded_verdicts():
    record = read_record()
    items = items_of(record)
    stream = TexStream(bound_limit_em=FITS_DEFAULT_PHONE_EM)
    for start in range(0, len(items), 300):  # batches as check_math.FormulaChecker sends them
        stream.send(items[start : start + 300])
    verdicts = [list(v) for v in stream.verdicts()]
    assert differences(record, {"bounded": verdicts}) == []


@pytest.mark.parametrize(
    "script, working, broken",
    [
        # the safety wall's check before parsing: \require no longer refused
        (
            "safety.mjs",
            "if (!unseen.some((written) => texString.includes(written))) return null;",
            "return null;",
        ),
        # the bound: a row as wide as its widest child, not their sum
        (
            "widthbound.mjs",
            "for (const child of nodes) total += outer(child, scale);",
            "for (const child of nodes) total = Math.max(total, outer(child, scale));",
        ),
        # a macro's own arguments (\mathbb's font, \operatorname's star, ...) dropped
        (
            "loops.mjs",
            "const result = parser(env, `\\\\${macro.symbol}`, ...macro.args);",
            "const result = parser(env, `\\\\${macro.symbol}`);",
        ),
        # a piece's verdicts put back in the wrong order
        (
            "pool.mjs",
            "waiting.verdicts[start + i] = verdicts[i];",
            "waiting.verdicts[start + i] = verdicts[verdicts.length - 1 - i];",
        ),
    ],
)
def test_a_changed_verdict_is_caught(monkeypatch, tmp_path, script, working, broken):
    scripts = tmp_path / "mathjax"
    shutil.copytree(Path(mathjax.__file__).parent / "mathjax", scripts)
    source = (scripts / script).read_text(encoding="utf-8")
    assert working in source
    (scripts / script).write_text(source.replace(working, broken), encoding="utf-8")
    monkeypatch.setattr(mathjax, "CHECK_SCRIPT", scripts / "check.mjs")
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", "0")  # neither the snapshot nor the code cache
    record = read_record()
    assert differences(record, measured(items_of(record, 400)), 400)


def sample() -> list[tuple[str, bool]]:
    """The formulas recorded: half the flagship's, bench formulas, and each test's cases."""
    import tempfile

    from builder.bench_decks import write_synthetic_project
    from builder.check import deck_facts
    from builder.load import load_deck
    from test_mathjax import BAD, GOOD, PATCHED_PATHS, UNSAFE, _flagship_formulas
    from test_width_bound import MUST_MEASURE

    with tempfile.TemporaryDirectory() as folder:
        deck = load_deck(write_synthetic_project(Path(folder), 2_000))
    bench = [f for card in deck_facts(deck) for fact in card or () for f in fact.formulas or ()]
    cases = (
        [(tex, d) for tex in UNSAFE + LINKS for d in (False, True)]
        + [(tex, False) for tex, _ in BAD]
        + [(tex, d) for tex in GOOD + PATCHED_PATHS for d in (False, True)]
        + MUST_MEASURE
        + [(r"\unicode{8364}", False), (r"\hspace{20em} x \quad \kern3em {\Huge x}", True)]
    )
    # the cases first: test_a_changed_verdict_is_caught checks the first 400
    return list(
        dict.fromkeys(
            cases
            + _flagship_formulas()[::2]
            + distinct_formulas(21_000)[::150]
            + list(dict.fromkeys(bench))[::20]
        )
    )


if __name__ == "__main__":  # python tests/test_mathjax_verdicts.py --update
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    formulas = sample()
    write_record(formulas, measured(formulas))
    print(f"recorded {len(formulas)} formulas' verdicts in {RECORD}")
