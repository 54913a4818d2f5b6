"""Shared look of every figure: the day and night themes, the rcParams, and deterministic saving.

A figure script only draws; this module decides how it looks and how its bytes are written.
Its text is part of every figure's cache key, so editing it redraws every figure.

Sizes are chosen for a 360 px wide phone: a figure 4 in wide is shown about 340 px wide, so
one point is about 1.2 px and a 13 pt label reads like 15 px text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, and the same renderer everywhere

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDTH_IN = 4.0          # every figure is this wide; heights vary, at least 3/4 of it
PNG_DPI = 180           # 4 in x 180 = 720 px: 2x for a 360 px phone
PNG_COLOURS = 64        # palette size after quantising; flat plots need few colours


@dataclass(frozen=True)
class Theme:
    """Colours for one of Anki's modes; `colours` are the data series, in order."""

    name: str           # "light" or "dark"
    background: str
    foreground: str     # text, axes and ticks
    muted: str          # grid lines, reference curves, secondary text
    colours: tuple[str, ...]
    fill_alpha: float   # for shaded areas and histograms


# Okabe-Ito hues (safe for colour-blind readers), darker by day and brighter by night so
# each keeps contrast against its background.
LIGHT = Theme(
    name="light",
    background="#ffffff",
    foreground="#1a1a1a",
    muted="#8a8a8a",
    colours=("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"),
    fill_alpha=0.25,
)
# Anki's night-mode card background is a dark grey, not black; matching it hides the edge.
DARK = Theme(
    name="dark",
    background="#2c2c2c",
    foreground="#eeeeee",
    muted="#9a9a9a",
    colours=("#56B4E9", "#F08C4A", "#3FD0A4", "#E8A0C8", "#F0E442"),
    fill_alpha=0.35,
)
THEMES = (LIGHT, DARK)


def rc_params(theme: Theme) -> dict:
    """Matplotlib settings for `theme`: large type, few lines, fixed SVG ids."""
    return {
        "figure.figsize": (WIDTH_IN, 3.3),
        "figure.dpi": PNG_DPI,
        "figure.constrained_layout.use": True,
        "figure.facecolor": theme.background,
        "axes.facecolor": theme.background,
        "savefig.facecolor": theme.background,
        "font.family": "DejaVu Sans",  # matplotlib's bundled copy, so bytes match across machines
        "mathtext.fontset": "dejavusans",
        "font.size": 13,
        "axes.titlesize": 14,
        "axes.labelsize": 13,
        "xtick.labelsize": 12,
        "ytick.labelsize": 12,
        "legend.fontsize": 11.5,
        "legend.frameon": False,
        "legend.handlelength": 1.4,
        "text.color": theme.foreground,
        "axes.labelcolor": theme.foreground,
        "axes.edgecolor": theme.muted,
        "axes.titlecolor": theme.foreground,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": matplotlib.cycler(color=list(theme.colours)),
        "xtick.color": theme.muted,
        "ytick.color": theme.muted,
        "xtick.labelcolor": theme.foreground,
        "ytick.labelcolor": theme.foreground,
        "grid.color": theme.muted,
        "grid.alpha": 0.35,
        "lines.linewidth": 2.2,
        "patch.linewidth": 0,
        "hatch.color": theme.foreground,
        "path.simplify": True,
        "svg.fonttype": "path",        # glyphs as shared paths: same look on every phone
        "svg.hashsalt": "mathdeck",    # fixed clip-path and glyph ids: byte-identical SVG
    }


def figure(height: float = 3.3, **subplots_kw) -> tuple[Figure, object]:
    """A new figure WIDTH_IN wide with `plt.subplots(**subplots_kw)` axes."""
    return plt.subplots(figsize=(WIDTH_IN, height), **subplots_kw)


def save(fig: Figure, path: Path) -> None:
    """Write `fig` to `path` (.svg or .png) with no dates or tool names, so bytes are stable."""
    path = Path(path)
    if path.suffix == ".svg":
        fig.savefig(path, format="svg",
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    elif path.suffix == ".png":
        path.write_bytes(_small_png(fig))
    else:
        raise ValueError(f"unknown figure format {path.suffix!r}; use .svg or .png")


def _small_png(fig: Figure) -> bytes:
    # Agg at PNG_DPI, then a fixed palette without dithering: flat plots lose nothing visible
    # and the file shrinks several times. Pillow writes no time or software chunks.
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="png", dpi=PNG_DPI, metadata={"Software": None})
    image = Image.open(raw).convert("RGB")
    small = image.quantize(PNG_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()
