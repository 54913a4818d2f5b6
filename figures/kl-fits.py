"""Forward vs reverse KL: the best single Gaussian for a bimodal mixture, fitted with autograd.

Forward KL(p||q) = E_p[log p - log q] punishes q for missing mass of p, so q spreads over both
modes: its optimum matches p's mean and variance (mean-seeking). Reverse KL(q||p) = E_q[log q -
log p] punishes q for putting mass where p has none, so q settles on one mode (mode-seeking).
Both expectations are Gauss-Hermite sums (exact for Gaussians times smooth functions), so the
fit is accurate and deterministic, and reverse KL is reparametrised: its nodes move with q.
"""

from __future__ import annotations

import functools

import numpy
import torch

import _style

FORMAT = "png"

# (weight, mean, std) of each component of p; the peaks are equally high.
MIXTURE = ((0.4, -2.5, 0.6), (0.6, 2.0, 0.9))
_nodes, _weights = numpy.polynomial.hermite.hermgauss(100)
# E over N(m, s^2) of f  =  sum_i WEIGHTS_i f(m + s * NODES_i)
NODES = torch.tensor(_nodes * 2**0.5, dtype=torch.float64)
WEIGHTS = torch.tensor(_weights / numpy.pi**0.5, dtype=torch.float64)


def log_normal(x: torch.Tensor, mean, std) -> torch.Tensor:
    return torch.distributions.Normal(mean, std).log_prob(x)


def log_p(x: torch.Tensor) -> torch.Tensor:
    parts = [torch.log(torch.tensor(w, dtype=x.dtype)) + log_normal(x, m, s) for w, m, s in MIXTURE]
    return torch.logsumexp(torch.stack(parts), dim=0)


def mixture_moments() -> tuple[float, float]:
    """Mean and variance of p, in closed form."""
    mean = sum(w * m for w, m, _ in MIXTURE)
    second = sum(w * (s * s + m * m) for w, m, s in MIXTURE)
    return mean, second - mean * mean


def kl(direction: str, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """KL(p||q) for "forward", KL(q||p) for "reverse", with q = N(mean, exp(log_std)^2)."""
    std = torch.exp(log_std)
    if direction == "forward":
        return sum(w * _expect(m, s, lambda x: log_p(x) - log_normal(x, mean, std))
                   for w, m, s in MIXTURE)
    if direction == "reverse":
        return _expect(mean, std, lambda x: log_normal(x, mean, std) - log_p(x))
    raise ValueError(f"direction must be 'forward' or 'reverse', not {direction!r}")


def _expect(mean, std, f) -> torch.Tensor:
    return torch.sum(WEIGHTS * f(mean + std * NODES))


@functools.cache
def fit(direction: str, init_mean: float = 0.5, init_std: float = 1.0) -> tuple[float, float]:
    """(mean, std) of the Gaussian q minimising the `direction` KL, by L-BFGS on autograd."""
    mean = torch.tensor(init_mean, dtype=torch.float64, requires_grad=True)
    log_std = torch.tensor(float(torch.log(torch.tensor(init_std))), dtype=torch.float64,
                           requires_grad=True)
    optimiser = torch.optim.LBFGS([mean, log_std], lr=1.0, max_iter=200,
                                  tolerance_grad=1e-12, tolerance_change=1e-15,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = kl(direction, mean, log_std)
        loss.backward()
        return loss

    for _ in range(5):
        optimiser.step(closure)
    return float(mean.detach()), float(torch.exp(log_std.detach()))


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=3.5)
    x = torch.linspace(-6.0, 6.0, 401, dtype=torch.float64)
    ax.fill_between(x, torch.exp(log_p(x)), color=theme.muted, alpha=theme.fill_alpha + 0.15,
                    linewidth=0, label="$p$: bimodal mixture")
    for direction, colour, label in (
        ("forward", theme.colours[0], r"forward $\mathrm{KL}(p\,\|\,q)$: mean-seeking"),
        ("reverse", theme.colours[1], r"reverse $\mathrm{KL}(q\,\|\,p)$: mode-seeking"),
    ):
        mean, std = fit(direction)
        ax.plot(x, torch.exp(log_normal(x, mean, std)), color=colour, label=label)
    ax.set_xlim(-6, 6)
    ax.set_ylim(0, 0.66)
    ax.set_yticks([0, 0.2, 0.4])
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.legend(loc="upper left", borderaxespad=0.1)
    return fig
