"""Numeric checks for Part 1 sections 1.4 (CLT, mini-batch gradients), 1.5 (MLE, MAP, priors as
regularisers) and 1.6 (bias-variance decomposition, ensembles)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import distributions as D

F64 = torch.float64


# ---------------------------------------------------------------- 1.4 CLT


@pytest.mark.card("p1-central-limit-theorem")
def test_clt_standardised_mean_of_skewed_distribution():
    torch.manual_seed(0)
    reps, n = 20_000, 100
    x = D.Exponential(torch.tensor(1.0, dtype=F64)).sample((reps, n))  # mean 1, variance 1, skewed
    z = math.sqrt(n) * (x.mean(1) - 1.0)  # → N(0, 1)
    std = D.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    for k in [1.0, 1.96]:
        p = (std.cdf(torch.tensor(k, dtype=F64)) - std.cdf(torch.tensor(-k, dtype=F64))).item()
        freq = (z.abs() <= k).to(F64).mean().item()
        # Monte Carlo error is ~0.003; allow 0.01 more for the finite-n (Berry-Esseen) error
        assert abs(freq - p) < 4 * math.sqrt(p * (1 - p) / reps) + 0.01
    # a single exponential is far from Gaussian: the same check fails for n = 1
    z1 = x[:, 0] - 1.0
    assert abs((z1.abs() <= 1).to(F64).mean().item() - 0.6827) > 0.05


@pytest.mark.card("p1-variance-of-sample-mean")
def test_variance_of_sample_mean_exact_and_sampled():
    # exact: enumerate every n-tuple of a discrete distribution
    values = torch.tensor([0.0, 1.0, 5.0], dtype=F64)
    probs = torch.tensor([0.5, 0.3, 0.2], dtype=F64)
    mu = (probs * values).sum()
    sigma2 = (probs * (values - mu) ** 2).sum()
    for n in [1, 2, 4]:
        idx = torch.tensor(list(itertools.product(range(3), repeat=n)))
        p_tuple = probs[idx].prod(1)
        means = values[idx].mean(1)
        var_mean = (p_tuple * (means - mu) ** 2).sum()
        assert var_mean.item() == pytest.approx((sigma2 / n).item())
    # sampled, continuous, small n (no limit needed)
    torch.manual_seed(0)
    reps = 40_000
    for n in [3, 30]:
        means = torch.rand(reps, n, dtype=F64).mean(1)  # U(0, 1): sigma^2 = 1/12
        rel_se = math.sqrt(2 / (reps - 1))
        assert means.var().item() == pytest.approx(1 / 12 / n, rel=5 * rel_se)


@pytest.mark.card("p1-clt-failure")
def test_cauchy_mean_does_not_concentrate():
    torch.manual_seed(0)
    reps = 4000
    cauchy = D.Cauchy(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    normal = D.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))

    def iqr(t):
        q = torch.quantile(t, torch.tensor([0.25, 0.75], dtype=F64))
        return (q[1] - q[0]).item()

    # the standard Cauchy has quartiles ±1, so IQR 2, for every n
    for n in [1, 1000]:
        assert iqr(cauchy.sample((reps, n)).mean(1)) == pytest.approx(2.0, rel=0.1)
    # a finite-variance mean shrinks like 1/sqrt(n)
    assert iqr(normal.sample((reps, 1000)).mean(1)) < 0.06


def per_example_gradients(N: int = 8, d: int = 3, seed: int = 0):
    """Gradients of squared errors 0.5 (x_i·w - y_i)^2 of a small regression at a fixed w."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, d, generator=g, dtype=F64)
    y = torch.randn(N, generator=g, dtype=F64)
    w = torch.randn(d, generator=g, dtype=F64, requires_grad=True)
    grads = []
    for i in range(N):
        (gi,) = torch.autograd.grad(0.5 * (X[i] @ w - y[i]) ** 2, w)
        grads.append(gi)
    full = torch.autograd.grad(0.5 * ((X @ w - y) ** 2).mean(), w)[0]
    return torch.stack(grads), full


