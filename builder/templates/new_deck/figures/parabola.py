"""A parabola y = x^2 - 1 and its two roots, where it crosses the x axis.

A figure script: `draw(theme)` returns a matplotlib figure in the theme's colours, drawn once for
Anki's day mode and once for night mode. A card shows it with `figure: parabola`.
"""

from __future__ import annotations

import numpy as np

import _style

FORMAT = "png"


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=3.0)
    x = np.linspace(-2, 2, 201)
    ax.plot(x, x**2 - 1, color=theme.colours[0])
    ax.axhline(0, color=theme.muted, linewidth=1)
    ax.plot([-1, 1], [0, 0], "o", color=theme.colours[1])
    ax.set_xlabel("$x$")
    ax.set_ylabel("$x^2 - 1$")
    return fig
