"""Softmax temperature: softmax(z / T) sharpens towards argmax as T -> 0 and flattens towards
uniform as T grows; the order of the probabilities never changes."""

from __future__ import annotations

import torch

import _style

FORMAT = "png"
LOGITS = (2.0, 1.0, 0.5, -0.5)
TEMPERATURES = (0.5, 1.0, 4.0)


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=3.4)
    z = torch.tensor(LOGITS, dtype=torch.float64)
    width = 0.26
    for j, t in enumerate(TEMPERATURES):
        probs = torch.softmax(z / t, dim=0)
        label = {0.5: "$T = 0.5$ (sharper)", 1.0: "$T = 1$", 4.0: "$T = 4$ (flatter)"}[t]
        ax.bar(torch.arange(len(LOGITS)) + (j - 1) * width, probs, width=width,
               color=theme.colours[j], label=label)
    ax.axhline(1 / len(LOGITS), color=theme.muted, linestyle="--", linewidth=1.2)
    ax.text(len(LOGITS) - 0.55, 1 / len(LOGITS) + 0.02, "uniform", ha="right", va="bottom",
            color=theme.muted, fontsize=11)
    ax.set_xticks(range(len(LOGITS)), [f"$z={v:g}$" for v in LOGITS])
    ax.set_ylabel("softmax$(z/T)$")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right")
    return fig
