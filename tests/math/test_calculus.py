"""Numeric checks for the Part 1 calculus cards (seed section 1.8): Jacobian, Hessian, chain
rule, VJP."""

from __future__ import annotations

from itertools import pairwise

import pytest
import torch
from torch.autograd.functional import hessian, jacobian, jvp, vjp

DT = torch.float64


def f_vec(x: torch.Tensor) -> torch.Tensor:
    """R^3 -> R^2."""
    return torch.stack([x[0] ** 2 * x[1], 5 * x[0] + torch.sin(x[1]) * x[2]])


def f_vec_jacobian(x: torch.Tensor) -> torch.Tensor:
    return torch.tensor(
        [
            [2 * x[0] * x[1], x[0] ** 2, 0.0],
            [5.0, torch.cos(x[1]) * x[2], torch.sin(x[1])],
        ],
        dtype=DT,
    )


@pytest.mark.card("p1-jacobian")
def test_jacobian_matches_analytic_and_linearises():
    torch.manual_seed(0)
    x = torch.randn(3, dtype=DT)
    j = jacobian(f_vec, x)
    assert j.shape == (2, 3)  # m x n for f: R^n -> R^m
    assert torch.allclose(j, f_vec_jacobian(x), atol=1e-12)
    # a layer tanh(Wx): J = diag(1 - tanh^2(Wx)) W
    w = torch.randn(4, 3, dtype=DT)
    j_layer = jacobian(lambda v: torch.tanh(w @ v), x)
    assert torch.allclose(j_layer, torch.diag(1 - torch.tanh(w @ x) ** 2) @ w, atol=1e-12)
    delta = 1e-5 * torch.randn(3, dtype=DT)
    lin_err = f_vec(x + delta) - (f_vec(x) + j @ delta)
    assert torch.linalg.vector_norm(lin_err) < 1e-8


