"""Numeric checks for the Part 3 interview cards Q1-Q17 (cards/part3-l1.yaml, cards/part3-l2.yaml).

Every test computes both sides of a claim. Monte Carlo tests use fixed seeds and tolerances of a
few standard errors, estimated from the same samples.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import distributions as D
from torch.utils.flop_counter import FlopCounterMode

from flops import count_flops, naive_matmul_counting

DT = torch.float64


def random_pmf(*shape: int, generator: torch.Generator | None = None) -> torch.Tensor:
    w = torch.rand(*shape, dtype=DT, generator=generator) + 0.05
    return w / w.sum()


def close(a, b, tol=1e-10):
    return torch.allclose(
        torch.as_tensor(a, dtype=DT), torch.as_tensor(b, dtype=DT), atol=tol, rtol=0
    )


# ---------------------------------------------------------------------------------------- Q1


@pytest.mark.card("q01-joint-marginal-conditional")
def test_product_rule_sum_rule_and_bayes():
    torch.manual_seed(0)
    joint = random_pmf(3, 4)  # P(A=a, B=b)
    p_a = joint.sum(dim=1)  # sum rule
    p_b = joint.sum(dim=0)
    a_given_b = joint / p_b  # column b holds P(A | B=b)
    b_given_a = joint / p_a[:, None]
    assert close(a_given_b * p_b, joint)
    assert close(b_given_a * p_a[:, None], joint)
    bayes = b_given_a * p_a[:, None] / (b_given_a * p_a[:, None]).sum(dim=0)
    assert close(bayes, a_given_b)


@pytest.mark.card("q01-joint-marginal-conditional")
def test_chain_rule_four_variables():
    torch.manual_seed(0)
    joint = random_pmf(2, 3, 2, 3)
    p1 = joint.sum(dim=(1, 2, 3))
    p12 = joint.sum(dim=(2, 3))
    p123 = joint.sum(dim=3)
    chain = (
        p1[:, None, None, None]
        * (p12 / p1[:, None])[:, :, None, None]
        * (p123 / p12[:, :, None])[:, :, :, None]
        * (joint / p123[:, :, :, None])
    )
    assert close(chain, joint)


@pytest.mark.card("q01-conditional-independence")
def test_conditional_independence_both_forms_and_explaining_away():
    torch.manual_seed(0)
    # Fork X <- Z -> Y: P(x, y, z) = P(z) P(x|z) P(y|z).
    p_z = random_pmf(3)
    x_given_z = torch.softmax(torch.randn(3, 2, dtype=DT), dim=1)  # [z, x]
    y_given_z = torch.softmax(torch.randn(3, 4, dtype=DT), dim=1)  # [z, y]
    joint = torch.einsum("z,zx,zy->xyz", p_z, x_given_z, y_given_z)
    p_x_given_yz = joint / joint.sum(dim=0, keepdim=True)
    p_xz = joint.sum(dim=1)
    p_x_given_z = p_xz / p_xz.sum(dim=0, keepdim=True)
    assert close(p_x_given_yz, p_x_given_z[:, None, :].expand_as(p_x_given_yz))
    p_xy_given_z = joint / joint.sum(dim=(0, 1))
    assert close(p_xy_given_z, torch.einsum("zx,zy->xyz", x_given_z, y_given_z))
    # ...but X and Y are marginally dependent.
    p_xy = joint.sum(dim=2)
    assert not close(p_xy, torch.outer(p_xy.sum(1), p_xy.sum(0)), tol=1e-4)

    # Collider X -> Z <- Y: marginally independent, dependent given Z (explaining away).
    p_x, p_y = random_pmf(2), random_pmf(2)
    z_given_xy = torch.tensor([[[0.9, 0.1], [0.2, 0.8]], [[0.3, 0.7], [0.05, 0.95]]], dtype=DT)
    collider = torch.einsum("x,y,xyz->xyz", p_x, p_y, z_given_xy)
    assert close(collider.sum(dim=2), torch.outer(p_x, p_y))
    given_z = collider / collider.sum(dim=(0, 1))
    product = torch.einsum("xz,yz->xyz", given_z.sum(dim=1), given_z.sum(dim=0))
    assert not close(given_z, product, tol=1e-3)


# ---------------------------------------------------------------------------------------- Q2


def discrete_moments(values_x, values_y, joint):
    """Exact expectations for a finite joint pmf joint[i, j] = P(X = x_i, Y = y_j)."""
    X = values_x[:, None].expand_as(joint)
    Y = values_y[None, :].expand_as(joint)
    E = lambda g: (g * joint).sum()  # noqa: E731
    return X, Y, E


@pytest.mark.card("q02-expectation-variance-rules")
def test_expectation_and_variance_rules_exact():
    torch.manual_seed(0)
    xs = torch.tensor([-2.0, 0.5, 1.0, 3.0], dtype=DT)
    ys = torch.tensor([-1.0, 0.0, 4.0], dtype=DT)
    joint = random_pmf(4, 3)  # a dependent pair
    X, Y, E = discrete_moments(xs, ys, joint)
    a, b, c = 2.5, -1.5, 0.7
    assert close(E(a * X + b * Y + c), a * E(X) + b * E(Y) + c)
    var = lambda Z: E((Z - E(Z)) ** 2)  # noqa: E731
    assert close(var(X), E(X**2) - E(X) ** 2)
    assert close(var(a * X + c), a**2 * var(X))
    cov = E((X - E(X)) * (Y - E(Y)))
    assert abs(cov) > 1e-3  # the pair really is correlated
    assert close(var(X + Y), var(X) + var(Y) + 2 * cov)
    # Independent pair: product pmf, covariance term vanishes.
    indep = torch.outer(joint.sum(1), joint.sum(0))
    X, Y, E = discrete_moments(xs, ys, indep)
    assert close(var(X + Y), var(X) + var(Y))


@pytest.mark.card("q02-expectation-variance-rules")
@pytest.mark.card("q16-positive-definite")
def test_covariance_matrix_diagonal_symmetric_psd():
    torch.manual_seed(0)
    data = torch.randn(200, 5, dtype=DT) @ torch.randn(5, 5, dtype=DT)
    cov = torch.cov(data.T)
    assert close(torch.diagonal(cov), data.var(dim=0), tol=1e-9)
    assert close(cov, cov.T)
    assert torch.linalg.eigvalsh(cov).min() > -1e-10
    for _ in range(10):
        v = torch.randn(5, dtype=DT)
        assert close(v @ cov @ v, (data @ v).var(), tol=1e-8)


@pytest.mark.card("q02-variance-of-sum")
def test_variance_of_sum_needs_only_uncorrelated():
    # X uniform on {-1, 0, 1}, Y = X^2: dependent but uncorrelated.
    xs = torch.tensor([-1.0, 0.0, 1.0], dtype=DT)
    ys = torch.tensor([0.0, 1.0], dtype=DT)
    joint = torch.tensor([[0.0, 1 / 3], [1 / 3, 0.0], [0.0, 1 / 3]], dtype=DT)
    X, Y, E = discrete_moments(xs, ys, joint)
    var = lambda Z: E((Z - E(Z)) ** 2)  # noqa: E731
    assert close(E((X - E(X)) * (Y - E(Y))), 0.0)
    assert not close(joint, torch.outer(joint.sum(1), joint.sum(0)), tol=1e-3)  # dependent
    assert close(var(X + Y), var(X) + var(Y))


@pytest.mark.card("q02-variance-of-sum")
def test_variance_of_sum_general_formula():
    torch.manual_seed(0)
    L = torch.randn(4, 4, dtype=DT)
    sigma = L @ L.T  # covariance of X = L eps
    ones = torch.ones(4, dtype=DT)
    var_sum = ones @ sigma @ ones  # Var(1^T X)
    formula = torch.diagonal(sigma).sum() + 2 * torch.triu(sigma, diagonal=1).sum()
    assert close(var_sum, formula)
    # Monte Carlo on the same covariance.
    samples = torch.randn(100_000, 4, dtype=DT) @ L.T
    s = samples.sum(dim=1)
    se = s.var() * math.sqrt(2 / (len(s) - 1))  # s.e. of a Gaussian sample variance
    assert abs(s.var() - formula) < 4 * se


# ---------------------------------------------------------------------------------------- Q3


def moments_by_quadrature(dist, lo, hi, n=200_001):
    x = torch.linspace(lo, hi, n, dtype=DT)
    pdf = dist.log_prob(x).exp()
    mean = torch.trapezoid(x * pdf, x)
    var = torch.trapezoid((x - mean) ** 2 * pdf, x)
    return mean, var


@pytest.mark.card("q03-common-distributions")
def test_distribution_means_and_variances():
    p = 0.3
    k = torch.tensor([0.0, 1.0], dtype=DT)
    pmf = D.Bernoulli(probs=torch.tensor(p, dtype=DT)).log_prob(k).exp()
    mean = (k * pmf).sum()
    assert close(mean, p) and close(((k - mean) ** 2 * pmf).sum(), p * (1 - p))

    lam = 4.5
    k = torch.arange(0, 120, dtype=DT)
    pmf = D.Poisson(torch.tensor(lam, dtype=DT)).log_prob(k).exp()
    mean = (k * pmf).sum()
    assert close(mean, lam, 1e-9) and close(((k - mean) ** 2 * pmf).sum(), lam, 1e-9)

    mu, sigma = -1.2, 0.7
    mean, var = moments_by_quadrature(
        D.Normal(torch.tensor(mu, dtype=DT), sigma), mu - 12 * sigma, mu + 12 * sigma
    )
    assert close(mean, mu, 1e-8) and close(var, sigma**2, 1e-8)

    a, b = -0.5, 2.0
    x = torch.linspace(a, b, 200_001, dtype=DT)
    pdf = torch.full_like(x, 1 / (b - a))  # Uniform density on its support
    mean = torch.trapezoid(x * pdf, x)
    var = torch.trapezoid((x - mean) ** 2 * pdf, x)
    assert close(mean, (a + b) / 2, 1e-9) and close(var, (b - a) ** 2 / 12, 1e-9)


@pytest.mark.card("q03-common-distributions")
def test_multivariate_gaussian_pdf():
    torch.manual_seed(0)
    d = 3
    L = torch.randn(d, d, dtype=DT)
    sigma = L @ L.T + 0.5 * torch.eye(d, dtype=DT)
    mu = torch.randn(d, dtype=DT)
    x = torch.randn(10, d, dtype=DT)
    diff = x - mu
    maha = torch.einsum("ni,ij,nj->n", diff, torch.linalg.inv(sigma), diff)
    pdf = torch.exp(-0.5 * maha) / ((2 * math.pi) ** (d / 2) * torch.linalg.det(sigma).sqrt())
    reference = D.MultivariateNormal(mu, covariance_matrix=sigma).log_prob(x).exp()
    assert torch.allclose(pdf, reference, rtol=1e-10, atol=0)


# ---------------------------------------------------------------------------------------- Q4


@pytest.mark.card("q04-mle")
def test_gaussian_mean_mle_is_sample_mean():
    torch.manual_seed(0)
    x = 2.0 + 1.5 * torch.randn(50, dtype=DT)

    def nll(mu):
        return -D.Normal(mu, 1.5).log_prob(x).sum()

    mu_hat = x.mean()
    for delta in (1e-3, 0.1, 1.0):
        assert nll(mu_hat) < nll(mu_hat + delta) and nll(mu_hat) < nll(mu_hat - delta)
    # Maximising the likelihood and minimising the NLL give the same ranking.
    mus = torch.linspace(0, 4, 401, dtype=DT)
    lik = torch.stack([D.Normal(m, 1.5).log_prob(x).exp().prod() for m in mus])
    nlls = torch.stack([nll(m) for m in mus])
    assert lik.argmax() == nlls.argmin()


@pytest.mark.card("q04-gaussian-mle-is-mse")
def test_gaussian_nll_is_scaled_sse_plus_constant_and_shares_minimiser():
    torch.manual_seed(0)
    n, sigma = 40, 0.8
    X = torch.randn(n, 3, dtype=DT)
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=DT) + sigma * torch.randn(n, dtype=DT)
    w = torch.randn(3, dtype=DT)
    nll = -D.Normal(X @ w, sigma).log_prob(y).sum()
    formula = ((y - X @ w) ** 2).sum() / (2 * sigma**2) + n / 2 * math.log(2 * math.pi * sigma**2)
    assert close(nll, formula)
    w_ls = torch.linalg.lstsq(X, y[:, None]).solution.squeeze(1).requires_grad_()
    (grad,) = torch.autograd.grad(-D.Normal(X @ w_ls, sigma).log_prob(y).sum(), w_ls)
    assert grad.abs().max() < 1e-10


@pytest.mark.card("q04-variance-mle-bias")
@pytest.mark.card("q04-mle")
def test_mle_variance_bias_and_bessel_correction():
    torch.manual_seed(0)
    n, sigma, reps = 5, 2.0, 100_000
    x = sigma * torch.randn(reps, n, dtype=DT)
    mle = x.var(dim=1, correction=0)
    bessel = x.var(dim=1, correction=1)
    known_mean = (x**2).mean(dim=1)  # true mean 0 is known
    for est, target in ((mle, (n - 1) / n * sigma**2), (bessel, sigma**2), (known_mean, sigma**2)):
        se = est.std() / math.sqrt(reps)
        assert abs(est.mean() - target) < 4 * se
    assert sigma**2 - mle.mean() > 20 * mle.std() / math.sqrt(reps)  # clearly biased low
    # The square root of the unbiased variance is still biased low (Jensen).
    sd = bessel.sqrt()
    assert sigma - sd.mean() > 10 * sd.std() / math.sqrt(reps)


# ---------------------------------------------------------------------------------------- Q5


@pytest.mark.card("q05-matrix-rank")
def test_rank_row_equals_column_and_low_rank_factorisation():
    torch.manual_seed(0)
    m, n, r = 30, 20, 4
    W = torch.randn(m, r, dtype=DT) @ torch.randn(r, n, dtype=DT)
    assert torch.linalg.matrix_rank(W) == r == torch.linalg.matrix_rank(W.T)
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    B, A = U[:, :r] * S[:r], Vh[:r]  # W = BA, B (m x r), A (r x n): the names LoRA uses
    assert B.shape == (m, r) and A.shape == (r, n)
    assert close(B @ A, W, 1e-10)
    assert B.numel() + A.numel() == r * (m + n) < m * n
    assert r < m * n / (m + n)
    C = torch.randn(n, 7, dtype=DT)
    assert torch.linalg.matrix_rank(W @ C) <= min(
        torch.linalg.matrix_rank(W), torch.linalg.matrix_rank(C)
    )


@pytest.mark.card("q05-matrix-rank")
def test_lora_update_rank_parameters_and_zero_init():
    torch.manual_seed(0)
    d, k, r, alpha = 64, 48, 4, 8.0
    W0 = torch.randn(d, k, dtype=DT)
    A = torch.randn(r, k, dtype=DT) * 0.01
    B = torch.zeros(d, r, dtype=DT)
    x = torch.randn(k, dtype=DT)
    assert close(W0 @ x + alpha / r * B @ (A @ x), W0 @ x)  # starts exactly at W0
    B = torch.randn(d, r, dtype=DT)
    delta = alpha / r * B @ A
    assert torch.linalg.matrix_rank(delta) == r
    assert close((W0 + delta) @ x, W0 @ x + alpha / r * B @ (A @ x), 1e-10)  # merged weight
    assert A.numel() + B.numel() == r * (d + k) < d * k


# ---------------------------------------------------------------------------------------- Q6


@pytest.mark.card("q06-entropy")
def test_entropy_bounds_and_units():
    torch.manual_seed(0)
    K = 6
    for _ in range(50):
        p = torch.softmax(3 * torch.randn(K, dtype=DT), dim=0)
        H = -(p * p.log()).sum()
        assert close(H, D.Categorical(probs=p).entropy())
        assert 0 <= H <= math.log(K) + 1e-12
        assert close(-(p * torch.log2(p)).sum(), H / math.log(2))
    uniform = torch.full((K,), 1 / K, dtype=DT)
    assert close(D.Categorical(probs=uniform).entropy(), math.log(K))
    assert close(D.Categorical(probs=torch.eye(K, dtype=DT)[2]).entropy(), 0.0)


@pytest.mark.card("q06-entropy")
def test_gaussian_has_maximum_entropy_for_given_variance():
    sigma = 1.3
    x = torch.linspace(-15 * sigma, 15 * sigma, 400_001, dtype=DT)
    log_pdf = D.Normal(torch.tensor(0.0, dtype=DT), sigma).log_prob(x)
    h_numeric = -torch.trapezoid(log_pdf.exp() * log_pdf, x)
    h_gauss = 0.5 * math.log(2 * math.pi * math.e * sigma**2)
    assert close(h_numeric, h_gauss, 1e-9)
    # Other families with the same variance have lower differential entropy.
    laplace = D.Laplace(0.0, sigma / math.sqrt(2))  # variance 2 b^2
    half_width = sigma * math.sqrt(3)  # variance (2w)^2 / 12
    uniform = D.Uniform(-half_width, half_width)
    for other in (laplace, uniform):
        assert close(other.variance, sigma**2, 1e-6)
        assert other.entropy() < h_gauss


# ---------------------------------------------------------------------------------------- Q7


@pytest.mark.card("q07-dot-vs-cosine")
def test_cosine_similarity_and_dot_product():
    torch.manual_seed(0)
    a, b = torch.randn(2, 32, 16, dtype=DT)
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    assert close(cos, F.cosine_similarity(a, b, dim=-1))
    assert close(cos, (F.normalize(a, dim=-1) * F.normalize(b, dim=-1)).sum(-1))
    assert close(F.cosine_similarity(3.0 * a, 0.2 * b, dim=-1), cos)  # scale invariant
    assert not close((3.0 * a * b).sum(-1), (a * b).sum(-1), 1e-3)  # the dot product is not
    # In 2-D the angle is measurable directly: a.b = |a||b| cos(theta).
    u, v = torch.randn(2, 2, dtype=DT)
    theta = torch.atan2(v[1], v[0]) - torch.atan2(u[1], u[0])
    assert close(u @ v, u.norm() * v.norm() * torch.cos(theta))


@pytest.mark.card("q07-dot-vs-cosine")
def test_dot_product_variance_grows_with_dimension_and_scaling_fixes_it():
    torch.manual_seed(0)
    n = 20_000
    for d_k in (16, 256):
        q, k = torch.randn(2, n, d_k, dtype=DT)
        dots = (q * k).sum(-1)
        se = dots.var() * math.sqrt(2 / (n - 1)) * 1.5  # allow for the heavier-than-Gaussian tails
        assert abs(dots.var() - d_k) < 4 * se
        assert abs((dots / math.sqrt(d_k)).var() - 1) < 4 * se / d_k


@pytest.mark.card("q07-dot-vs-cosine")
def test_scaled_dot_product_attention_formula():
    torch.manual_seed(0)
    Q, K, V = torch.randn(3, 2, 5, 8, dtype=DT)
    manual = torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(8), dim=-1) @ V
    assert close(manual, F.scaled_dot_product_attention(Q, K, V), 1e-12)


def rope_rotation(position: float, d: int, base: float = 10_000.0) -> torch.Tensor:
    """Block-diagonal RoPE rotation R_m with angles m * base^(-2i/d)."""
    R = torch.zeros(d, d, dtype=DT)
    for i in range(d // 2):
        angle = position * base ** (-2 * i / d)
        c, s = math.cos(angle), math.sin(angle)
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.tensor([[c, -s], [s, c]], dtype=DT)
    return R


@pytest.mark.card("q07-rope-relative-position")
def test_rope_preserves_norm_and_scores_depend_on_offset_only():
    torch.manual_seed(0)
    d = 8
    q, k = torch.randn(2, d, dtype=DT)
    for m, n in ((3, 7), (10, 2), (0, 5)):
        Rm, Rn = rope_rotation(m, d), rope_rotation(n, d)
        assert close((Rm @ q).norm(), q.norm())
        assert close(Rm.T @ Rn, rope_rotation(n - m, d))
        score = (Rm @ q) @ (Rn @ k)
        assert close(score, q @ rope_rotation(n - m, d) @ k)
        shifted = (rope_rotation(m + 11, d) @ q) @ (rope_rotation(n + 11, d) @ k)
        assert close(score, shifted)
    # The rotated vector itself depends on the absolute position.
    assert not close(rope_rotation(3, d) @ q, rope_rotation(4, d) @ q, 1e-3)


# ---------------------------------------------------------------------------------------- Q8


@pytest.mark.card("q08-jacobian-hessian")
def test_jacobian_and_hessian_match_analytic_forms():
    x = torch.tensor([0.7, -1.3], dtype=DT)

    def f(v):
        return torch.stack([v[0] ** 2 * v[1], torch.sin(v[0]) + v[1] ** 3, v[0] * v[1]])

    J = torch.autograd.functional.jacobian(f, x)
    x0, x1 = x
    J_true = torch.stack(
        [
            torch.stack([2 * x0 * x1, x0**2]),
            torch.stack([torch.cos(x0), 3 * x1**2]),
            torch.stack([x1, x0]),
        ]
    )
    assert J.shape == (3, 2) and close(J, J_true)

    def g(v):
        return v[0] ** 3 * v[1] + torch.exp(v[0] * v[1])

    H = torch.autograd.functional.hessian(g, x)
    e = torch.exp(x0 * x1)
    H_true = torch.stack(
        [
            torch.stack([6 * x0 * x1 + x1**2 * e, 3 * x0**2 + e + x0 * x1 * e]),
            torch.stack([3 * x0**2 + e + x0 * x1 * e, x0**2 * e]),
        ]
    )
    assert close(H, H_true) and close(H, H.T)
    grad_g = lambda v: torch.autograd.grad(g(v), v, create_graph=True)[0]  # noqa: E731
    assert close(torch.autograd.functional.jacobian(grad_g, x.clone().requires_grad_()), H)
    # Hessian-vector product without forming H.
    v = torch.tensor([0.3, -2.0], dtype=DT)
    _, hvp = torch.autograd.functional.hvp(g, x, v)
    assert close(hvp, H @ v)


@pytest.mark.card("q08-second-derivative-test")
def test_second_derivative_test_only_at_critical_points():
    origin = torch.zeros(2, dtype=DT)
    bowl = lambda v: v[0] ** 2 + v[1] ** 2  # noqa: E731
    saddle = lambda v: v[0] ** 2 - v[1] ** 2  # noqa: E731
    assert torch.linalg.eigvalsh(torch.autograd.functional.hessian(bowl, origin)).min() > 0
    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(saddle, origin))
    assert eig.min() < 0 < eig.max()
    t = torch.tensor(1e-2, dtype=DT)
    assert (
        saddle(torch.stack([t, 0 * t])) > 0 > saddle(torch.stack([0 * t, t]))
    )  # neither min nor max
    # Positive definite Hessian at a non-critical point: not a minimum.
    f = lambda x: x**2 + x  # noqa: E731
    x = torch.tensor(0.0, dtype=DT, requires_grad=True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (h,) = torch.autograd.grad(g, x)
    assert h > 0 and g != 0 and f(torch.tensor(-0.5, dtype=DT)) < f(torch.tensor(0.0, dtype=DT))


# ---------------------------------------------------------------------------------------- Q9


@pytest.mark.card("q09-mle-vs-map")
def test_priors_give_l2_and_l1_penalties():
    torch.manual_seed(0)
    tau, b = torch.tensor(0.7, dtype=DT), torch.tensor(0.4, dtype=DT)
    thetas = torch.randn(20, 5, dtype=DT)
    neg_log_gauss = -D.Normal(0.0, tau).log_prob(thetas).sum(-1)
    neg_log_laplace = -D.Laplace(0.0, b).log_prob(thetas).sum(-1)
    # Differences between parameter vectors cancel the constants.
    l2 = (thetas**2).sum(-1) / (2 * tau**2)
    l1 = thetas.abs().sum(-1) / b
    assert close(neg_log_gauss - neg_log_gauss[0], l2 - l2[0])
    assert close(neg_log_laplace - neg_log_laplace[0], l1 - l1[0])


@pytest.mark.card("q09-mle-vs-map")
def test_map_with_gaussian_prior_is_ridge():
    torch.manual_seed(0)
    n, d, sigma, tau = 30, 4, 0.5, torch.tensor(0.8, dtype=DT)
    X = torch.randn(n, d, dtype=DT)
    y = X @ torch.randn(d, dtype=DT) + sigma * torch.randn(n, dtype=DT)
    lam = sigma**2 / tau**2
    ridge = torch.linalg.solve(X.T @ X + lam * torch.eye(d, dtype=DT), X.T @ y).requires_grad_()
    log_post = (
        D.Normal(X @ ridge, sigma).log_prob(y).sum() + D.Normal(0.0, tau).log_prob(ridge).sum()
    )
    (grad,) = torch.autograd.grad(log_post, ridge)
    assert grad.abs().max() < 1e-10
    mle = torch.linalg.lstsq(X, y[:, None]).solution.squeeze(1)
    assert ridge.detach().norm() < mle.norm()  # the prior shrinks towards 0


def run_optimizer(make_opt, loss_fn, theta0, steps=5):
    theta = theta0.clone().requires_grad_()
    opt = make_opt([theta])
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(theta).backward()
        opt.step()
    return theta.detach()


@pytest.mark.card("q09-mle-vs-map")
def test_adamw_is_decoupled_and_differs_from_adam_with_l2():
    torch.manual_seed(0)
    target = torch.randn(6, dtype=DT)
    scales = torch.logspace(-2, 2, 6, dtype=DT)
    loss = lambda t: 0.5 * (scales * (t - target) ** 2).sum()  # noqa: E731
    theta0 = torch.randn(6, dtype=DT)
    lr, lam, beta1, beta2, eps = 0.01, 0.1, 0.9, 0.999, 1e-8

    # One AdamW step equals the decoupled update formula.
    g = scales * (theta0 - target)
    m_hat, v_hat = g, g**2  # bias-corrected moments after the first step
    manual = theta0 - lr * (m_hat / (v_hat.sqrt() + eps) + lam * theta0)
    adamw = run_optimizer(
        lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=lam, eps=eps), loss, theta0, steps=1
    )
    assert close(adamw, manual, 1e-12)

    # Adam's weight_decay is an L2 term in the loss ...
    l2_loss = lambda t: loss(t) + lam / 2 * (t**2).sum()  # noqa: E731
    adam_wd = run_optimizer(lambda p: torch.optim.Adam(p, lr=lr, weight_decay=lam), loss, theta0)
    adam_l2 = run_optimizer(lambda p: torch.optim.Adam(p, lr=lr), l2_loss, theta0)
    assert close(adam_wd, adam_l2, 1e-12)
    # ... which AdamW is not; for SGD the two coincide.
    adamw = run_optimizer(
        lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=lam, betas=(beta1, beta2)), loss, theta0
    )
    assert (adamw - adam_l2).abs().max() > 1e-4
    sgd_wd = run_optimizer(lambda p: torch.optim.SGD(p, lr=lr, weight_decay=lam), loss, theta0)
    sgd_l2 = run_optimizer(lambda p: torch.optim.SGD(p, lr=lr), l2_loss, theta0)
    assert close(sgd_wd, sgd_l2, 1e-12)


@pytest.mark.card("q09-mle-vs-map")
def test_adamw_converges_to_the_linf_box_not_to_the_l2_map():
    # Xie & Li (ICML 2024): full-batch AdamW converges to a KKT point of
    # min L s.t. ||theta||_inf <= 1/lam. On L = 1/2 ||theta - c||^2 that point is
    # clip(c, -1/lam, 1/lam); the L2 (MAP) optimum is c / (1 + lam).
    c = torch.tensor([3.0, 0.5, -4.0], dtype=DT)
    lam = 1.0
    loss = lambda t: 0.5 * ((t - c) ** 2).sum()  # noqa: E731
    theta0 = torch.zeros(3, dtype=DT)
    box = c.clamp(-1 / lam, 1 / lam)
    assert close(box, [1.0, 0.5, -1.0])
    adamw = run_optimizer(
        lambda p: torch.optim.AdamW(p, lr=0.02, betas=(0.9, 0.99), weight_decay=lam),
        loss,
        theta0,
        steps=2000,
    )
    assert close(adamw, box, 1e-3)
    l2_map = c / (1 + lam)
    adam_l2 = run_optimizer(
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.9, 0.99), weight_decay=lam),
        loss,
        theta0,
        steps=2000,
    )
    sgd_l2 = run_optimizer(
        lambda p: torch.optim.SGD(p, lr=0.5, weight_decay=lam), loss, theta0, steps=200
    )
    assert close(adam_l2, l2_map, 1e-3)
    assert close(sgd_l2, l2_map, 1e-10)
    assert (adamw - l2_map).abs().max() > 0.5


# ---------------------------------------------------------------------------------------- Q10


@pytest.mark.card("q10-bias-variance")
def test_bias_variance_decomposition_monte_carlo():
    torch.manual_seed(0)
    trials, n, sigma, degree, x0 = 20_000, 15, 0.3, 3, 0.1
    xs = torch.linspace(0, 1, n, dtype=DT)
    f = lambda x: torch.sin(2 * math.pi * x)  # noqa: E731
    design = torch.stack([xs**j for j in range(degree + 1)], dim=1)
    y_train = f(xs) + sigma * torch.randn(trials, n, dtype=DT)
    coef = torch.linalg.lstsq(
        design.expand(trials, n, degree + 1), y_train[..., None]
    ).solution.squeeze(-1)
    fhat = coef @ torch.tensor([x0**j for j in range(degree + 1)], dtype=DT)
    y_test = f(torch.tensor(x0, dtype=DT)) + sigma * torch.randn(trials, dtype=DT)
    sq_err = (y_test - fhat) ** 2
    bias2 = (fhat.mean() - f(torch.tensor(x0, dtype=DT))) ** 2
    decomposition = bias2 + fhat.var() + sigma**2
    se = sq_err.std() / math.sqrt(trials)
    assert abs(sq_err.mean() - decomposition) < 4 * se
    # A cubic cannot fit sin(2 pi x) exactly: the bias is real, not Monte Carlo noise.
    assert (fhat.mean() - f(torch.tensor(x0, dtype=DT))).abs() > 10 * fhat.std() / math.sqrt(trials)


@pytest.mark.card("q10-correlated-average-variance")
@pytest.mark.card("q10-bias-variance")
def test_variance_of_average_of_correlated_models():
    sigma2 = 2.0
    for rho in (0.0, 0.3, 0.8):
        for M in (1, 5, 50):
            cov = sigma2 * (rho * torch.ones(M, M, dtype=DT) + (1 - rho) * torch.eye(M, dtype=DT))
            w = torch.full((M,), 1 / M, dtype=DT)
            assert close(w @ cov @ w, rho * sigma2 + (1 - rho) * sigma2 / M)
    # Monte Carlo: shared component + independent parts gives correlation rho.
    torch.manual_seed(0)
    rho, M, reps = 0.4, 25, 40_000
    shared = torch.randn(reps, 1, dtype=DT)
    models = math.sqrt(sigma2) * (
        math.sqrt(rho) * shared + math.sqrt(1 - rho) * torch.randn(reps, M, dtype=DT)
    )
    avg = models.mean(dim=1)
    formula = rho * sigma2 + (1 - rho) * sigma2 / M
    se = avg.var() * math.sqrt(2 / (reps - 1))
    assert abs(avg.var() - formula) < 4 * se
    assert avg.var() > 5 * sigma2 / M  # far above the uncorrelated 1/M value


# ---------------------------------------------------------------------------------------- Q11


@pytest.mark.card("q11-svd-low-rank")
def test_svd_and_eckart_young():
    torch.manual_seed(0)
    A = torch.randn(12, 8, dtype=DT)
    U, S, Vh = torch.linalg.svd(A)
    Sigma = torch.zeros(12, 8, dtype=DT)
    Sigma[:8, :8] = torch.diag(S)
    assert (
        close(U @ Sigma @ Vh, A)
        and close(U.T @ U, torch.eye(12, dtype=DT))
        and close(Vh @ Vh.T, torch.eye(8, dtype=DT))
    )
    assert (S[:-1] >= S[1:]).all() and (S >= 0).all()
    k = 3
    A_k = U[:, :k] @ torch.diag(S[:k]) @ Vh[:k]
    err_f = torch.linalg.matrix_norm(A - A_k, "fro")
    err_2 = torch.linalg.matrix_norm(A - A_k, 2)
    assert close(err_f, S[k:].pow(2).sum().sqrt()) and close(err_2, S[k])
    for _ in range(200):  # no other rank-k matrix does better
        B = A_k + 0.05 * torch.randn(12, k, dtype=DT) @ torch.randn(k, 8, dtype=DT)
        B = B if torch.linalg.matrix_rank(B) <= k else A_k
        C = torch.randn(12, k, dtype=DT) @ torch.randn(k, 8, dtype=DT)
        for cand in (B, C):
            assert torch.linalg.matrix_norm(A - cand, "fro") >= err_f - 1e-12
            assert torch.linalg.matrix_norm(A - cand, 2) >= err_2 - 1e-12


@pytest.mark.card("q11-svd-low-rank")
def test_matrix_norms_from_singular_values():
    torch.manual_seed(0)
    A = torch.randn(7, 5, dtype=DT)
    S = torch.linalg.svdvals(A)
    assert close(torch.linalg.matrix_norm(A, "fro"), S.pow(2).sum().sqrt())
    assert close(torch.linalg.matrix_norm(A, "fro"), torch.trace(A.T @ A).sqrt())
    assert close(torch.linalg.matrix_norm(A, 2), S[0])
    x = F.normalize(torch.randn(10_000, 5, dtype=DT), dim=1)
    assert (x @ A.T).norm(dim=1).max() <= S[0] + 1e-12


# ---------------------------------------------------------------------------------------- Q12


@pytest.mark.card("q12-eig-vs-svd")
def test_eigendecomposition_vs_svd():
    torch.manual_seed(0)
    M = torch.randn(6, 6, dtype=DT)
    spd = M @ M.T + 0.1 * torch.eye(6, dtype=DT)
    assert close(torch.linalg.eigvalsh(spd).flip(0), torch.linalg.svdvals(spd))
    psd = M[:, :3] @ M[:, :3].T  # singular PSD: still coincide
    assert close(torch.linalg.eigvalsh(psd).flip(0), torch.linalg.svdvals(psd), 1e-9)
    sym = M + M.T
    lam, Q = torch.linalg.eigh(sym)
    assert (lam < 0).any()
    assert close(Q @ torch.diag(lam) @ Q.T, sym) and close(Q.T @ Q, torch.eye(6, dtype=DT))
    assert close(lam.abs().sort(descending=True).values, torch.linalg.svdvals(sym))
    rect = torch.randn(5, 3, dtype=DT)
    assert close(torch.linalg.eigvalsh(rect.T @ rect).flip(0).sqrt(), torch.linalg.svdvals(rect))
    # A rotation has complex eigenvalues but a perfectly real SVD (all sigma = 1).
    rot = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=DT)
    assert torch.linalg.eigvals(rot).imag.abs().min() > 0.5
    assert close(torch.linalg.svdvals(rot), torch.ones(2, dtype=DT))


@pytest.mark.card("q12-eig-vs-svd")
def test_covariance_eigenvectors_are_principal_axes():
    torch.manual_seed(0)
    data = torch.randn(5_000, 3, dtype=DT) @ torch.tensor(
        [[3.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.5, 0.2, 0.3]], dtype=DT
    )
    cov = torch.cov(data.T)
    lam, U = torch.linalg.eigh(cov)
    proj = data @ U
    assert close(proj.var(dim=0), lam, 1e-9)  # eigenvalue = variance along the axis
    off_diag = torch.cov(proj.T) - torch.diag(torch.diagonal(torch.cov(proj.T)))
    assert off_diag.abs().max() < 1e-9  # projections are uncorrelated
    directions = F.normalize(torch.randn(2_000, 3, dtype=DT), dim=1)
    assert (data @ directions.T).var(dim=0).max() <= lam[-1] + 1e-9


# ---------------------------------------------------------------------------------------- Q13


def kl(p, q):
    return (p * (p / q).log()).sum(-1)


def entropy(p):
    return -(p * p.log()).sum(-1)


def cross_entropy(p, q):
    return -(p * q.log()).sum(-1)


@pytest.mark.card("q13-kl-divergence")
def test_kl_definition_and_properties():
    torch.manual_seed(0)
    p = torch.softmax(torch.randn(100, 7, dtype=DT), dim=-1)
    q = torch.softmax(torch.randn(100, 7, dtype=DT), dim=-1)
    assert close(kl(p, q), D.kl_divergence(D.Categorical(probs=p), D.Categorical(probs=q)))
    assert (kl(p, q) > 0).all() and close(kl(p, p), torch.zeros(100, dtype=DT))
    assert (kl(p, q) - kl(q, p)).abs().max() > 1e-2  # asymmetric
    assert close(kl(p, q), cross_entropy(p, q) - entropy(p))
    a = torch.tensor([0.5, 0.5], dtype=DT)
    b = torch.tensor([0.25, 0.75], dtype=DT)
    c = torch.tensor([0.1, 0.9], dtype=DT)
    assert kl(a, c) > kl(a, b) + kl(b, c)  # no triangle inequality
    p0 = torch.tensor([0.5, 0.5], dtype=DT)
    q0 = torch.tensor([1.0, 0.0], dtype=DT)
    assert torch.isinf(kl(p0, q0))


@pytest.mark.card("q13-kl-divergence")
def test_forward_kl_covers_reverse_kl_seeks_a_mode():
    x = torch.linspace(-10, 10, 1001, dtype=DT)
    dx = x[1] - x[0]
    mode = lambda mu: D.Normal(torch.tensor(mu, dtype=DT), 0.7).log_prob(x).exp()  # noqa: E731
    mixture = 0.5 * mode(-3.0) + 0.5 * mode(3.0)
    p = mixture * dx
    p = p / p.sum()
    mus = torch.linspace(-5, 5, 101, dtype=DT)
    sigmas = torch.linspace(0.3, 5.0, 48, dtype=DT)
    q = D.Normal(mus[:, None, None], sigmas[None, :, None]).log_prob(x).exp() * dx
    q = q / q.sum(-1, keepdim=True)
    q = q.clamp_min(1e-300)
    forward = (p * (p.clamp_min(1e-300) / q).log()).sum(-1)
    reverse = (q * (q / p.clamp_min(1e-300)).log()).sum(-1)
    fi, fj = divmod(int(forward.argmin()), len(sigmas))
    ri, rj = divmod(int(reverse.argmin()), len(sigmas))
    p_mean = (p * x).sum()
    p_sd = ((p * (x - p_mean) ** 2).sum()).sqrt()
    # Forward KL: moment matching, centred between the modes and wide.
    assert abs(mus[fi] - p_mean) < 0.11 and abs(sigmas[fj] - p_sd) < 0.06
    # Reverse KL: sits on one mode with roughly that mode's width.
    assert abs(abs(mus[ri]) - 3.0) < 0.11 and abs(sigmas[rj] - 0.7) < 0.06


# ---------------------------------------------------------------------------------------- Q14


@pytest.mark.card("q14-cross-entropy-kl-entropy")
def test_cross_entropy_is_entropy_plus_kl_and_one_hot_case():
    torch.manual_seed(0)
    p = torch.softmax(torch.randn(50, 9, dtype=DT), dim=-1)
    q = torch.softmax(torch.randn(50, 9, dtype=DT), dim=-1)
    assert close(cross_entropy(p, q), entropy(p) + kl(p, q))
    logits = torch.randn(50, 9, dtype=DT)
    labels = torch.randint(0, 9, (50,))
    one_hot = F.one_hot(labels, 9).to(DT)
    log_q = F.log_softmax(logits, dim=-1)
    ce = F.cross_entropy(logits, labels, reduction="none")
    kl_one_hot = F.kl_div(log_q, one_hot, reduction="none").sum(-1)  # 0 log 0 = 0
    assert close(ce, kl_one_hot) and close(ce, -log_q.gather(1, labels[:, None]).squeeze(1))
    nll = -D.Categorical(logits=logits).log_prob(labels).mean()
    assert close(F.cross_entropy(logits, labels), nll)  # cross-entropy loss = NLL (MLE)


@pytest.mark.card("q14-cross-entropy-kl-entropy")
def test_perplexity_is_exp_cross_entropy():
    torch.manual_seed(0)
    N, V = 200, 50
    logits = torch.randn(N, V, dtype=DT)
    tokens = torch.randint(0, V, (N,))
    probs = torch.softmax(logits, dim=-1).gather(1, tokens[:, None]).squeeze(1)
    ppl = torch.exp(F.cross_entropy(logits, tokens))
    assert close(ppl, probs.reciprocal().log().mean().exp())  # geometric mean of 1/q
    assert close(ppl, torch.prod(probs ** (-1 / N)), 1e-9)
    h_bits = -(torch.log2(probs)).mean()
    assert close(2**h_bits, ppl, 1e-9)
    uniform = torch.zeros(N, V, dtype=DT)
    assert close(torch.exp(F.cross_entropy(uniform, tokens)), V, 1e-9)


# ---------------------------------------------------------------------------------------- Q15


@pytest.mark.card("q15-jensen-inequality")
def test_jensen_inequality_convex_and_concave():
    torch.manual_seed(0)
    for _ in range(100):
        w = random_pmf(8)
        x = torch.rand(8, dtype=DT) * 5 + 0.01
        mean = (w * x).sum()
        for convex in (torch.exp, lambda t: t**2, lambda t: t * t.log()):
            assert convex(mean) <= (w * convex(x)).sum() + 1e-12
        assert torch.log(mean) >= (w * x.log()).sum() - 1e-12
    # Equality when X is constant.
    x = torch.full((8,), 2.0, dtype=DT)
    w = random_pmf(8)
    assert close(torch.exp((w * x).sum()), (w * x.exp()).sum())


@pytest.mark.card("q15-jensen-inequality")
def test_elbo_decomposition_discrete_latent():
    torch.manual_seed(0)
    K = 5
    prior = random_pmf(K)  # p(z)
    lik = torch.rand(K, dtype=DT)  # p(x | z) for the observed x
    joint = prior * lik  # p(x, z)
    log_evidence = joint.sum().log()
    posterior = joint / joint.sum()
    for _ in range(20):
        q = random_pmf(K)
        elbo = (q * (joint.log() - q.log())).sum()
        assert close(log_evidence, elbo + kl(q, posterior))
        assert elbo <= log_evidence
        assert close(elbo, (q * lik.log()).sum() - kl(q, prior))  # reconstruction - KL to prior
    elbo_at_posterior = (posterior * (joint.log() - posterior.log())).sum()
    assert close(elbo_at_posterior, log_evidence)


# ---------------------------------------------------------------------------------------- Q16


def leading_minors(A):
    return torch.stack([torch.linalg.det(A[:k, :k]) for k in range(1, A.shape[0] + 1)])


@pytest.mark.card("q16-positive-definite")
def test_positive_definite_criteria_agree():
    torch.manual_seed(0)
    count = 300
    M = torch.randn(count, 4, 4, dtype=DT)
    shift = torch.rand(count, 1, 1, dtype=DT) * 0.5
    A = M @ M.transpose(-2, -1) - shift * torch.eye(4, dtype=DT)  # some PD, some not
    lam, U = torch.linalg.eigh(A)
    by_eig = lam[:, 0] > 0
    minors = torch.stack([torch.linalg.det(A[:, :k, :k]) for k in range(1, 5)], dim=1)
    by_sylvester = (minors > 0).all(dim=1)
    L, info = torch.linalg.cholesky_ex(A)
    by_cholesky = info == 0
    assert torch.equal(by_eig, by_sylvester) and torch.equal(by_eig, by_cholesky)
    assert 50 < int(by_eig.sum()) < 250  # both cases are exercised
    pd = by_eig
    assert (torch.diagonal(L[pd], dim1=-2, dim2=-1) > 0).all() and close(
        L[pd] @ L[pd].transpose(-2, -1), A[pd]
    )
    x = torch.randn(100, 4, dtype=DT)
    assert (torch.einsum("ni,bij,nj->bn", x, A[pd], x) > 0).all()
    u = U[~pd][:, :, 0]  # eigenvector of the smallest eigenvalue
    assert (torch.einsum("bi,bij,bj->b", u, A[~pd], u) <= 0).all()  # a direction with x^T A x <= 0
    B = torch.randn(6, 4, dtype=DT)  # full column rank
    assert torch.linalg.eigvalsh(B.T @ B).min() > 0
    # Not sufficient: positive determinant, positive diagonal.
    neg = -torch.eye(2, dtype=DT)
    assert torch.linalg.det(neg) > 0 and torch.linalg.eigvalsh(neg).max() < 0
    pos_diag = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=DT)
    assert torch.linalg.eigvalsh(pos_diag).min() < 0


@pytest.mark.card("q16-psd-minors-pitfall")
def test_leading_minors_do_not_certify_semidefiniteness():
    A = torch.tensor([[0.0, 0.0], [0.0, -1.0]], dtype=DT)
    assert (leading_minors(A) >= 0).all()
    assert torch.linalg.eigvalsh(A).min() < 0
    all_principal_minors = torch.stack([A[0, 0], A[1, 1], torch.linalg.det(A)])
    assert (all_principal_minors < 0).any()


@pytest.mark.card("q16-positive-definite")
def test_covariance_singular_with_affine_relation_or_few_samples():
    torch.manual_seed(0)
    z = torch.randn(1_000, 2, dtype=DT)
    data = torch.cat([z, (z[:, :1] + 2 * z[:, 1:] + 5.0)], dim=1)  # x3 = x1 + 2 x2 + 5
    cov = torch.cov(data.T)
    lam = torch.linalg.eigvalsh(cov)
    assert lam[0] < 1e-10 * lam[-1]
    v = torch.tensor([1.0, 2.0, -1.0], dtype=DT)
    assert close((data @ v).var(), 0.0, 1e-10) and close(v @ cov @ v, 0.0, 1e-10)
    n, d = 5, 8
    few = torch.randn(n, d, dtype=DT)
    assert torch.linalg.matrix_rank(torch.cov(few.T)) == n - 1 < d


# ---------------------------------------------------------------------------------------- Q17


@pytest.mark.card("q17-matmul-flops")
def test_matmul_flop_count():
    for m, n, p in ((3, 4, 5), (16, 32, 8), (64, 7, 9)):
        A, B = torch.randn(m, n), torch.randn(n, p)
        assert count_flops(torch.matmul, A, B) == 2 * m * n * p
    # Counting the operations of the textbook triple loop: mp(2n - 1).
    m, n, p = 3, 4, 5
    A, B = torch.randn(m, n, dtype=torch.float64), torch.randn(n, p, dtype=torch.float64)
    product, ops = naive_matmul_counting(A.tolist(), B.tolist())
    assert torch.allclose(torch.tensor(product, dtype=torch.float64), A @ B)
    assert ops == m * p * (2 * n - 1)


@pytest.mark.card("q17-training-flops-6nd")
@pytest.mark.card("q17-matmul-flops")
def test_forward_2n_backward_4n_flops_per_token():
    torch.manual_seed(0)
    width, depth, tokens = 32, 3, 10
    model = torch.nn.Sequential(*[torch.nn.Linear(width, width, bias=False) for _ in range(depth)])
    N = sum(p.numel() for p in model.parameters())
    x = torch.randn(tokens, width, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        out = model(x)
    forward = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        out.sum().backward()
    backward = counter.get_total_flops()
    D_ = tokens
    assert forward == 2 * N * D_
    assert backward == 4 * N * D_
    assert forward + backward == 6 * N * D_


@pytest.mark.card("q17-matmul-flops")
def test_decode_arithmetic_intensity_is_about_batch_size():
    d = 1024
    W = torch.zeros(d, d, dtype=torch.bfloat16)
    intensities = {}
    for batch in (1, 8, 64):
        x = torch.zeros(batch, d, dtype=torch.bfloat16)
        flops = count_flops(torch.matmul, x, W)
        bytes_moved = (W.numel() + x.numel() + batch * d) * W.element_size()
        intensities[batch] = flops / bytes_moved
        assert abs(intensities[batch] - batch) / batch < 0.15
    # Far below the ~150-300 FLOPs/byte ridge point of an A100 / H100 at small batch.
    a100 = 312e12 / 2.0e12
    h100 = 989e12 / 3.35e12
    assert intensities[1] < intensities[8] < intensities[64] < min(a100, h100)
