"""The 68-95-99.7 rule: mass of a normal within 1, 2 and 3 standard deviations of its mean.

The percentages are computed (with torch.special.erf), not typed in.
"""

from __future__ import annotations

import math

import torch

import _style

FORMAT = "png"


def mass_within(k: float) -> float:
    """P(|X - mu| < k sigma) for a normal X."""
    return float(torch.special.erf(torch.tensor(k / math.sqrt(2), dtype=torch.float64)))


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=3.3)
    x = torch.linspace(-3.6, 3.6, 721, dtype=torch.float64)
    pdf = torch.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    ax.plot(x, pdf, color=theme.foreground, linewidth=1.8)
    for k, alpha in ((3, 0.25), (2, 0.45), (1, 0.7)):
        inside = x.abs() <= k
        ax.fill_between(x[inside], pdf[inside], color=theme.colours[0], alpha=alpha, linewidth=0)
    heights = {1: 0.46, 2: 0.535, 3: 0.61}
    for k, y in heights.items():
        pct = 100 * mass_within(k)
        label = f"{pct:.1f}%" if k == 3 else f"{pct:.0f}%"
        ax.annotate("", xy=(-k, y), xytext=(k, y),
                    arrowprops=dict(arrowstyle="<->", color=theme.foreground, linewidth=1.3,
                                    shrinkA=0, shrinkB=0))
        ax.text(0, y, label, ha="center", va="center",
                bbox=dict(boxstyle="square,pad=0.15", facecolor=theme.background, linewidth=0))
    ax.set_xlim(-3.6, 3.6)
    ax.set_ylim(0, 0.67)
    ax.set_xticks(range(-3, 4), ["$-3\\sigma$", "$-2\\sigma$", "$-\\sigma$", "$\\mu$",
                                 "$\\sigma$", "$2\\sigma$", "$3\\sigma$"])
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    return fig
