"""Numeric checks for the worked instances and consequences that replaced duplicated formulas.

Where an interview card repeated a Part 1 formula, it now asks an application of it (a numeric
instance, a consequence, a related rule). Each claim of those backs is checked here: exact
identities by enumeration, quadrature or torch.linalg, Monte Carlo claims with fixed seeds and
tolerances of several standard errors.
"""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------- Q2


@pytest.mark.card("q02-expectation-variance-rules")
def test_law_of_total_variance_on_a_discrete_joint():
    joint = torch.rand(4, 5, generator=gen(0), dtype=F64)
    joint /= joint.sum()  # P(X = i, Y = y_j)
    y = torch.randn(5, generator=gen(1), dtype=F64)
    p_x = joint.sum(1)
    cond = joint / p_x[:, None]  # P(Y = y_j | X = i)
    mean_given_x = cond @ y
    var_given_x = cond @ y**2 - mean_given_x**2
    p_y = joint.sum(0)
    var_y = p_y @ y**2 - (p_y @ y) ** 2
    within = p_x @ var_given_x
    between = p_x @ mean_given_x**2 - (p_x @ mean_given_x) ** 2
    assert torch.isclose(var_y, within + between)


# ---------------------------------------------------------------------------------------- Q7


@pytest.mark.card("q07-dot-vs-cosine")
def test_dot_and_cosine_rank_candidates_differently_unless_norms_are_equal():
    q = torch.tensor([1.0, 0.0], dtype=F64)
    a, b = torch.tensor([1.0, 0.0], dtype=F64), torch.tensor([2.0, 2.0], dtype=F64)
    assert q @ a == 1 and q @ b == 2  # dot product prefers b
    cos = lambda u, v: (u @ v) / (u.norm() * v.norm())  # noqa: E731
    assert torch.isclose(cos(q, a), torch.tensor(1.0, dtype=F64))
    assert torch.isclose(cos(q, b), torch.tensor(1 / math.sqrt(2), dtype=F64))  # cosine prefers a
    # with all candidates normalised, both rankings agree, whatever the query's norm
    keys = torch.randn(50, 8, generator=gen(2), dtype=F64)
    keys = keys / keys.norm(dim=1, keepdim=True)
    query = 7.3 * torch.randn(8, generator=gen(3), dtype=F64)
    assert torch.equal(
        (keys @ query).argsort(), torch.stack([cos(query, k) for k in keys]).argsort()
    )


def rope(x: torch.Tensor, position: int, base: float = 10000.0) -> torch.Tensor:
    d = x.numel()
    theta = base ** (-torch.arange(0, d, 2, dtype=F64) / d)
    c, s = torch.cos(position * theta), torch.sin(position * theta)
    even, odd = x[0::2], x[1::2]
    out = torch.empty_like(x)
    out[0::2], out[1::2] = c * even - s * odd, s * even + c * odd
    return out


@pytest.mark.card("q07-rope-relative-position")
def test_rope_logits_depend_only_on_the_offset_and_norms_are_kept():
    q, k = (
        torch.randn(16, generator=gen(4), dtype=F64),
        torch.randn(16, generator=gen(5), dtype=F64),
    )
    near = rope(q, 3) @ rope(k, 5)
    far = rope(q, 103) @ rope(k, 105)
    assert torch.isclose(near, far)
    assert torch.isclose(near, q @ rope(k, 2))  # q^T R_2 k
    assert torch.isclose(rope(q, 103).norm(), q.norm())
    assert not torch.isclose(near, rope(q, 3) @ rope(k, 6))  # a different offset changes it


# ---------------------------------------------------------------------------------------- Q8


