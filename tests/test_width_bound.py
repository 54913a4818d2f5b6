"""The width bound (builder/mathjax/widthbound.mjs): never below MathJax's own width, absent where
the bound does not model the layout, and never changing what the phone budget reports."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import check_math, mathjax
from builder.bench_decks import distinct_formulas
from builder.check import FieldFacts
from builder.mathjax import Verdict, measure_tex
from builder.phone_budget import FITS_DEFAULT_PHONE_EM
from builder.problems import Location
from test_mathjax import BAD, GOOD, PATCHED_PATHS, UNSAFE, _flagship_formulas

EVERY_BOUND = math.inf  # node returns a bound for every formula whose layout the bound models


def broken_bounds(items, bounded: list[Verdict], exact: list[Verdict]) -> list:
    """Each formula whose bound is below MathJax's exact width (or whose verdict differs)."""
    broken = []
    for item, (error, bound, is_exact), (exact_error, width, _) in zip(
        items, bounded, exact, strict=True
    ):
        if error != exact_error or (not is_exact and (width is None or bound < width)):
            broken.append((item, bound, width))
    return broken


def assert_sound(items) -> list[Verdict]:
    bounded = measure_tex(items, bound_limit_em=EVERY_BOUND)
    assert broken_bounds(items, bounded, measure_tex(items)) == []
    return bounded


def test_bounds_hold_on_the_flagship_and_known_formulas():
    items = (
        _flagship_formulas()
        + [(tex, display) for tex in GOOD + PATCHED_PATHS for display in (False, True)]
        + [(tex, False) for tex, _ in BAD]
        + [(tex, True) for tex in UNSAFE]
    )
    bounded = assert_sound(items)
    # the bound models nearly every formula a deck has: it is not sound by giving up
    assert sum(1 for _, _, is_exact in bounded if not is_exact) > 0.95 * len(_flagship_formulas())


def test_bounds_hold_on_21000_bench_formulas():
    bounded = assert_sound(distinct_formulas(21_000))
    assert all(not is_exact for _, _, is_exact in bounded)


# What the bound does not model: a box (menclose), a label (mlabeledtr: display math only), a
# glyph or an explicit font, prescripts (mmultiscripts), an arrow stretched inside a table cell or
# over an mpadded, a brace under or over an inline operator whose limits move.
MUST_MEASURE = [
    *[(r"\boxed{x + y}", display) for display in (False, True)],
    *[(r"\cancel{x}", display) for display in (False, True)],
    (r"x = y \tag{1}", True),
    *[(r"\unicode{8364}", display) for display in (False, True)],
    *[(r"\sideset{_a}{_b}\sum x", display) for display in (False, True)],
    *[(r"\begin{CD} A @>f>> B \end{CD}", display) for display in (False, True)],
    *[(r"\xrightarrow{d} x", display) for display in (False, True)],
    # a brace over a movable-limits operator, inline: laid out as scripts, stretched otherwise
    # (bound 4.32 em, width 4.85: found by test_bounds_hold_on_generated_tex)
    (r"\underbrace{\; \max}_{x}", False),
    (r"\overbrace{\;\max}^{y}", False),
]


def test_what_the_bound_does_not_model_is_measured():
    bounded = assert_sound([*MUST_MEASURE, (r"x = y \tag{1}", False)])[: len(MUST_MEASURE)]
    assert all(error is None for error, _, _ in bounded)
    assert [
        item for item, verdict in zip(MUST_MEASURE, bounded, strict=True) if not verdict[2]
    ] == []


def test_bounds_come_only_up_to_the_limit():
    sums = [(" + ".join(f"x_{{{k}}}" for k in range(n)), True) for n in range(1, 25)]
    bounded = measure_tex(sums, bound_limit_em=FITS_DEFAULT_PHONE_EM)
    assert all(is_exact == (width > FITS_DEFAULT_PHONE_EM) for _, width, is_exact in bounded)
    assert {is_exact for *_, is_exact in bounded} == {True, False}