def card_minibatch_covariance(sigma_g, N: int, B: int, replacement: bool):
    """The card's formula: Sigma_g / B, times (N - B) / (N - 1) without replacement."""
    return sigma_g / B if replacement else sigma_g / B * (N - B) / (N - 1)


def enumerated_covariance(G, full, batches):
    """Covariance of the mean gradient over equally likely batches (rows of indices), checking
    on the way that the mean gradient is unbiased."""
    g_hat = G[batches].mean(1)
    assert torch.allclose(g_hat.mean(0), full)
    return (g_hat - full).T @ (g_hat - full) / g_hat.shape[0]


@pytest.mark.card("p1-minibatch-gradient-unbiased")
@pytest.mark.card("p1-minibatch-gradient-variance")
def test_minibatch_gradient_mean_and_covariance_by_enumeration():
    G, full = per_example_gradients()
    N = G.shape[0]
    Sigma_g = (G - full).T @ (G - full) / N
    assert torch.allclose(G.mean(0), full)
    for B in (1, 2, 3):  # with replacement: all N^B ordered batches are equally likely
        batches = torch.tensor(list(itertools.product(range(N), repeat=B)))
        expected = card_minibatch_covariance(Sigma_g, N, B, replacement=True)
        assert torch.allclose(enumerated_covariance(G, full, batches), expected), B
    # without replacement: all C(N, B) subsets are equally likely, up to the full batch (B = N),
    # whose one batch is the full gradient: the card's factor (N - B) / (N - 1) says no noise
    for B in range(1, N + 1):
        subsets = torch.tensor(list(itertools.combinations(range(N), B)))
        expected = card_minibatch_covariance(Sigma_g, N, B, replacement=False)
        assert torch.allclose(enumerated_covariance(G, full, subsets), expected), B


# ---------------------------------------------------------------- 1.5 MLE / MAP