def f_scalar(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    return 0.5 * x @ a @ x + torch.sin(x).sum() + x[0] * x[1] ** 2


@pytest.mark.card("p1-hessian")
@pytest.mark.card("p1-hessian-symmetry")
def test_hessian_matches_analytic_is_symmetric_and_is_jacobian_of_gradient():
    torch.manual_seed(0)
    a = torch.randn(3, 3, dtype=DT)  # deliberately non-symmetric
    x = torch.randn(3, dtype=DT)
    h = hessian(lambda v: f_scalar(v, a), x)
    analytic = (a + a.T) / 2 - torch.diag(torch.sin(x))
    analytic[0, 1] += 2 * x[1]
    analytic[1, 0] += 2 * x[1]
    analytic[1, 1] += 2 * x[0]
    assert torch.allclose(h, analytic, atol=1e-12)
    assert torch.allclose(h, h.T, atol=1e-12)

    def grad_f(v):
        return torch.autograd.grad(f_scalar(v, a), v, create_graph=True)[0]

    j_of_grad = jacobian(lambda v: grad_f(v if v.requires_grad else v.requires_grad_()), x)
    assert torch.allclose(j_of_grad, h, atol=1e-12)


def _peano(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * y * (x**2 - y**2) / (x**2 + y**2)


def _partial(fn, point: tuple[float, float], wrt: int) -> float:
    xy = [torch.tensor(v, dtype=DT, requires_grad=True) for v in point]
    (g,) = torch.autograd.grad(fn(*xy), xy[wrt])
    return g.item()


@pytest.mark.card("p1-hessian-symmetry")
def test_mixed_partials_differ_without_continuity():
    # f_x(0, y) = -y and f_y(x, 0) = x, so f_xy(0,0) = -1 but f_yx(0,0) = +1
    h = 1e-4
    f_xy = (_partial(_peano, (0.0, h), 0) - _partial(_peano, (0.0, -h), 0)) / (2 * h)
    f_yx = (_partial(_peano, (h, 0.0), 1) - _partial(_peano, (-h, 0.0), 1)) / (2 * h)
    assert abs(f_xy - (-1.0)) < 1e-9
    assert abs(f_yx - 1.0) < 1e-9


@pytest.mark.card("p1-second-order-taylor")
def test_second_order_taylor_error_is_cubic():
    torch.manual_seed(0)
    a = torch.randn(3, 3, dtype=DT)
    x = torch.randn(3, dtype=DT).requires_grad_()
    fx = f_scalar(x, a)
    (g,) = torch.autograd.grad(fx, x)
    h = hessian(lambda v: f_scalar(v, a), x.detach())
    direction = torch.randn(3, dtype=DT)
    errors = []
    for t in (1e-1, 5e-2, 2.5e-2):
        d = t * direction
        approx = fx + g @ d + 0.5 * d @ h @ d
        errors.append(abs((f_scalar(x.detach() + d, a) - approx).item()))
    for e1, e2 in pairwise(errors):
        assert 6.0 < e1 / e2 < 10.0  # halving delta divides an O(|delta|^3) error by ~8


def classify(h: torch.Tensor) -> str:
    lam = torch.linalg.eigvalsh(h)
    if torch.all(lam > 1e-12):
        return "min"
    if torch.all(lam < -1e-12):
        return "max"
    if lam.min() < -1e-12 and lam.max() > 1e-12:
        return "saddle"
    return "inconclusive"


@pytest.mark.card("p1-critical-point-classification")
def test_hessian_classifies_critical_points_like_sampling_does():
    torch.manual_seed(0)
    cases = {
        "min": lambda v: v[0] ** 2 + 2 * v[1] ** 2 + v[0] * v[1],
        "max": lambda v: -(v[0] ** 2) - v[1] ** 2,
        "saddle": lambda v: v[0] ** 2 - v[1] ** 2,
    }
    origin = torch.zeros(2, dtype=DT)
    around = 1e-2 * torch.randn(500, 2, dtype=DT)
    for expected, fn in cases.items():
        x = origin.clone().requires_grad_()
        (g,) = torch.autograd.grad(fn(x), x)
        assert torch.allclose(g, torch.zeros(2, dtype=DT))  # a critical point
        assert classify(hessian(fn, origin)) == expected
        diffs = torch.stack([fn(p) - fn(origin) for p in around])
        observed = "min" if torch.all(diffs > 0) else "max" if torch.all(diffs < 0) else "saddle"
        assert observed == expected


@pytest.mark.card("p1-critical-point-classification")
def test_semidefinite_hessian_is_inconclusive_and_gradient_must_vanish():
    zero = torch.zeros(1, dtype=DT)
    steps = torch.tensor([-1e-2, 1e-2], dtype=DT)
    shapes = {}
    for name, fn in {
        "x4": lambda v: v[0] ** 4,
        "-x4": lambda v: -(v[0] ** 4),
        "x3": lambda v: v[0] ** 3,
    }.items():
        assert classify(hessian(fn, zero)) == "inconclusive"
        diffs = torch.stack([fn(s.reshape(1)) - fn(zero) for s in steps])
        shapes[name] = (
            "min" if torch.all(diffs > 0) else "max" if torch.all(diffs < 0) else "neither"
        )
    assert shapes == {"x4": "min", "-x4": "max", "x3": "neither"}
    # f = x^2 + x has H = 2 > 0 at 0, but 0 is not a critical point and not a minimum
    fn = lambda v: v[0] ** 2 + v[0]  # noqa: E731
    assert classify(hessian(fn, zero)) == "min"
    assert fn(torch.tensor([-0.1], dtype=DT)) < fn(zero)


# ------------------------------------------------------------------------ 1.8.2 chain rule


@pytest.mark.card("p1-chain-rule-scalar")
def test_scalar_chain_rule():
    x = torch.tensor(0.7, dtype=DT, requires_grad=True)
    y = x**3
    z = torch.sin(y)
    (dz_dx,) = torch.autograd.grad(z, x)
    assert torch.isclose(dz_dx, torch.cos(x.detach() ** 3) * 3 * x.detach() ** 2)


@pytest.mark.card("p1-chain-rule-jacobians")
def test_jacobian_of_composition_is_product_of_jacobians():
    torch.manual_seed(0)
    w1, w2 = torch.randn(4, 3, dtype=DT), torch.randn(2, 4, dtype=DT)
    f = lambda v: torch.tanh(w1 @ v)  # noqa: E731  R^3 -> R^4
    g = lambda u: torch.stack([u.prod(), (w2 @ u).exp().sum()])  # noqa: E731  R^4 -> R^2
    x = torch.randn(3, dtype=DT)
    composed = jacobian(lambda v: g(f(v)), x)
    product = jacobian(g, f(x)) @ jacobian(f, x)
    assert composed.shape == (2, 3)
    assert torch.allclose(composed, product, atol=1e-12)


@pytest.mark.card("p1-vjp")
def test_vjp_is_transposed_jacobian_times_output_gradient():
    torch.manual_seed(0)
    x = torch.randn(3, dtype=DT)
    v = torch.randn(2, dtype=DT)
    _, x_bar = vjp(f_vec, x, v)
    assert torch.allclose(x_bar, jacobian(f_vec, x).T @ v, atol=1e-12)
    xr = x.clone().requires_grad_()
    (x_bar2,) = torch.autograd.grad(f_vec(xr), xr, grad_outputs=v)
    assert torch.allclose(x_bar2, x_bar)
    # elementwise op: the VJP is y_bar * f'(x), the Jacobian is never formed
    y_bar = torch.randn(3, dtype=DT)
    (elementwise,) = torch.autograd.grad(torch.tanh(xr), xr, grad_outputs=y_bar)
    assert torch.allclose(elementwise, y_bar * (1 - torch.tanh(x) ** 2))


def mlp_forward(x, weights):
    """Returns the loss and the cached activations (inputs to each layer, pre-activations)."""
    cache = []
    h = x
    for w in weights:
        z = h @ w
        cache.append((h, z))
        h = torch.tanh(z)
    loss = (h**2).sum() / 2
    return loss, h, cache


@pytest.mark.card("p1-backprop-vjp-chain")
@pytest.mark.card("p1-backprop-cached-activations")
@pytest.mark.card("p1-linear-layer-vjp")
def test_manual_backprop_with_cached_activations_matches_autograd():
    torch.manual_seed(0)
    sizes = [5, 7, 6, 3]
    weights = [torch.randn(i, o, dtype=DT, requires_grad=True) for i, o in pairwise(sizes)]
    x = torch.randn(4, sizes[0], dtype=DT, requires_grad=True)
    loss, out, cache = mlp_forward(x, weights)
    loss.backward()
    # manual reverse pass: VJPs from output to input, using only cached forward values
    bar = out.detach()  # dL/dh for L = |h|^2 / 2
    manual_w_grads = []
    for (h_in, z), w in zip(reversed(cache), reversed(weights), strict=True):
        bar = bar * (1 - torch.tanh(z.detach()) ** 2)  # through tanh
        manual_w_grads.append(h_in.detach().T @ bar)  # dL/dW = X^T dL/dY
        bar = bar @ w.detach().T  # dL/dX = dL/dY W^T
    manual_w_grads.reverse()
    assert torch.allclose(bar, x.grad, atol=1e-12)
    for manual, w in zip(manual_w_grads, weights, strict=True):
        assert torch.allclose(manual, w.grad, atol=1e-12)


@pytest.mark.card("p1-backprop-vjp-chain")
def test_gradient_equals_row_vector_times_chain_of_jacobians():
    torch.manual_seed(0)
    ws = [torch.randn(4, 3, dtype=DT), torch.randn(5, 4, dtype=DT), torch.randn(2, 5, dtype=DT)]
    layers = [lambda v, w=w: torch.tanh(w @ v) for w in ws]
    loss_fn = lambda v: (v**2).sum()  # noqa: E731
    x = torch.randn(3, dtype=DT)
    hs = [x]
    for layer in layers:
        hs.append(layer(hs[-1]))
    row = torch.autograd.functional.jacobian(loss_fn, hs[-1])  # dL/dh_K as a row
    for layer, h in zip(reversed(layers), reversed(hs[:-1]), strict=True):
        row = row @ jacobian(layer, h)  # vector x matrix at each step

    def full(v):
        for layer in layers:
            v = layer(v)
        return loss_fn(v)

    xr = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(full(xr), xr)
    assert torch.allclose(row, g, atol=1e-12)


@pytest.mark.card("p1-backprop-why-reverse")
def test_one_reverse_pass_equals_n_forward_mode_passes():
    torch.manual_seed(0)
    n = 6
    w = torch.randn(4, n, dtype=DT)
    loss = lambda v: torch.tanh(w @ v).pow(2).sum()  # noqa: E731  R^n -> R
    x = torch.randn(n, dtype=DT)
    _, grad_reverse = vjp(loss, x, torch.tensor(1.0, dtype=DT))  # one pass
    columns = [jvp(loss, x, e)[1] for e in torch.eye(n, dtype=DT)]  # n passes
    assert torch.allclose(grad_reverse, torch.stack(columns), atol=1e-12)
