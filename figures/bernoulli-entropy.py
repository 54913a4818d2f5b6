"""Entropy of a Bernoulli(p) coin in bits: 0 when the outcome is certain, 1 bit at p = 1/2."""

from __future__ import annotations

import torch

import _style

FORMAT = "png"


def entropy_bits(p: torch.Tensor) -> torch.Tensor:
    """H(p) = -p log2 p - (1-p) log2 (1-p), with 0 log 0 = 0."""
    nats = -torch.special.xlogy(p, p) - torch.special.xlogy(1 - p, 1 - p)
    return nats / torch.log(torch.tensor(2.0, dtype=p.dtype))


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=3.3)
    p = torch.linspace(0.0, 1.0, 401, dtype=torch.float64)
    ax.plot(p, entropy_bits(p), color=theme.colours[0])
    ax.plot([0.5], [1.0], "o", color=theme.colours[1], markersize=7)
    ax.annotate("fair coin: 1 bit", xy=(0.5, 1.0), xytext=(0.5, 1.13), ha="center",
                color=theme.foreground)
    p_biased = torch.tensor(0.1, dtype=torch.float64)
    h_biased = float(entropy_bits(p_biased))
    ax.plot([0.1], [h_biased], "o", color=theme.colours[1], markersize=7)
    ax.annotate(f"$p = 0.1$: {h_biased:.2f} bits", xy=(0.1, h_biased), xytext=(0.13, h_biased - 0.2),
                color=theme.foreground)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.25)
    ax.set_yticks([0, 0.5, 1])
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0", "0.25", "0.5", "0.75", "1"])
    ax.set_xlabel("$p$ = P(heads)")
    ax.set_ylabel("$H(p)$ in bits")
    return fig
