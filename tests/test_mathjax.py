"""The strict MathJax checker: Anki's TeX packages, MathJax's own error messages, one process."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from builder import mathjax
from builder.bench_decks import distinct_formulas
from builder.mathjax import TexProblem, check_tex, tex_problems
from builder.mathjax_install import MathJaxUnavailable

GOOD = [
    r"\frac{a}{b}",
    r"\mathbb{E}[X]",
    r"\operatorname{Var}(X) = \mathbb{E}[X^2] - \mathbb{E}[X]^2",
    r"\begin{aligned} a &= b + c \\ &= d \end{aligned}",
    r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}",
    r"x \sim \mathcal{N}(\boldsymbol\mu, \Sigma)",
    r"f(x) \coloneqq x^2",  # mathtools
    r"\underbrace{a_1 + \dots + a_n}_{n\ \text{terms}}",
    r"\tfrac{1}{2}",
    r"\lVert x \rVert_2",
    r"\textbf{bold} \text{ and } \mathrm{KL}(p \| q)",
    r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"\operatorname*{arg\,max}_\theta \log p(x \mid \theta)",
    r"\ce{H2O}",  # mhchem is in the full bundle
    r"\cancel{x}",
    "α + β ≤ 1",
]

BAD = [
    (r"\foo", r"Undefined control sequence \foo"),
    (r"\frac{a}{b", "Missing close brace"),
    ("a}", "Extra close brace or missing open brace"),
    (r"\begin{aligned} a &= b", r"Missing \end{aligned}"),
    (r"\end{aligned}", r"Missing \begin{aligned} or extra \end{aligned}"),
    (r"\begin{foo} x \end{foo}", "Unknown environment 'foo'"),
    (r"\frac{a}", r"Missing argument for \frac"),
    ("x^2^3", "Double exponent: use braces to clarify"),
    (r"\left( x", r"Extra \left or missing \right"),
    ("a & b", "Misplaced &"),
    # Not in MathJax's full bundle: physics, bm, \argmax.
    (r"\qty(x)", r"Undefined control sequence \qty"),
    (r"\bm{x}", r"Undefined control sequence \bm"),
    (r"\argmax_x f", r"Undefined control sequence \argmax"),
]


@pytest.fixture(scope="module")
def verdict():
    """All GOOD and BAD formulas checked in one batch, as the build does: (tex, display) ->
    verdict."""
    items = [(tex, display) for tex in GOOD for display in (False, True)] + [
        (tex, False) for tex, _ in BAD
    ]
    return dict(zip(items, check_tex(items), strict=True))


@pytest.mark.parametrize("tex", GOOD)
@pytest.mark.parametrize("display", [False, True])
def test_formulas_anki_renders_pass(verdict, tex, display):
    assert verdict[(tex, display)] is None


@pytest.mark.parametrize(("tex", "message"), BAD)
def test_broken_formulas_get_mathjax_message(verdict, tex, message):
    assert verdict[(tex, False)] == message


def test_results_keep_batch_order_and_repeat_for_duplicates():
    items = [(r"\frac{a}{b}", True), (r"\foo", False), (r"\frac{a}{b}", True), (r"\foo", False)]
    assert check_tex(items) == [
        None,
        r"Undefined control sequence \foo",
        None,
        r"Undefined control sequence \foo",
    ]


def test_tex_problems_names_the_bad_items():
    items = [(r"\alpha", False), ("a}", False), (r"\beta", True)]
    assert tex_problems(items) == [TexProblem(1, "a}", "Extra close brace or missing open brace")]


def test_empty_batch_starts_no_process(monkeypatch):
    monkeypatch.setattr(mathjax.subprocess, "run", _forbidden)
    assert check_tex([]) == []


# What Anki does, pinned down -------------------------------------------------------------


def test_text_mode_understands_only_a_few_escapes():
    # Anki removes textmacros: inside \text{} MathJax still turns \$ \{ \} into $ { } and
    # reads $..$ and \(..\) as math, which the browser shows correctly.
    items = [(r"\text{costs \$5, \{a\}}", False), (r"\text{if $\alpha > 0$}", False)]
    assert check_tex(items) == [None, None]


@pytest.mark.parametrize(
    ("tex", "macro"),
    [
        (r"\text{if \alpha > 0}", r"\alpha"),
        (r"\textbf{\boldsymbol{x}}", r"\boldsymbol"),
        (r"\mbox{\quad x}", r"\quad"),
    ],
)
def test_other_macros_in_text_mode_are_reported(tex, macro):
    # ... but any other macro reaches the card as its literal name (MathJax raises no error).
    message = macro + r" inside \text{} shows as literal text (Anki's MathJax has no textmacros)"
    assert check_tex([(tex, False)]) == [message]


def test_verbatim_backslashes_are_fine():
    assert check_tex([(r"\verb|\alpha|", False), (r"\texttt{\n}", False)]) == [None, None]


def test_require_is_rejected():
    # Anki's bundle has \require, but on a card it can stop all math from rendering, and
    # \require{html} would bring back every macro the safety wall refuses.
    assert check_tex([(r"\require{cancel}", False)]) == [
        r"unsafe TeX: \require loads TeX packages on the card (html among them), "
        "out of reach of this check"
    ]


def test_definitions_do_not_leak_between_formulas():
    items = [
        (r"\newcommand{\R}{\mathbb{R}} x \in \R", False),
        (r"x \in \R", False),
        (r"\DeclareMathOperator{\Tr}{Tr} \Tr A", False),
        (r"\Tr A", False),
        (r"\DeclarePairedDelimiter\abs{\lvert}{\rvert} \abs{x}", False),
        (r"\abs{x}", False),
    ]
    assert check_tex(items) == [
        None,
        r"Undefined control sequence \R",
        None,
        r"Undefined control sequence \Tr",
        None,
        r"Undefined control sequence \abs",
    ]


def test_labels_do_not_clash_between_formulas():
    items = [(r"x \label{eq} \tag{1}", True), (r"y \label{eq} \tag{1}", True)]
    assert check_tex(items) == [None, None]


# Setup problems --------------------------------------------------------------------------


def test_missing_node_modules_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("MATHDECK_NODE_ROOT", str(tmp_path))
    with pytest.raises(MathJaxUnavailable, match="npm ci"):
        check_tex([("x", False)])


def test_missing_node_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MathJaxUnavailable, match="make setup"):
        check_tex([("x", False)])


def test_script_exits_3_without_mathjax(tmp_path):
    result = subprocess.run(
        ["node", str(mathjax.CHECK_SCRIPT)],
        input="[]",
        capture_output=True,
        text=True,
        env={**os.environ, "MATHDECK_NODE_ROOT": str(tmp_path)},
        check=False,
    )
    assert result.returncode == mathjax.EXIT_MATHJAX_MISSING
    assert "npm ci" in result.stderr


def test_works_from_any_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NODE_PATH", raising=False)
    assert check_tex([(r"\frac{a}{b}", False)]) == [None]


def test_script_rejects_malformed_input():
    result = subprocess.run(
        ["node", str(mathjax.CHECK_SCRIPT)],
        input='{"tex": "x"}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "expected a JSON list" in result.stderr


# Batches ---------------------------------------------------------------------------------


def check_batch_in_one_process(monkeypatch, items):
    runs = []
    run = subprocess.run

    def counting_run(*args, **kwargs):
        runs.append(args)
        return run(*args, **kwargs)

    monkeypatch.setattr(mathjax.subprocess, "run", counting_run)
    started = time.perf_counter()
    verdicts = check_tex(items)
    elapsed = time.perf_counter() - started
    assert len(runs) == 1
    return verdicts, elapsed


def test_2000_formulas_in_one_process(monkeypatch):
    """A batch large enough for worker threads answers every formula, in order (its speed is the
    bench's business: `mathdeck bench`, not a timed test on a noisy machine)."""
    items = distinct_formulas(2000)
    items[1234] = (r"\frac{a}{b", False)
    verdicts, _ = check_batch_in_one_process(monkeypatch, items)
    assert [i for i, v in enumerate(verdicts) if v is not None] == [1234]
    assert verdicts[1234] == "Missing close brace"


def _forbidden(*args, **kwargs):
    raise AssertionError(f"no process expected: {json.dumps(args, default=str)}")


def test_each_formula_comes_back_with_its_width_in_ems():
    from builder.mathjax import measure_tex

    [(none, narrow, _), (_, wide, _), (error, unmeasured, _), (fine, unknown_glyph, _)] = (
        measure_tex(
            [
                ("x", False),
                (" + ".join("x" for _ in range(40)), True),
                (r"\frac{a}{b", True),
                (r"\unicode{8364}", False),
            ]
        )
    )
    assert (
        none is None and 0.4 < narrow < 1 and wide > 40 * narrow
    )  # each + adds its own width and spacing
    assert error and unmeasured is None
    # MathJax's layout cannot measure a character its fonts lack without a browser: fine, unmeasured
    assert fine is None and unknown_glyph is None


# The speed-ups (builder/mathjax/speedups.mjs) change no answer -----------------------------


def _flagship_formulas() -> list[tuple[str, bool]]:
    from pathlib import Path

    from builder.check import deck_facts
    from builder.load import load_deck

    deck = load_deck(Path(__file__).resolve().parent.parent / "cards")
    return list(
        dict.fromkeys(
            formula
            for card_facts in deck_facts(deck)
            for fact in card_facts or ()
            for formula in fact.formulas or ()
        )
    )


UNSAFE = [
    r"\href{javascript:alert(1)}{x}",
    r"\style{color:red}{x}",
    r"\class{a}{x}",
    r"\require{html}",
]

# Formulas that reach the code paths the speed-ups replace (builder/mathjax/filters.mjs and
# speedups.mjs): proof trees between ordinary formulas (bussproofs' attribute walk runs only
# after its setProperty), definitions that must not outlive their formula (symbol maps),
# packages with their own post-filters (boldsymbol, mathtools, centernot) and attributes kept
# by \mmlToken (cleanAttributes' keep list).
PATCHED_PATHS = [
    r"\begin{prooftree}\AxiomC{A}\UnaryInfC{B}\end{prooftree}",
    r"x + \begin{prooftree}\AxiomC{$\Gamma$}\AxiomC{B}\BinaryInfC{C}\end{prooftree} + y",
    r"\begin{prooftree}\Axiom$\fCenter A$\UnaryInf$\fCenter B$\end{prooftree}",
    r"\begin{prooftree}\AxiomC{A}",
    r"\UnaryInfC{B}",
    r"\R + \tr x",  # looked up before a definition adds them (the symbol maps' lists)
    r"\newcommand{\R}{\mathbb{R}} \R^n",
    r"\R^n",
    r"\def\x{y} \x",
    r"\DeclareMathOperator{\tr}{tr} \tr A",
    r"\tr A",
    r"\boldsymbol{\alpha + b} \mathbf{x}",
    r"\prescript{a}{b}{X} \centernot\implies",
    r"\begin{CD} A @>a>> B \\ @VbVV @VVcV \\ C @>>d> D \end{CD}",
    r"\tag{1} x = y \label{e1}",
    r"\mmlToken{mo}[stretchy=false lspace=0]{(} \mmlToken{mi}[mathvariant=normal]{x}",
]


def test_speedups_change_no_verdict_and_no_width(monkeypatch):
    # Every verdict, error message and width (to 0.001 em, as check.mjs rounds it) of the flagship
    # deck, 2,000 bench formulas and the good, bad and unsafe formulas above, from the sped-up
    # checker and from MathJax as shipped (MATHDECK_MATHJAX_PLAIN=1): identical.
    from builder.mathjax import measure_tex

    flagship = _flagship_formulas()
    assert len(flagship) > 1000
    items = (
        flagship
        + distinct_formulas(2000)
        + [(tex, d) for tex in GOOD for d in (False, True)]
        + [(tex, False) for tex, _ in BAD]
        + [(tex, True) for tex in UNSAFE]
        + [(tex, d) for tex in PATCHED_PATHS for d in (False, True)]
        + [(r"\unicode{8364}", False), (r"\hspace{20em} x \quad \kern3em {\Huge x}", True)]
    )
    fast = measure_tex(items)
    monkeypatch.setenv("MATHDECK_MATHJAX_PLAIN", "1")
    plain = measure_tex(items)
    assert fast == plain
    measured = [width for error, width, _ in fast if width is not None]
    assert len(measured) > 3000  # the comparison is of widths, not of Nones
    assert sum(1 for error, *_ in fast if error) >= len(BAD) + len(UNSAFE)


def test_a_formula_just_over_the_phone_budget_is_measured_and_reported():
    # Nothing is skipped: the widest formula that fits a 360 px phone passes, one x more is
    # reported.
    from pathlib import Path

    from builder.mathjax import measure_tex
    from builder.phone_budget import PhoneBudget
    from builder.problems import Location

    budget = PhoneBudget(360)
    sums = [(" + ".join(f"x_{{{k}}}" for k in range(1, n + 1)), True) for n in range(1, 30)]
    widths = [width for _, width, _ in measure_tex(sums)]
    assert widths == sorted(widths) and None not in widths
    where = Location(Path("cards/x.yaml"), 1)
    over = [
        bool(budget.formula_problems(where, "c", "concept", tex, True, width))
        for (tex, _), width in zip(sums, widths, strict=True)
    ]
    first = over.index(True)
    assert first > 0 and all(over[first:]) and not any(over[:first])
    problem = budget.formula_problems(where, "c", "concept", sums[first][0], True, widths[first])[0]
    assert (
        f"{round(widths[first] * 18 * 1.15 * 1.2)} px wide, a 360 px phone shows 340 px"
        in problem.message
    )


def test_code_cache_changes_no_verdict_and_a_damaged_one_is_ignored(monkeypatch, tmp_path):
    # MathJax's compiled code from node's code cache (builder/mathjax/codecache.mjs): written by the
    # first process, used by the next, ignored when damaged; every verdict and width as without it.
    from builder.mathjax import measure_tex

    items = (
        distinct_formulas(300) + [(tex, False) for tex, _ in BAD] + [(tex, True) for tex in UNSAFE]
    )
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", "0")
    without = measure_tex(items)
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", str(tmp_path))
    monkeypatch.setenv(
        "MATHDECK_NODE_SNAPSHOT", "0"
    )  # node loads MathJax (test_mathjax_snapshot.py)
    assert measure_tex(items) == without
    [cache] = tmp_path.glob("mathjax-*.bin")
    written = cache.read_bytes()
    assert len(written) > 100_000  # MathJax's modules' code, compiled
    assert measure_tex(items) == without
    assert cache.read_bytes() == written  # every module came from the cache: nothing new to write
    damaged = bytearray(written)
    damaged[len(damaged) // 2] ^= 0xFF
    cache.write_bytes(bytes(damaged))
    assert measure_tex(items) == without
    rewritten = cache.read_bytes()
    assert (
        rewritten != bytes(damaged) and len(rewritten) > 100_000
    )  # found damaged, compiled again, rewritten
    assert measure_tex(items) == without
    assert cache.read_bytes() == rewritten  # and used again