@pytest.mark.card("q08-second-derivative-test")
def test_critical_points_of_x_cubed_minus_3x_plus_y_squared():
    f = lambda v: v[0] ** 3 - 3 * v[0] + v[1] ** 2  # noqa: E731
    for point, value, kind in (((1.0, 0.0), -2.0, "min"), ((-1.0, 0.0), 2.0, "saddle")):
        v = torch.tensor(point, dtype=F64, requires_grad=True)
        (grad,) = torch.autograd.grad(f(v), v)
        assert torch.allclose(grad, torch.zeros(2, dtype=F64))
        hessian = torch.autograd.functional.hessian(f, v.detach())
        assert torch.allclose(hessian, torch.diag(torch.tensor([6 * point[0], 2.0], dtype=F64)))
        eig = torch.linalg.eigvalsh(hessian)
        assert (eig > 0).all() if kind == "min" else (eig.min() < 0 < eig.max())
        assert float(f(v.detach())) == value
    assert f(torch.tensor([-10.0, 0.0])) < -900  # unbounded below: no global minimum


# ---------------------------------------------------------------------------------------- Q10


@pytest.mark.card("q10-bias-variance")
def test_ten_models_with_correlation_one_half_keep_55_percent_of_the_variance():
    sigma2, rho = 1.0, 0.5
    for M, expected in ((10, 0.55), (10_000, 0.50005)):
        cov = sigma2 * (rho * torch.ones(M, M, dtype=F64) + (1 - rho) * torch.eye(M, dtype=F64))
        w = torch.full((M,), 1 / M, dtype=F64)
        assert math.isclose(float(w @ cov @ w), expected, rel_tol=1e-9)


# ---------------------------------------------------------------------------------------- Q13


@pytest.mark.card("q13-kl-divergence")
def test_kl_is_invariant_under_an_invertible_map_but_entropy_is_not():
    p, q = (
        MultivariateNormal(torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64)),
        MultivariateNormal(
            torch.tensor([1.0, -0.5], dtype=F64), torch.tensor([[2.0, 0.3], [0.3, 0.7]], dtype=F64)
        ),
    )
    A, b = torch.tensor([[3.0, 1.0], [0.0, 0.5]], dtype=F64), torch.tensor([2.0, -1.0], dtype=F64)
    push = lambda d: MultivariateNormal(A @ d.loc + b, A @ d.covariance_matrix @ A.T)  # noqa: E731
    assert torch.isclose(kl_divergence(push(p), push(q)), kl_divergence(p, q))
    assert torch.isclose(push(p).entropy(), p.entropy() + torch.log(torch.det(A).abs()))
    # a nonlinear map, y = sinh(x), by quadrature in y
    p1, q1 = Normal(torch.tensor(0.0, dtype=F64), 1.0), Normal(torch.tensor(1.0, dtype=F64), 2.0)
    y = torch.linspace(-400, 400, 800_001, dtype=F64)
    x = torch.asinh(y)
    jac = 1 / torch.cosh(x)  # |d x / d y|
    py, qy = p1.log_prob(x).exp() * jac, q1.log_prob(x).exp() * jac
    dy = y[1] - y[0]
    kl_y = torch.sum(py * (torch.log(py.clamp_min(1e-300)) - torch.log(qy.clamp_min(1e-300)))) * dy
    assert abs(float(kl_y - kl_divergence(p1, q1))) < 1e-6
    h_y = -torch.sum(py * torch.log(py.clamp_min(1e-300))) * dy
    xs = torch.linspace(-12, 12, 240_001, dtype=F64)
    shift = torch.sum(p1.log_prob(xs).exp() * torch.log(torch.cosh(xs))) * (
        xs[1] - xs[0]
    )  # E[log|g'(X)|]
    assert abs(float(h_y - (p1.entropy() + shift))) < 1e-6


# ---------------------------------------------------------------------------------------- Q15


@pytest.mark.card("q15-jensen-inequality")
def test_log_of_an_unbiased_likelihood_estimate_is_biased_low_and_iwae_tightens():
    # z ~ N(0, 1), x | z ~ N(z, 1): p(x) = N(x; 0, 2).
    # Importance sampling from the prior: w = p(x | z).
    x, reps = 2.0, 40_000
    log_px = float(
        Normal(torch.tensor(0.0, dtype=F64), math.sqrt(2.0)).log_prob(torch.tensor(x, dtype=F64))
    )
    torch.manual_seed(0)
    means = []
    for K in (1, 10, 100):
        z = torch.randn(reps, K, dtype=F64)
        w = Normal(z, 1.0).log_prob(torch.tensor(x, dtype=F64)).exp()
        p_hat = w.mean(1)
        assert abs(float(p_hat.mean()) - math.exp(log_px)) < 5 * float(p_hat.std()) / math.sqrt(
            reps
        )  # unbiased
        log_hat = p_hat.log()
        se = float(log_hat.std()) / math.sqrt(reps)
        assert float(log_hat.mean()) < log_px - 5 * se  # but its log is biased low
        means.append((float(log_hat.mean()), se))
    assert means[0][0] < means[1][0] < means[2][0]  # the IWAE bound rises with K
    assert log_px - means[2][0] < 0.1 * (log_px - means[0][0])


