"""A saddle point: f(x, y) = x^2 - y^2 has zero gradient at the origin, but its Hessian
diag(2, -2) has one positive and one negative eigenvalue, so the origin is neither a minimum
nor a maximum. Gradient descent from near the x axis (autograd path) slows down as it
approaches the saddle and escapes along the negative-curvature direction y.
"""

from __future__ import annotations

import torch

import _style

FORMAT = "png"


def f(x, y):
    return x**2 - y**2


def hessian_at_origin() -> torch.Tensor:
    return torch.autograd.functional.hessian(
        lambda v: f(v[0], v[1]), torch.zeros(2, dtype=torch.float64))


def descent_path(start=(1.9, 0.01), lr=0.1, steps=30) -> torch.Tensor:
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    path = [point.detach().clone()]
    for _ in range(steps):
        (grad,) = torch.autograd.grad(f(point[0], point[1]), point)
        point = (point - lr * grad).detach().requires_grad_(True)
        path.append(point.detach().clone())
    return torch.stack(path)


def draw(theme: _style.Theme):
    fig, ax = _style.figure(height=4.0)
    g = torch.linspace(-2.0, 2.0, 201, dtype=torch.float64)
    x, y = torch.meshgrid(g, g, indexing="xy")
    z = f(x, y)
    ax.contour(x, y, z, levels=[0.5, 1.5, 2.5, 3.5], colors=theme.colours[0], linewidths=1.4)
    ax.contour(x, y, z, levels=[-3.5, -2.5, -1.5, -0.5], colors=theme.colours[1],
               linewidths=1.4, linestyles="solid")
    ax.plot([-2, 2], [-2, 2], color=theme.muted, linewidth=0.8)
    ax.plot([-2, 2], [2, -2], color=theme.muted, linewidth=0.8)
    path = descent_path()
    inside = path[:, 1].abs() <= 2.0
    ax.plot(path[inside, 0], path[inside, 1], "o-", color=theme.foreground, markersize=3.2,
            linewidth=1.2)
    ax.plot([0], [0], "o", color=theme.foreground, markersize=8)
    eigenvalues = torch.linalg.eigvalsh(hessian_at_origin())
    ax.set_xlabel(f"Hessian eigenvalues ${eigenvalues[1]:+.0f}$ along $x$, "
                  f"${eigenvalues[0]:+.0f}$ along $y$", fontsize=12)
    box = dict(boxstyle="square,pad=0.1", facecolor=theme.background, linewidth=0)
    ax.text(-1.45, 0.0, "$f>0$", color=theme.colours[0], ha="center", va="center", bbox=box)
    ax.text(-0.75, -1.55, "$f<0$", color=theme.colours[1], ha="center", va="center", bbox=box)
    ax.set_title("$f = x^2 - y^2$ and a GD path", fontsize=13)
    ax.set_aspect("equal")
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
    ax.set_xticks([-2, 0, 2])
    ax.set_yticks([-2, 0, 2])
    return fig
