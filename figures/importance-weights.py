"""Importance sampling: weights w(x) = p(x)/q(x) for the target p = N(0, 1).

A proposal wider than p gives bounded weights; a narrower one gives weights that grow like
exp(c x^2) in the tails (their variance is infinite once sigma_q^2 < sigma_p^2 / 2), so a few
rare samples carry almost all the weight and the effective sample size collapses.
"""

from __future__ import annotations

import functools

import torch

import _style

FORMAT = "png"
PROPOSAL_STDS = (2.0, 0.6)   # wide (safe), narrow (weights blow up)
SAMPLES = 10_000


def log_weight(x: torch.Tensor, q_std: float) -> torch.Tensor:
    p = torch.distributions.Normal(0.0, 1.0)
    q = torch.distributions.Normal(0.0, q_std)
    return p.log_prob(x) - q.log_prob(x)


@functools.cache
def effective_sample_fraction(q_std: float) -> float:
    """ESS / n = (sum w)^2 / (n sum w^2) for SAMPLES draws from q."""
    generator = torch.Generator().manual_seed(11)
    x = q_std * torch.randn(SAMPLES, generator=generator, dtype=torch.float64)
    w = torch.exp(log_weight(x, q_std))
    return float(w.sum() ** 2 / (SAMPLES * (w**2).sum()))


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=3.5)
    x = torch.linspace(-4.0, 4.0, 401, dtype=torch.float64)
    for colour, q_std in zip(theme.colours, PROPOSAL_STDS):
        ess = effective_sample_fraction(q_std)
        ax.plot(x, torch.exp(log_weight(x, q_std)), color=colour,
                label=f"$q = \\mathcal{{N}}(0,\\,{q_std:g}^2)$: ESS {100 * ess:.2g}%")
    ax.axhline(1.0, color=theme.muted, linestyle="--", linewidth=1.2)
    ax.text(-3.9, 0.75, "$q = p$", color=theme.muted, fontsize=11, va="top")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1e5)
    ax.set_yticks([1e-2, 1, 1e2, 1e4])
    ax.minorticks_off()
    ax.set_xlim(-4, 4)
    ax.set_xlabel("$x$")
    ax.set_ylabel("weight $p(x)\\,/\\,q(x)$")
    ax.set_title("target $p = \\mathcal{N}(0, 1)$", fontsize=13)
    ax.legend(loc="lower center")
    return fig