ATOMS = [
    "x", "n", "1", "42", r"\alpha", r"\theta", r"\infty", r"\mathbb{R}", r"\mathcal{N}",
    r"\mathrm{d}x", r"\text{if } x", r"\nabla", r"\partial", "f'", "+", "-", "=", r"\le",
    r"\cdot", r"\|", "|", "/", "!", r"\ldots", r"\,", r"\;", r"\!", r"\quad", r"\to", r"\sum",
    r"\int", r"\log", r"\max", r"\operatorname{Var}", r"\hat{x}", r"\bar{y}", r"\vec{v}",
    r"\tilde{z}", r"\coloneqq", "(", ")", r"\{", "[", r"\langle", r"\mid", r"\sim", "ab",
]  # fmt: skip
# Each %s is a formula drawn again.
SHAPES = [
    "{%s}^{%s}", "{%s}_{%s}", "{%s}_{%s}^{%s}", r"\frac{%s}{%s}", r"\tfrac{%s}{%s}",
    r"\dfrac{%s}{%s}", r"\sqrt{%s}", r"\sqrt[%s]{%s}", r"\left( %s \right)", r"\left[ %s \right.",
    r"\left\| %s \right\|", r"\big( %s \big)", r"\Bigg[ %s \Bigg]", r"\overline{%s}",
    r"\underline{%s}", r"\widehat{%s}", r"\underbrace{%s}_{%s}", r"\overbrace{%s}^{%s}",
    r"\overset{%s}{%s}", r"\underset{%s}{%s}", r"\sum_{%s}^{%s} %s", r"\lim_{%s} %s",
    r"\int_{%s}^{%s} %s", r"\mathbf{%s}", r"\boldsymbol{%s}", r"{\displaystyle %s}",
    r"{\scriptstyle %s}", r"{\large %s}", r"{\small %s}", r"\phantom{%s}", r"\hphantom{%s}",
    r"\mathrlap{%s}", r"\smash{%s}", r"\binom{%s}{%s}", r"\overrightarrow{%s}",
    r"\begin{pmatrix} %s & %s \\ %s & 1 \end{pmatrix}",
    r"\begin{aligned} %s &= %s \\ &= %s \end{aligned}",
    r"\begin{cases} %s & %s \\ 0 & \text{else} \end{cases}",
    r"\begin{array}{cl} %s & %s \end{array}",
    r"\operatorname*{arg\,max}_{%s} %s", r"\stackrel{%s}{%s}", r"\mathop{%s}", r"\mathrel{%s}",
    r"\mathinner{%s}", r"\hspace{1em} %s", r"\kern2mu %s", r"\color{red}{%s}", r"\cfrac{%s}{%s}",
    r"\genfrac(]{0pt}{2}{%s}{%s}", r"\xleftarrow[%s]{%s}", r"\sqrt{\smash[b]{%s}}",
]  # fmt: skip


def _shaped(shape: str):
    holes = shape.count("%s")
    return lambda formulas: shape % tuple(formulas[:holes])


FORMULAS = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=4).map(" ".join),
        st.sampled_from(SHAPES).flatmap(
            lambda shape: st.lists(inner, min_size=3, max_size=3).map(_shaped(shape))
        ),
    ),
    max_leaves=12,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(FORMULAS, st.booleans()), min_size=50, max_size=150))
def test_bounds_hold_on_generated_tex(items):
    assert_sound(list(dict.fromkeys(items)))


# A bound broken on purpose is caught -------------------------------------------------------


@pytest.mark.parametrize(
    "working, broken",
    [
        # no spacing around relations and binary operators
        (
            "return inner(node, scale) + spacing(node, scale) * scale;",
            "return inner(node, scale);",
        ),
        # a script as if it took no room of its own
        ("return width + shift + widest + (params.extra_ic", "return width + shift + (0"),
    ],
)
def test_a_broken_bound_is_caught(monkeypatch, tmp_path, working, broken):
    scripts = tmp_path / "mathjax"
    shutil.copytree(Path(mathjax.__file__).parent / "mathjax", scripts)
    source = (scripts / "widthbound.mjs").read_text()
    assert working in source
    (scripts / "widthbound.mjs").write_text(source.replace(working, broken))
    monkeypatch.setattr(mathjax, "CHECK_SCRIPT", scripts / "check.mjs")
    monkeypatch.setenv("MATHDECK_NODE_CODE_CACHE", "0")  # neither the snapshot nor the code cache
    items = _flagship_formulas()[:300]
    assert broken_bounds(items, measure_tex(items, bound_limit_em=EVERY_BOUND), measure_tex(items))


# The phone budget judges exact widths ------------------------------------------------------


def _deck(formulas, phone_width: int):
    """A deck of one card per (field, list depth), each with every formula."""
    cards, facts = [], []
    for key in ("concept", "answer", "explanation"):
        for depth in (0, 1, 3):
            cards.append(
                SimpleNamespace(
                    id=f"{key}-{depth}",
                    location=Location(Path("cards/x.yaml"), 1),
                    text_locations={},
                )
            )
            facts.append(
                (
                    FieldFacts(
                        key, None, False, tuple(formulas), list_depths=(depth,) * len(formulas)
                    ),
                )
            )
    config = SimpleNamespace(phone_width=phone_width, tex_links="none", macros=())
    return SimpleNamespace(cards=cards, config=config), facts


@pytest.mark.parametrize("phone_width", [240, 300, 360, 412])
def test_warnings_are_those_of_exact_widths(monkeypatch, phone_width):
    # Sums from 3 to 22 ems wide, in fields of every font size, in and out of lists, on phones
    # narrower and wider than the default: what is reported (and its px figures) is what exact
    # widths give; bounds that do not fit were measured again.
    formulas = [
        (" + ".join(f"x_{{{k}}}" for k in range(n)) + "a" * m, (n + m) % 2 == 0)
        for n in range(2, 12)
        for m in range(4)  # half an em more each
    ]
    deck, facts = _deck(formulas, phone_width)
    asked_again = []
    exact_verdicts = check_math.FormulaChecker.exact_verdicts

    def counted(self, items):
        asked_again.extend(items)
        return exact_verdicts(self, items)

    monkeypatch.setattr(check_math.FormulaChecker, "exact_verdicts", counted)
    problems = check_math.start_math_check(deck, facts).problems()
    assert problems and asked_again  # something was over budget, and some bound did not fit
    monkeypatch.setattr(check_math, "FITS_DEFAULT_PHONE_EM", 0.0)  # every width exact
    assert check_math.start_math_check(deck, facts).problems() == problems
