"""Bias-variance trade-off: polynomial fits of growing degree to noisy samples of sin(2 pi x).

For each degree, 400 training sets of 10 points (same inputs, fresh noise) are fitted by least squares; at test inputs the
squared bias (average fit vs truth) falls with degree while the variance (spread of the fits)
rises, and their sum plus the noise sigma^2 is the U-shaped expected test error.
"""

from __future__ import annotations

import functools
import math

import torch

import _style

FORMAT = "png"
DEGREES = range(0, 10)
TRAIN_POINTS = 10
DATASETS = 400
NOISE = 0.3


def truth(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(2 * math.pi * x)


def features(x: torch.Tensor, degree: int) -> torch.Tensor:
    # Legendre-like conditioning: powers of x mapped to [-1, 1]
    return torch.stack([(2 * x - 1) ** k for k in range(degree + 1)], dim=-1)


@functools.cache
def decomposition() -> dict[str, list[float]]:
    """Squared bias, variance and their sum with the noise, per degree."""
    generator = torch.Generator().manual_seed(3)
    # a fixed design (the same inputs, fresh noise) keeps the variance finite at high degree
    x = torch.linspace(0.0, 1.0, TRAIN_POINTS, dtype=torch.float64).expand(DATASETS, -1)
    y = truth(x) + NOISE * torch.randn(DATASETS, TRAIN_POINTS, generator=generator,
                                       dtype=torch.float64)
    x_test = torch.linspace(0.05, 0.95, 91, dtype=torch.float64)
    result = {"bias2": [], "variance": [], "total": []}
    for degree in DEGREES:
        coef = torch.linalg.lstsq(features(x, degree), y.unsqueeze(-1)).solution
        predictions = (features(x_test, degree) @ coef).squeeze(-1)  # (DATASETS, tests)
        bias2 = ((predictions.mean(0) - truth(x_test)) ** 2).mean()
        variance = predictions.var(0, unbiased=False).mean()
        result["bias2"].append(float(bias2))
        result["variance"].append(float(variance))
        result["total"].append(float(bias2 + variance + NOISE**2))
    return result


def draw(theme: _style.Theme):
    parts = decomposition()
    fig, ax = _style.figure(height=3.4)
    degrees = list(DEGREES)
    ax.plot(degrees, parts["bias2"], "o-", color=theme.colours[0], label="bias$^2$",
            markersize=4)
    ax.plot(degrees, parts["variance"], "s-", color=theme.colours[1], label="variance",
            markersize=4)
    ax.plot(degrees, parts["total"], "-", color=theme.foreground, label="expected test error",
            linewidth=2.6)
    ax.axhline(NOISE**2, color=theme.muted, linestyle="--", linewidth=1.2)
    ax.text(0.15, NOISE**2 - 0.012, "noise $\\sigma^2$", color=theme.muted, fontsize=11, va="top")
    best = min(degrees, key=lambda d: parts["total"][d])
    ax.plot([best], [parts["total"][best]], "o", color=theme.foreground, markersize=8)
    ax.set_ylim(0, 0.75)
    ax.set_xlabel("polynomial degree")
    ax.set_ylabel("error")
    ax.set_xticks([0, 3, 6, 9])
    ax.legend(loc="upper center", bbox_to_anchor=(0.55, 1.03))
    return fig