# ---------------------------------------------------------------------------------------- Q16


@pytest.mark.card("q16-positive-definite")
def test_sample_covariance_rank_is_at_most_n_minus_1():
    d = 6
    for n in (2, 4, 6, 7, 20):
        x = torch.randn(n, d, generator=gen(n), dtype=F64)
        s = torch.cov(x.T, correction=0)
        assert torch.linalg.matrix_rank(s) == min(d, n - 1)
        eig = torch.linalg.eigvalsh(s)
        assert eig.min() > -1e-12  # always positive semi-definite
        if n <= d:
            assert eig.min() < 1e-12  # singular: not definite
            assert (
                torch.linalg.eigvalsh(s + 0.1 * torch.eye(d, dtype=F64)).min() > 0.09
            )  # shrinkage fixes it


# ---------------------------------------------------------------------------------------- Q18


@pytest.mark.card("q18-minibatch-gradient-noise")
def test_half_the_dataset_without_replacement_halves_the_gradient_variance():
    N, B = 1000, 500
    assert math.isclose((N - B) / (N - 1), 500 / 999)
    grads = torch.randn(N, generator=gen(7), dtype=F64) ** 3  # per-example gradients, any shape
    sigma2 = grads.var(correction=0)
    reps = 20_000
    g = gen(8)
    with_repl = grads[torch.randint(N, (reps, B), generator=g)].mean(1)
    without = torch.stack([grads[torch.randperm(N, generator=g)[:B]].mean() for _ in range(reps)])
    assert abs(float(with_repl.var() / (sigma2 / B)) - 1) < 0.05
    assert abs(float(without.var() / (sigma2 / B)) - 500 / 999) < 0.03


@pytest.mark.card("q18-sgd-implicit-regularisation")
def test_at_equal_depth_a_hundred_times_flatter_basin_holds_ten_times_the_mass():
    T = 0.01
    x = torch.linspace(-5, 5, 200_001, dtype=F64)
    mass = lambda curvature: float(torch.exp(-curvature * x**2 / (2 * T)).sum() * (x[1] - x[0]))  # noqa: E731
    assert math.isclose(mass(1.0) / mass(100.0), 10.0, rel_tol=1e-6)
    assert math.isclose(mass(1.0), math.sqrt(2 * math.pi * T / 1.0), rel_tol=1e-6)


# ---------------------------------------------------------------------------------------- Q19


@pytest.mark.card("q19-forward-vs-reverse-kl")
def test_forward_and_reverse_kl_fits_to_a_two_mode_mixture():
    x = torch.linspace(-20, 20, 40_001, dtype=F64)
    dx = x[1] - x[0]
    log_p = torch.logsumexp(
        torch.stack([Normal(-3.0, 1.0).log_prob(x), Normal(3.0, 1.0).log_prob(x)]), 0
    ) - math.log(2)
    p = log_p.exp()
    mean, var = (p * x).sum() * dx, (p * x**2).sum() * dx
    assert abs(float(mean)) < 1e-9 and abs(float(var) - 10.0) < 1e-6  # forward KL: N(0, 10)

    def forward_kl(m, log_s):
        return (p * (log_p - Normal(m, log_s.exp()).log_prob(x))).sum() * dx

    def reverse_kl(m, log_s):
        q = Normal(m, log_s.exp())
        lq = q.log_prob(x)
        return (lq.exp() * (lq - log_p)).sum() * dx

    def fit(objective, m0, s0):
        params = torch.tensor([m0, math.log(s0)], dtype=F64, requires_grad=True)
        opt = torch.optim.LBFGS(
            [params], max_iter=500, tolerance_grad=1e-12, line_search_fn="strong_wolfe"
        )

        def closure():
            opt.zero_grad()
            loss = objective(params[0], params[1])
            loss.backward()
            return loss

        opt.step(closure)
        return float(params[0].detach()), float(params[1].detach().exp())

    m, s = fit(forward_kl, 1.0, 1.0)
    assert abs(m) < 1e-4 and abs(s**2 - 10.0) < 1e-3
    m, s = fit(reverse_kl, 2.0, 1.5)
    assert abs(m - 3.0) < 0.05 and abs(s - 1.0) < 0.05, (
        m,
        s,
    )  # one mode (pulled slightly by the other)
    best = float(reverse_kl(torch.tensor(m), torch.tensor(math.log(s))))
    assert math.log(2) - 0.01 < best < math.log(2)  # about log 2: the other mode is simply dropped
    m, s = fit(reverse_kl, -2.0, 1.5)
    assert abs(m + 3.0) < 0.05  # the other local optimum


