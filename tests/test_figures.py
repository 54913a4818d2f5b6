"""figures: every script draws, deterministically, in both themes; the cache and errors behave.

One session-wide cold build of the real figures/ (two jobs) serves most tests; the
determinism test draws everything a second time into a fresh cache and compares bytes.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builder import figure_drawing
from builder.figures import FigureError, make_figures, plan_figures

REPO = Path(__file__).resolve().parent.parent
FIGURES_DIR = REPO / "figures"
MEDIA_BUDGET = 2_000_000  # bytes for all figure files together; aim for half of it
PHONE_PNG_WIDTH = 720  # 2x a 360 px phone


@pytest.fixture(scope="session")
def plans():
    plans = plan_figures(FIGURES_DIR)
    assert plans, "no figure planned: every test looping over the figures would pass vacuously"
    return plans


@pytest.fixture(scope="session")
def drawn(plans, tmp_path_factory):
    cache = tmp_path_factory.mktemp("figure-cache")
    reports = []
    outputs = make_figures(
        plans.values(),
        cache,
        jobs=2,
        on_done=lambda plan, cached: reports.append((plan.name, cached)),
    )
    assert set(outputs) == set(plans)  # the tests looping over outputs see every figure
    return cache, outputs, reports


def load_figure_module(name: str, monkeypatch):
    """Import figures/<name>.py by path (hyphenated names are not importable with `import`)."""
    monkeypatch.syspath_prepend(str(FIGURES_DIR))  # for `import _style`
    spec = importlib.util.spec_from_file_location(
        "figure_" + name.replace("-", "_"), FIGURES_DIR / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- planning --------------------------------------------------------------------------------


def test_planning_imports_neither_torch_nor_matplotlib():
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from builder.figures import plan_figures\n"
        f"plans = plan_figures(Path({str(FIGURES_DIR)!r}))\n"
        "heavy = sorted(m for m in ('torch', 'matplotlib', 'numpy', 'PIL') if m in sys.modules)\n"
        "print(json.dumps({'names': sorted(plans), 'heavy': heavy}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["heavy"] == []
    assert {"kl-fits", "clt"} <= set(result["names"])
    assert len(result["names"]) >= 8


def test_plans_give_unique_flat_content_hashed_media_names(plans):
    names = [n for plan in plans.values() for n in (plan.light_name, plan.dark_name)]
    assert len(set(names)) == len(names)
    for plan in plans.values():
        assert plan.script == FIGURES_DIR / f"{plan.name}.py"
        assert len(plan.key) == 64
        for variant, media_name in (("light", plan.light_name), ("dark", plan.dark_name)):
            assert media_name == f"mathdeck-{plan.name}-{plan.key[:12]}-{variant}.{plan.format}"
            assert len(media_name.encode()) <= 120
            assert not set(media_name) & set('[]<>:"/?*^\\| ')
    assert "_style" not in plans and "_run" not in plans


def copy_figures(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "figures"
    folder.mkdir()
    for name in ("_style.py", "_run.py", *names):
        shutil.copy(FIGURES_DIR / name, folder / name)
    return folder


def test_key_follows_the_script_and_the_shared_style_only(tmp_path):
    folder = copy_figures(tmp_path, "clt.py", "normal-rule.py")
    before = plan_figures(folder)
    assert {n: p.key for n, p in before.items()} == {
        n: plan_figures(FIGURES_DIR)[n].key for n in before
    }  # the folder's path is no input

    (tmp_path / "cards.yaml").write_text("a text edit elsewhere\n")
    assert plan_figures(folder) == before

    with (folder / "clt.py").open("a") as script:
        script.write("# a comment is a change too\n")
    after_script = plan_figures(folder)
    assert after_script["clt"].key != before["clt"].key
    assert after_script["normal-rule"] == before["normal-rule"]

    with (folder / "_style.py").open("a") as style:
        style.write("# restyle everything\n")
    after_style = plan_figures(folder)
    assert all(after_style[n].key != after_script[n].key for n in before)


def test_badly_named_script_is_refused(tmp_path):
    folder = copy_figures(tmp_path)
    (folder / "KL_fits.py").write_text("def draw(theme): ...\n")
    with pytest.raises(FigureError, match="a-z, 0-9"):
        plan_figures(folder)


def test_missing_folder_has_no_figures(tmp_path):
    assert plan_figures(tmp_path / "nowhere") == {}


# ---- drawing -------------------------------------------------------------------------------


def test_every_script_draws_both_themes(plans, drawn):
    cache, outputs, reports = drawn
    assert sorted(reports) == sorted((name, False) for name in plans)
    assert set(outputs) == set(plans)
    for name, (light, dark) in outputs.items():
        assert (light.name, dark.name) == (plans[name].light_name, plans[name].dark_name)
        assert light.parent == dark.parent == cache
        assert light.read_bytes() != dark.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == sorted(  # no temporary leftovers
        p.name + suffix for pair in outputs.values() for p in pair for suffix in ("", ".sha256")
    )  # each with its digest


def test_light_and_dark_backgrounds_and_phone_size(drawn):
    from PIL import Image

    for name, (light, dark) in drawn[1].items():
        if light.suffix != ".png":
            assert b"<svg" in light.read_bytes()[:500] and b"<svg" in dark.read_bytes()[:500]
            continue
        for path, dark_mode in ((light, False), (dark, True)):
            with Image.open(path) as image:
                width, height = image.size
                corner = image.convert("L").getpixel((2, 2))
            assert width == PHONE_PNG_WIDTH, name
            assert height >= 0.75 * width, f"{name}: wider than 4:3"
            assert (corner < 80) if dark_mode else (corner > 240), f"{path.name}: background"


def test_figures_are_byte_identical_across_runs(plans, drawn, tmp_path):
    again = make_figures(plans.values(), tmp_path / "again", jobs=2)
    for name, pair in drawn[1].items():
        for first, second in zip(pair, again[name], strict=True):
            assert first.read_bytes() == second.read_bytes(), f"{first.name} differs between runs"


def test_total_media_is_small(drawn):
    sizes = {p.name: p.stat().st_size for pair in drawn[1].values() for p in pair}
    assert sum(sizes.values()) < MEDIA_BUDGET, sorted(sizes.items(), key=lambda kv: -kv[1])


def test_second_build_is_served_from_cache_without_running_anything(plans, drawn, monkeypatch):
    cache, outputs, _ = drawn

    def no_process(*args, **kwargs):
        raise AssertionError("a cached figure started a process")

    monkeypatch.setattr(figure_drawing.subprocess, "Popen", no_process)
    reports = []
    again = make_figures(
        plans.values(),
        cache,
        jobs=2,
        on_done=lambda plan, cached: reports.append((plan.name, cached)),
    )
    assert again == outputs
    assert sorted(reports) == sorted((name, True) for name in plans)


def test_a_figure_damaged_after_it_was_found_intact_is_not_cached(plans, drawn, tmp_path):
    """is_cached remembers files found intact by their size, times and inode: a change to the
    bytes is seen again."""
    from builder.figures import is_cached

    cache, _, _ = drawn
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    plan = next(iter(plans.values()))
    assert is_cached(plan, copy) and is_cached(plan, copy)
    light = copy / plan.light_name
    data = light.read_bytes()
    light.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit
    assert not is_cached(plan, copy)
    light.write_bytes(data)
    assert is_cached(plan, copy)


TINY_SVG = """
import _style

