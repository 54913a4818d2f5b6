"""KL vs Wasserstein on non-overlapping supports: P = U[0, w] and Q_theta = U[theta, theta + w].

Once the supports stop overlapping (|theta| >= w), KL(P||Q) is infinite and Jensen-Shannon is
stuck at log 2: neither says how far apart P and Q are, so their gradient in theta is zero or
undefined. The Wasserstein-1 distance |theta| keeps growing linearly, a useful gradient
everywhere. All three are computed from the discretised densities.
"""

from __future__ import annotations

import functools
import math

import torch

import _style

FORMAT = "png"
WIDTH = 0.2
GRID = torch.linspace(-4.0, 4.0, 8001, dtype=torch.float64)
DX = float(GRID[1] - GRID[0])


def box(start: float) -> torch.Tensor:
    """Probability masses of U[start, start + WIDTH] on GRID cells."""
    inside = (GRID >= start - 1e-9) & (GRID < start + WIDTH - 1e-9)
    return inside.double() / inside.sum()


def kl(p: torch.Tensor, q: torch.Tensor) -> float:
    if torch.any((p > 0) & (q == 0)):
        return math.inf
    return float(torch.sum(torch.special.xlogy(p, p) - torch.special.xlogy(p, q)))


def js(p: torch.Tensor, q: torch.Tensor) -> float:
    m = (p + q) / 2
    return (kl(p, m) + kl(q, m)) / 2


def wasserstein(p: torch.Tensor, q: torch.Tensor) -> float:
    # in one dimension W1 is the area between the two CDFs
    return float(torch.sum(torch.abs(torch.cumsum(p, 0) - torch.cumsum(q, 0))) * DX)


@functools.cache
def curves() -> dict[str, list[float]]:
    p = box(0.0)
    thetas = [round(-2.0 + 0.02 * i, 2) for i in range(201)]
    qs = [box(t) for t in thetas]
    return {"theta": thetas,
            "kl": [kl(p, q) for q in qs],
            "js": [js(p, q) for q in qs],
            "w1": [wasserstein(p, q) for q in qs]}


def draw(theme: _style.Theme):
    c = curves()
    fig, ax = _style.figure(height=3.5)
    ax.plot(c["theta"], c["w1"], color=theme.colours[0], label="Wasserstein-1: $|\\theta|$")
    ax.plot(c["theta"], c["js"], color=theme.colours[1], label="Jensen-Shannon")
    ax.text(0, 2.05, "KL$(P\\,\\|\\,Q_\\theta) = \\infty$ for $\\theta \\neq 0$",
            color=theme.colours[2], ha="center", va="bottom")
    ax.annotate("$\\log 2$", xy=(1.5, math.log(2)), xytext=(1.5, 1.05), ha="center",
                color=theme.colours[1],
                arrowprops=dict(arrowstyle="->", color=theme.colours[1], linewidth=1.2))
    ax.set_xlim(-2, 2)
    ax.set_ylim(0, 2.4)
    ax.set_xlabel("shift $\\theta$ between $P$ and $Q_\\theta$")
    ax.set_ylabel("distance")
    ax.set_title(f"$P = U[0,\\,{WIDTH:g}]$, $Q_\\theta$ = $P$ shifted by $\\theta$", fontsize=13)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.88))
    return fig