# ---------------------------------------------------------------------------------------- Q21


@pytest.mark.card("q21-reverse-mode-memory")
def test_gradient_checkpointing_recomputes_but_gives_the_same_gradient():
    from torch.utils.checkpoint import checkpoint

    torch.manual_seed(0)
    layers = [torch.nn.Linear(16, 16).double() for _ in range(6)]

    def block(h, i):
        return torch.tanh(layers[i](h))

    x = torch.randn(8, 16, dtype=F64)
    plain = x
    for i in range(6):
        plain = block(plain, i)
    g_plain = torch.autograd.grad(plain.square().sum(), [layer.weight for layer in layers])

    calls = {"n": 0}

    def counted(h, i):
        calls["n"] += 1
        return block(h, i)

    ck = x
    for i in range(6):
        ck = checkpoint(counted, ck, i, use_reentrant=False)
    g_ck = torch.autograd.grad(ck.square().sum(), [layer.weight for layer in layers])
    assert all(torch.allclose(a, b) for a, b in zip(g_plain, g_ck, strict=True))
    assert (
        calls["n"] == 12
    )  # every block ran twice: once forward, once recomputed for the backward pass


# ---------------------------------------------------------------------------------------- Q23


@pytest.mark.card("q23-elbo-jensen")
def test_gaussian_elbo_of_the_conjugate_model_peaks_at_the_posterior():
    x = 1.7

    def elbo(m, s2):  # E_q[log p(x|z) + log p(z) - log q(z)], q = N(m, s2), in closed form
        c = -0.5 * math.log(2 * math.pi)
        return (
            (c - 0.5 * ((x - m) ** 2 + s2))
            + (c - 0.5 * (m**2 + s2))
            + 0.5 * torch.log(2 * math.pi * math.e * s2)
        )

    m = torch.tensor(0.0, dtype=F64, requires_grad=True)
    log_s2 = torch.tensor(0.0, dtype=F64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [m, log_s2], max_iter=200, tolerance_grad=1e-14, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        loss = -elbo(m, log_s2.exp())
        loss.backward()
        return loss

    opt.step(closure)
    assert abs(float(m.detach()) - x / 2) < 1e-5 and abs(float(log_s2.detach().exp()) - 0.5) < 1e-5
    log_px = -0.5 * math.log(4 * math.pi) - x**2 / 4
    assert math.isclose(
        float(elbo(torch.tensor(x / 2, dtype=F64), torch.tensor(0.5, dtype=F64))),
        log_px,
        abs_tol=1e-12,
    )
    assert math.isclose(float(elbo(m.detach(), log_s2.detach().exp())), log_px, abs_tol=1e-9)
    assert (
        float(elbo(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))) < log_px
    )  # any other q is below