FORMAT = "svg"

def draw(theme):
    fig, ax = _style.figure()
    ax.plot([0, 1, 2], [0, 1, 0], label="$x^2$ clipped")
    ax.legend()
    return fig
"""


def test_svg_output_is_byte_identical_and_undated(tmp_path):
    folder = copy_figures(tmp_path)
    (folder / "tiny.py").write_text(TINY_SVG)
    plans = plan_figures(folder)
    assert plans["tiny"].light_name.endswith("-light.svg")
    first = make_figures(plans.values(), tmp_path / "one", jobs=1)["tiny"]
    second = make_figures(plans.values(), tmp_path / "two", jobs=1)["tiny"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert b"<dc:date>" not in a.read_bytes() and b"<svg" in a.read_bytes()


# ---- failures ------------------------------------------------------------------------------

FAILS_AT_NIGHT = """
import matplotlib.pyplot as plt

def draw(theme):
    if theme.name == "dark":
        raise ValueError("night mode is broken")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig
"""


def test_failing_script_raises_with_its_traceback_and_leaves_cache_clean(tmp_path):
    folder = copy_figures(tmp_path)
    (folder / "fails-at-night.py").write_text(FAILS_AT_NIGHT)
    cache = tmp_path / "cache"
    with pytest.raises(FigureError) as caught:
        make_figures(plan_figures(folder).values(), cache, jobs=1)
    assert caught.value.name == "fails-at-night"
    assert "Traceback (most recent call last)" in caught.value.traceback_text
    assert "ValueError: night mode is broken" in caught.value.traceback_text
    assert list(cache.iterdir()) == []  # the light file it did write was never moved in


def test_broken_shared_style_is_reported(tmp_path):
    folder = copy_figures(tmp_path, "normal-rule.py")
    (folder / "_style.py").write_text('raise ImportError("style sheet missing")\n')
    cache = tmp_path / "cache"
    with pytest.raises(FigureError, match="style sheet missing"):
        make_figures(plan_figures(folder).values(), cache, jobs=1)
    assert list(cache.iterdir()) == []


def test_script_that_hangs_is_stopped_and_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(figure_drawing, "TIMEOUT_SECONDS", 2)
    folder = copy_figures(tmp_path)
    (folder / "hangs.py").write_text("import time\n\ndef draw(theme):\n    time.sleep(120)\n")
    cache = tmp_path / "cache"
    with pytest.raises(FigureError, match="did not finish in 2 s"):
        make_figures(plan_figures(folder).values(), cache, jobs=1)
    assert list(cache.iterdir()) == []


# ---- the numbers behind the KL figure --------------------------------------------------------


def test_forward_kl_fit_matches_the_mixture_moments(monkeypatch):
    kl_fits = load_figure_module("kl-fits", monkeypatch)
    mean, variance = kl_fits.mixture_moments()
    fit_mean, fit_std = kl_fits.fit("forward")
    assert fit_mean == pytest.approx(mean, abs=1e-6)
    assert fit_std == pytest.approx(math.sqrt(variance), rel=1e-6)


@pytest.mark.parametrize("start, component", [(0.5, 1), (-3.0, 0)])
def test_reverse_kl_fit_sits_on_one_mode(monkeypatch, start, component):
    kl_fits = load_figure_module("kl-fits", monkeypatch)
    _, mode_mean, mode_std = kl_fits.MIXTURE[component]
    fit_mean, fit_std = kl_fits.fit("reverse", init_mean=start)
    assert fit_mean == pytest.approx(mode_mean, abs=0.05)
    assert fit_std == pytest.approx(mode_std, abs=0.05)
    assert fit_std < 0.5 * math.sqrt(kl_fits.mixture_moments()[1])
