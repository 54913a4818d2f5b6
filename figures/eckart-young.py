"""Eckart-Young: the best rank-r approximation keeps the r largest singular values.

Top: the singular values of a 40 x 30 matrix, the kept ones (r = 4) in colour. Bottom: the
measured error of the truncated SVD A_r, ||A - A_r||_F / ||A||_F, lies exactly on
sqrt(sum_{i>r} sigma_i^2) / sqrt(sum_i sigma_i^2): the error is the dropped tail of the spectrum.
"""

from __future__ import annotations

import functools

import torch

import _style

FORMAT = "png"
RANK = 4
SHOWN = 16


@functools.cache
def matrix() -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    u, _ = torch.linalg.qr(torch.randn(40, 30, generator=generator, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(30, 30, generator=generator, dtype=torch.float64))
    spectrum = torch.exp(-torch.arange(30, dtype=torch.float64) / 2.5)
    noise = 0.003 * torch.randn(40, 30, generator=generator, dtype=torch.float64)
    return u @ torch.diag(spectrum) @ v.T + noise


def truncation_errors(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(measured, predicted) relative Frobenius error of the rank-r SVD for r = 0..SHOWN."""
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    measured = torch.stack([
        torch.linalg.norm(a - u[:, :r] @ torch.diag(s[:r]) @ vh[:r]) for r in range(SHOWN + 1)
    ]) / torch.linalg.norm(a)
    tail = torch.flip(torch.cumsum(torch.flip(s**2, [0]), 0), [0])  # tail[r] = sum_{i>=r} s_i^2
    predicted = torch.sqrt(tail[: SHOWN + 1] / tail[0])
    return measured, predicted


def draw(theme: _style.Theme):
    a = matrix()
    s = torch.linalg.svdvals(a)[:SHOWN]
    measured, predicted = truncation_errors(a)
    fig, (top, bottom) = _style.figure(height=4.6, nrows=2)
    index = torch.arange(1, SHOWN + 1)
    colours = [theme.colours[0] if i <= RANK else theme.muted for i in index.tolist()]
    top.bar(index, s, color=colours, width=0.75)
    top.set_title(f"singular values $\\sigma_i$ (keep {RANK})", fontsize=13)
    top.set_xticks([1, 4, 8, 12, 16])
    top.set_xlim(0.3, SHOWN + 0.7)

    r = torch.arange(SHOWN + 1)
    bottom.plot(r, predicted, color=theme.colours[1],
                label=r"$\sqrt{\sum_{i>r}\sigma_i^2}\,/\,\|A\|_F$")
    bottom.plot(r, measured, "o", color=theme.foreground, markersize=4.5,
                label=r"$\|A - A_r\|_F\,/\,\|A\|_F$")
    bottom.axvline(RANK, color=theme.colours[0], linewidth=1.2, linestyle="--")
    bottom.set_xlabel("rank $r$")
    bottom.set_ylabel("relative error")
    bottom.set_xticks([0, 4, 8, 12, 16])
    bottom.set_xlim(-0.5, SHOWN + 0.5)
    bottom.set_ylim(0, 1.05)
    bottom.legend(loc="upper right")
    return fig