@pytest.mark.card("q23-elbo-jensen")
def test_mean_field_cavi_on_a_correlated_gaussian():
    # p(z) = N(mu, Lambda^{-1}); the optimal factor is
    # q_j = N(mu_j - (1/L_jj) sum_{k != j} L_jk (E z_k - mu_k), 1/L_jj)
    mu = torch.tensor([1.0, -2.0], dtype=F64)
    cov = torch.tensor([[2.0, 1.5], [1.5, 2.0]], dtype=F64)
    lam = torch.linalg.inv(cov)
    means = torch.tensor([5.0, 5.0], dtype=F64)

    factor_variances = 1 / lam.diagonal()

    def elbo(means):  # up to a constant: E_q[log p] + entropy, with factor variances 1/L_jj
        d = means - mu  # E_q[d^T L d] = d^T L d + tr(L Cov_q), Cov_q = diag(factor_variances)
        expected_quadratic = d @ lam @ d + (lam.diagonal() * factor_variances).sum()
        return float(-0.5 * expected_quadratic + 0.5 * torch.log(factor_variances).sum())

    history = [elbo(means)]
    for _ in range(200):
        for j in range(2):
            k = 1 - j
            means[j] = mu[j] - lam[j, k] / lam[j, j] * (means[k] - mu[k])
            history.append(elbo(means))
    assert all(b >= a - 1e-12 for a, b in pairwise(history))  # the ELBO never decreases
    assert torch.allclose(means, mu, atol=1e-10)  # the mean is found exactly
    factor_var = 1 / lam.diagonal()
    assert (factor_var < cov.diagonal()).all()  # but the spread is underestimated
    assert torch.allclose(factor_var, torch.full((2,), 2.0 - 1.5**2 / 2.0, dtype=F64))


# ---------------------------------------------------------------------------------------- Q24


@pytest.mark.card("q24-lora-param-count")
def test_lora_on_wq_wv_of_a_32_layer_model():
    d = k = 4096
    r = 8
    per_matrix = r * (d + k)
    assert per_matrix == 65_536 and d * k == 16_777_216
    total = 2 * 32 * per_matrix
    assert total == 4_194_304
    assert 0.0005 < total / 7e9 < 0.0007  # about 0.06 %


# ---------------------------------------------------------------------------------------- Q32


@pytest.mark.card("q32-negative-curvature-step")
def test_a_step_along_negative_curvature_found_with_hessian_vector_products_leaves_the_saddle():
    rot = torch.linalg.qr(torch.randn(5, 5, generator=gen(9), dtype=F64)).Q
    h_true = rot @ torch.diag(torch.tensor([3.0, 1.0, 0.5, -0.2, -2.0], dtype=F64)) @ rot.T

    def f(w):
        return 0.5 * w @ h_true @ w + 0.1 * (w**4).sum()  # a strict saddle at 0

    def hvp(v):
        w = torch.zeros(5, dtype=F64, requires_grad=True)
        (g,) = torch.autograd.grad(f(w), w, create_graph=True)
        (hv,) = torch.autograd.grad(g @ v, w)
        return hv

    # power iteration on (c I - H) finds the most negative curvature direction, H never formed
    c, u = 10.0, torch.randn(5, generator=gen(10), dtype=F64)
    for _ in range(300):
        u = c * u - hvp(u)
        u = u / u.norm()
    curvature = float(u @ hvp(u))
    assert math.isclose(curvature, -2.0, rel_tol=1e-6)
    origin = f(torch.zeros(5, dtype=F64))
    for t in (0.1, -0.1):
        step = f(t * u) - origin
        assert step < 0
        assert abs(float(step) - 0.5 * t**2 * curvature) < 1e-3 * t**2


# ---------------------------------------------------------------------------------------- Part 2


@pytest.mark.card("p2-mle-variance-divides-by-n")
def test_torch_var_divisors_on_one_two_three_four():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64)
    assert float(((x - x.mean()) ** 2).sum()) == 5.0
    assert math.isclose(float(x.var(correction=0)), 1.25)
    assert math.isclose(float(x.var()), 5 / 3)
    assert math.isclose(float(x.var(correction=0) / x.var()), 0.75)

    def loglik(var):
        return float(Normal(x.mean(), math.sqrt(var)).log_prob(x).sum())

    assert loglik(1.25) > loglik(5 / 3)
    assert loglik(1.25) > max(
        loglik(1.25 * (1 + e)) for e in (-0.01, 0.01)
    )  # 1.25 is the maximiser
