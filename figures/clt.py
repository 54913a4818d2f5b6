"""Central limit theorem: means of n draws from a skewed Exponential(1) against N(mu, sigma^2/n).

One panel per n, stacked (not a grid) so each stays wide on a phone. The exponential has
mu = sigma = 1, so the limit for n draws is N(1, 1/n): the histogram narrows like 1/sqrt(n)
and its skew fades.
"""

from __future__ import annotations

import math

import torch

import _style

FORMAT = "png"
SAMPLE_SIZES = (1, 4, 32)
REPEATS = 40_000


def sample_means(n: int, generator: torch.Generator) -> torch.Tensor:
    draws = torch.empty(REPEATS, n, dtype=torch.float64).exponential_(1.0, generator=generator)
    return draws.mean(dim=1)


def draw(theme: _style.Theme):
    generator = torch.Generator().manual_seed(20240501)
    fig, axes = _style.figure(height=4.6, nrows=len(SAMPLE_SIZES), sharex=True)
    x = torch.linspace(0.0, 3.0, 301, dtype=torch.float64)
    bins = torch.linspace(0.0, 3.0, 61, dtype=torch.float64)
    for ax, n in zip(axes, SAMPLE_SIZES):
        means = sample_means(n, generator)
        ax.hist(means.numpy(), bins=bins.numpy(), density=True, color=theme.colours[0],
                alpha=theme.fill_alpha + 0.25)
        normal = torch.exp(-((x - 1.0) ** 2) * n / 2) * math.sqrt(n / (2 * math.pi))
        ax.plot(x, normal, color=theme.colours[1])
        ax.text(0.98, 0.9, f"$n = {n}$", transform=ax.transAxes, ha="right", va="top")
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
    axes[0].set_title(r"means of $n$ Exp(1) draws vs $\mathcal{N}(1,\,1/n)$", fontsize=13)
    axes[-1].set_xlim(0, 3)
    axes[-1].set_xlabel(r"sample mean $\bar{x}_n$")
    return fig