@pytest.mark.card("p1-mle")
@pytest.mark.card("p1-gaussian-mle")
def test_gaussian_mle_closed_form_matches_numerical_maximum():
    torch.manual_seed(0)
    x = 2.0 + 1.5 * torch.randn(200, dtype=F64)
    mu_hat = x.mean()
    var_hat = ((x - mu_hat) ** 2).mean()
    assert torch.isclose(var_hat, x.var(unbiased=False))

    mu = torch.zeros((), dtype=F64, requires_grad=True)
    log_sigma = torch.zeros((), dtype=F64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [mu, log_sigma], max_iter=200, tolerance_grad=1e-12, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        nll = -D.Normal(mu, log_sigma.exp()).log_prob(x).sum()
        nll.backward()
        return nll

    opt.step(closure)
    assert mu.item() == pytest.approx(mu_hat.item(), abs=1e-6)
    assert (2 * log_sigma).exp().item() == pytest.approx(var_hat.item(), rel=1e-6)
    # the product of likelihoods (no log) has the same maximiser, on a sample small enough
    # not to underflow
    x20 = x[:20]
    m20, s20 = x20.mean(), x20.var(correction=0).sqrt()
    lik = lambda m, s: D.Normal(m, s).log_prob(x20).exp().prod()  # noqa: E731
    for dm, ds in [(0.05, 0.0), (-0.05, 0.0), (0.0, 0.05), (0.0, -0.05)]:
        assert lik(m20, s20) > lik(m20 + dm, s20 + ds)


@pytest.mark.card("p1-gaussian-mle-variance-bias")
def test_gaussian_mle_variance_is_biased():
    torch.manual_seed(0)
    reps, n, sigma2 = 200_000, 5, 4.0
    x = math.sqrt(sigma2) * torch.randn(reps, n, dtype=F64)
    var_mle = x.var(dim=1, correction=0)
    se = var_mle.std().item() / math.sqrt(reps)
    assert abs(var_mle.mean().item() - (n - 1) / n * sigma2) < 5 * se
    assert abs(var_mle.mean().item() - sigma2) > 20 * se  # clearly biased
    s2 = var_mle * n / (n - 1)  # Bessel's correction
    assert abs(s2.mean().item() - sigma2) < 5 * s2.std().item() / math.sqrt(reps)


@pytest.mark.card("p1-mle-as-kl-minimization")
def test_mle_minimises_kl_to_empirical_distribution():
    torch.manual_seed(0)
    data = torch.multinomial(torch.tensor([0.1, 0.2, 0.3, 0.4]), 500, replacement=True)
    p_hat = torch.bincount(data, minlength=4).to(F64) / data.numel()
    entropy = -(p_hat * p_hat.log()).sum()
    for _ in range(20):
        q = torch.softmax(torch.randn(4, dtype=F64), 0)
        kl = (p_hat * (p_hat / q).log()).sum()
        mean_nll = -q.log()[data].mean()
        assert torch.isclose(kl, mean_nll - entropy)
    # maximise the likelihood of a categorical model numerically: it lands on p_hat
    logits = torch.zeros(4, dtype=F64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [logits],
        max_iter=500,
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = -D.Categorical(logits=logits).log_prob(data).mean()
        loss.backward()
        return loss

    opt.step(closure)
    assert torch.allclose(torch.softmax(logits, 0), p_hat, atol=1e-6)


def regression_data(n: int = 40, d: int = 5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=F64)
    w_true = torch.randn(d, generator=g, dtype=F64)
    y = X @ w_true + 0.5 * torch.randn(n, generator=g, dtype=F64)
    return X, y


@pytest.mark.card("p1-map")
@pytest.mark.card("p1-map-ridge-regression")
def test_map_with_gaussian_prior_is_ridge():
    X, y = regression_data()
    sigma, tau = 0.5, 0.8
    lam = sigma**2 / tau**2
    d = X.shape[1]
    w_ridge = torch.linalg.solve(X.T @ X + lam * torch.eye(d, dtype=F64), X.T @ y)

    def log_posterior(w):  # log-likelihood + log-prior, from torch.distributions
        return (
            D.Normal(X @ w, sigma).log_prob(y).sum()
            + D.Normal(torch.zeros(d, dtype=F64), tau).log_prob(w).sum()
        )

    w = w_ridge.clone().requires_grad_()
    (grad,) = torch.autograd.grad(log_posterior(w), w)
    assert grad.abs().max() < 1e-9
    H = torch.autograd.functional.hessian(log_posterior, w_ridge)
    assert torch.linalg.eigvalsh(H).max() < 0  # concave: the stationary point is the maximum
    # Bishop PRML eq. 3.53-3.54: posterior mean m_N = beta S_N X^T y, S_N^-1 = alpha I + beta X^T X
    alpha, beta = 1 / tau**2, 1 / sigma**2
    m_N = beta * torch.linalg.solve(alpha * torch.eye(d, dtype=F64) + beta * X.T @ X, X.T @ y)
    assert torch.allclose(m_N, w_ridge)


@pytest.mark.card("p1-gaussian-prior-l2")
@pytest.mark.card("p1-laplace-prior-l1")
@pytest.mark.card("p1-prior-regularizer-table")
def test_negative_log_priors_are_the_penalties():
    g = torch.Generator().manual_seed(0)
    tau, b = 0.7, 0.4
    gauss = D.Normal(torch.zeros(6, dtype=F64), tau)
    laplace = D.Laplace(torch.zeros(6, dtype=F64), b)
    w0 = torch.randn(6, generator=g, dtype=F64)
    const_g = -gauss.log_prob(w0).sum() - (w0**2).sum() / (2 * tau**2)
    const_l = -laplace.log_prob(w0).sum() - w0.abs().sum() / b
    for _ in range(10):
        w = 3 * torch.randn(6, generator=g, dtype=F64)
        assert torch.isclose(-gauss.log_prob(w).sum(), (w**2).sum() / (2 * tau**2) + const_g)
        assert torch.isclose(-laplace.log_prob(w).sum(), w.abs().sum() / b + const_l)
    # the Laplace density is (1 / 2b) exp(-|w| / b)
    assert torch.allclose(laplace.log_prob(w0).exp(), torch.exp(-w0.abs() / b) / (2 * b))
    # flat prior: the penalty is constant, MAP = MLE
    flat = D.Uniform(torch.full((6,), -10.0, dtype=F64), torch.full((6,), 10.0, dtype=F64))
    assert torch.allclose(flat.log_prob(w0), flat.log_prob(0.5 * w0))


@pytest.mark.card("p1-laplace-prior-l1")
def test_map_with_laplace_prior_is_sparse_soft_threshold():
    # y_i = w + noise, prior w ~ Laplace(0, b): MAP = sign(ybar) max(|ybar| - sigma^2 / (n b), 0)
    sigma, b, n = 1.0, 0.5, 10
    grid = torch.linspace(-3, 3, 600_001, dtype=F64)
    for ybar_target in [0.1, -0.15, 0.9, -1.4]:
        y = torch.full((n,), ybar_target, dtype=F64) + torch.linspace(-1, 1, n, dtype=F64)
        ybar = y.mean()
        neg_log_post = ((y[None, :] - grid[:, None]) ** 2).sum(1) / (2 * sigma**2) + grid.abs() / b
        w_grid = grid[torch.argmin(neg_log_post)]
        w_soft = torch.sign(ybar) * torch.clamp(ybar.abs() - sigma**2 / (n * b), min=0)
        assert w_grid.item() == pytest.approx(w_soft.item(), abs=2e-5)
        if abs(ybar_target) < sigma**2 / (n * b):
            assert w_soft == 0  # exactly zero: sparsity


@pytest.mark.card("p1-mle-vs-map")
def test_map_approaches_mle_with_more_data():
    torch.manual_seed(0)
    sigma, tau = 1.0, 0.5
    x = 3.0 + sigma * torch.randn(100_000, dtype=F64)
    gaps = []
    for n in [5, 50, 500, 5000, 100_000]:
        xn = x[:n]
        mle = xn.mean()
        map_ = xn.sum() / (n + sigma**2 / tau**2)  # Gaussian mean, N(0, tau^2) prior
        mu = map_.clone().requires_grad_()
        lp = D.Normal(mu, sigma).log_prob(xn).sum() + D.Normal(0.0, tau).log_prob(mu)
        assert torch.autograd.grad(lp, mu)[0].abs() < 1e-8
        gaps.append((map_ - mle).abs().item())
    assert all(a > b for a, b in itertools.pairwise(gaps))
    assert gaps[-1] < 1e-3 * gaps[0]


@pytest.mark.card("p1-weight-decay-vs-l2")
def test_weight_decay_equals_l2_only_for_sgd():
    torch.manual_seed(0)
    X, y = regression_data()
    w0 = torch.randn(X.shape[1], dtype=F64)
    lr, lam = 0.05, 0.1

    def loss(w):
        return 0.5 * ((X @ w - y) ** 2).mean()

    def run(opt_cls, w_init, l2, steps=5, **kw):
        w = w_init.clone().requires_grad_()
        opt = opt_cls([w], lr=lr, **kw)
        for _ in range(steps):
            opt.zero_grad()
            (loss(w) + 0.5 * l2 * (w**2).sum()).backward()
            opt.step()
        return w.detach()

    # SGD: weight_decay = lambda is identical to adding (lambda / 2) ||w||^2 to the loss
    assert torch.allclose(
        run(torch.optim.SGD, w0, 0.0, weight_decay=lam), run(torch.optim.SGD, w0, lam)
    )
    # one SGD step: w <- (1 - lr lambda) w - lr grad L
    w = w0.clone().requires_grad_()
    (g,) = torch.autograd.grad(loss(w), w)
    assert torch.allclose(run(torch.optim.SGD, w0, lam, steps=1), (1 - lr * lam) * w0 - lr * g)
    # Adam: L2 in the loss (= Adam's weight_decay) is not decoupled decay (AdamW)
    adam_l2 = run(torch.optim.Adam, w0, lam)
    assert torch.allclose(adam_l2, run(torch.optim.Adam, w0, 0.0, weight_decay=lam))
    adamw = run(torch.optim.AdamW, w0, 0.0, weight_decay=lam)
    assert (adam_l2 - adamw).abs().max() > 1e-3
    # AdamW's first step: decay the weights directly, then the Adam step
    # (m_hat / sqrt(v_hat) = sign(g))
    w1 = run(torch.optim.AdamW, w0, 0.0, steps=1, weight_decay=lam, eps=0.0)
    assert torch.allclose(w1, (1 - lr * lam) * w0 - lr * torch.sign(g))


# ---------------------------------------------------------------- 1.6 bias-variance


def simulate_polynomial_fits(
    degree: int,
    reps: int = 2000,
    n: int = 20,
    sigma: float = 0.3,
    seed: int = 0,
    fixed_design: bool = False,
):
    """Fit a polynomial to `reps` independent training sets from y = sin(2 pi x) + noise.

    Returns the predictions at test points, the true f there and fresh test targets."""
    g = torch.Generator().manual_seed(seed)
    x0 = torch.linspace(0.05, 0.95, 10, dtype=F64)
    f0 = torch.sin(2 * math.pi * x0)
    if fixed_design:  # same inputs in every training set; only the labels are resampled
        x = torch.linspace(0, 1, n, dtype=F64).expand(reps, n)
    else:
        x = torch.rand(reps, n, generator=g, dtype=F64)
    y = torch.sin(2 * math.pi * x) + sigma * torch.randn(reps, n, generator=g, dtype=F64)
    powers = torch.arange(degree + 1, dtype=F64)
    V = x[..., None] ** powers  # (reps, n, degree+1)
    coef = torch.linalg.lstsq(V, y[..., None]).solution  # (reps, degree+1, 1)
    preds = ((x0[:, None] ** powers) @ coef)[..., 0]  # (reps, 10)
    y0 = f0 + sigma * torch.randn(reps, 10, generator=g, dtype=F64)  # test noise independent of D
    return preds, f0, y0


@pytest.mark.card("p1-bias-variance-decomposition")
@pytest.mark.card("p1-bias")
@pytest.mark.card("p1-variance-of-predictor")
def test_bias_variance_decomposition_by_simulation():
    sigma = 0.3
    for degree in [1, 3, 6]:
        preds, f0, y0 = simulate_polynomial_fits(degree, sigma=sigma)
        sq_err = (y0 - preds) ** 2  # (reps, points)
        lhs = sq_err.mean(0)
        bias2 = (preds.mean(0) - f0) ** 2
        variance = preds.var(0, correction=0)
        rhs = bias2 + variance + sigma**2
        se = sq_err.std(0) / math.sqrt(preds.shape[0])
        assert ((lhs - rhs).abs() < 5 * se).all()


@pytest.mark.card("p1-bias-variance-decomposition")
@pytest.mark.card("q10-bias-variance")
def test_log_loss_also_decomposes_into_noise_bias_variance():
    # Heskes (1998), Pfau (2013): for log-loss (a Bregman divergence) with y ~ p independent of D,
    # E_D E_y[-log q_D(y)] = H(p) + KL(p || q_bar) + E_D KL(q_bar || q_D), q_bar ∝ exp(E_D log q_D).
    g = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(6, generator=g, dtype=F64), 0)
    shift = torch.randn(6, generator=g, dtype=F64)  # a shared bias of the fitted models
    log_q = torch.log_softmax(
        torch.randn(500, 6, generator=g, dtype=F64) + shift, 1
    )  # one row per D
    kl = lambda a, log_b: (a * (a.log() - log_b)).sum(-1)  # noqa: E731
    expected_loss = -(p * log_q).sum(-1).mean()
    log_q_bar = torch.log_softmax(log_q.mean(0), 0)
    noise, bias, variance = (
        -(p * p.log()).sum(),
        kl(p, log_q_bar),
        kl(log_q_bar.exp(), log_q).mean(),
    )
    assert bias > 0 and variance > 0
    assert abs(expected_loss - (noise + bias + variance)) < 1e-12
    # 0-1 loss has no such split: noise-free label 1, predictors whose majority vote is 0 (bias 1).
    # Disagreeing with the majority (variance) lowers the error, so it cannot be a term added to it.
    y = 1
    for p_one in (0.0, 0.2, 0.4):
        y_hat = (torch.rand(100_000, generator=g, dtype=F64) < p_one).long()
        main = y_hat.mode().values
        bias01, variance01 = float(main != y), (y_hat != main).double().mean()
        error = (y_hat != y).double().mean()
        assert bias01 == 1 and abs(error - (bias01 - variance01)) < 1e-12
        assert error < bias01 + variance01 or p_one == 0


@pytest.mark.card("p1-irreducible-noise")
def test_true_function_still_has_noise_error():
    sigma = 0.3
    _, f0, y0 = simulate_polynomial_fits(3, sigma=sigma)
    sq = (y0 - f0) ** 2
    assert abs(sq.mean().item() - sigma**2) < 5 * sq.std().item() / math.sqrt(sq.numel())


@pytest.mark.card("p1-bias-variance-tradeoff")
def test_capacity_trades_bias_for_variance():
    # nested least-squares fits on a fixed design: a larger model class can only add variance
    stats = {}
    for degree in [1, 3, 5, 9]:
        preds, f0, _ = simulate_polynomial_fits(degree, fixed_design=True)
        stats[degree] = (((preds.mean(0) - f0) ** 2).mean().item(), preds.var(0).mean().item())
    bias2 = [stats[d][0] for d in (1, 3, 5)]
    variance = [stats[d][1] for d in (1, 3, 5, 9)]
    assert bias2[0] > bias2[1] > bias2[2]  # bias^2 falls with capacity
    assert variance == sorted(variance)  # variance rises


@pytest.mark.card("p1-ensemble-variance")
@pytest.mark.card("p1-ensembles-reduce-variance")
def test_variance_of_average_of_correlated_predictors():
    sigma2 = 2.0
    for M, rho in [(1, 0.0), (5, 0.0), (10, 0.3), (50, 0.8)]:
        Sigma = sigma2 * (rho * torch.ones(M, M, dtype=F64) + (1 - rho) * torch.eye(M, dtype=F64))
        ones = torch.ones(M, dtype=F64) / M
        exact = ones @ Sigma @ ones  # Var(a^T f) with a = 1/M
        card = rho * sigma2 + (1 - rho) * sigma2 / M
        assert exact.item() == pytest.approx(card)
        if M > 1:
            torch.manual_seed(0)
            n = 100_000
            f = D.MultivariateNormal(torch.zeros(M, dtype=F64), Sigma).sample((n,))
            avg = f.mean(1)
            # bias unchanged (same mean), variance reduced
            assert abs(avg.mean().item()) < 5 * math.sqrt(card / n)
            assert avg.var().item() == pytest.approx(card, rel=5 * math.sqrt(2 / n))
    # bagging: the average of bootstrap fits has lower variance than one fit, similar bias
    g = torch.Generator().manual_seed(1)
    reps, n, B = 3000, 15, 25
    data = (
        torch.randn(reps, n, generator=g, dtype=F64) ** 2
    )  # skewed; estimate the median-like quantity
    single = data.median(1).values
    idx = torch.randint(0, n, (reps, B, n), generator=g)
    boot = torch.gather(data[:, None, :].expand(reps, B, n), 2, idx).median(2).values.mean(1)
    assert boot.var() < single.var()
