"""Numeric checks for Part 1 section 1.3: the six distributions, the multivariate Gaussian
and the 68-95-99.7 rule. Each PMF/PDF on a card is coded from the card's formula and compared
with torch.distributions; each mean and variance is compared with torch.distributions and with
sample moments (tolerance: 6 standard errors estimated from the sample itself)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D

F64 = torch.float64
N_SAMPLES = 200_000


def assert_sample_moments(dist, mean: float, variance: float) -> None:
    torch.manual_seed(0)
    x = dist.sample((N_SAMPLES,)).to(F64)
    se_mean = (variance / N_SAMPLES) ** 0.5
    sq = (x - x.mean()) ** 2
    se_var = sq.std().item() / N_SAMPLES**0.5
    assert abs(x.mean().item() - mean) < 6 * se_mean
    assert abs(x.var().item() - variance) < 6 * se_var


def assert_torch_moments(dist, mean: float, variance: float) -> None:
    assert dist.mean.item() == pytest.approx(mean, rel=1e-9, abs=1e-12)
    assert dist.variance.item() == pytest.approx(variance, rel=1e-9, abs=1e-12)


@pytest.mark.card("p1-bernoulli-pmf")
def test_bernoulli_pmf():
    for p in [0.1, 0.5, 0.83]:
        dist = D.Bernoulli(probs=torch.tensor(p, dtype=F64))
        for x in [0, 1]:
            card = p**x * (1 - p) ** (1 - x)
            assert dist.log_prob(torch.tensor(float(x), dtype=F64)).exp().item() == pytest.approx(
                card
            )
        # NLL of the Bernoulli = binary cross-entropy
        y = torch.tensor([0.0, 1.0, 1.0], dtype=F64)
        probs = torch.full((3,), p, dtype=F64)
        nll = -D.Bernoulli(probs=probs).log_prob(y).mean()
        assert nll.item() == pytest.approx(
            torch.nn.functional.binary_cross_entropy(probs, y).item()
        )


@pytest.mark.card("p1-bernoulli-moments")
def test_bernoulli_moments():
    p = 0.3
    dist = D.Bernoulli(probs=torch.tensor(p, dtype=F64))
    assert_torch_moments(dist, p, p * (1 - p))
    assert_sample_moments(dist, p, p * (1 - p))
    ps = torch.linspace(0, 1, 101, dtype=F64)
    assert ps[torch.argmax(ps * (1 - ps))].item() == pytest.approx(0.5)


@pytest.mark.card("p1-binomial-pmf")
def test_binomial_pmf():
    n, p = 12, 0.35
    dist = D.Binomial(total_count=n, probs=torch.tensor(p, dtype=F64))
    card = torch.tensor(
        [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)], dtype=F64
    )
    assert torch.allclose(dist.log_prob(torch.arange(n + 1, dtype=F64)).exp(), card)
    assert card.sum().item() == pytest.approx(1.0)
    # a sum of n Bernoulli variables has this distribution
    torch.manual_seed(0)
    sums = D.Bernoulli(probs=torch.tensor(p)).sample((N_SAMPLES, n)).sum(1).long()
    freq = torch.bincount(sums, minlength=n + 1).to(F64) / N_SAMPLES
    assert ((freq - card).abs() < 6 * (card * (1 - card) / N_SAMPLES).sqrt() + 1e-12).all()


@pytest.mark.card("p1-binomial-moments")
def test_binomial_moments():
    n, p = 20, 0.15
    dist = D.Binomial(total_count=n, probs=torch.tensor(p, dtype=F64))
    assert_torch_moments(dist, n * p, n * p * (1 - p))
    assert_sample_moments(dist, n * p, n * p * (1 - p))


@pytest.mark.card("p1-poisson-pmf")
def test_poisson_pmf():
    lam = 3.7
    dist = D.Poisson(torch.tensor(lam, dtype=F64))
    ks = range(40)
    card = torch.tensor([lam**k * math.exp(-lam) / math.factorial(k) for k in ks], dtype=F64)
    assert torch.allclose(dist.log_prob(torch.arange(40, dtype=F64)).exp(), card)
    assert card.sum().item() == pytest.approx(1.0)


@pytest.mark.card("p1-poisson-moments")
def test_poisson_moments():
    lam = 4.2
    dist = D.Poisson(torch.tensor(lam, dtype=F64))
    assert_torch_moments(dist, lam, lam)
    assert_sample_moments(dist, lam, lam)


@pytest.mark.card("p1-poisson-limit-of-binomial")
def test_binomial_converges_to_poisson():
    lam = 2.5
    ks = torch.arange(60, dtype=F64)
    pois = D.Poisson(torch.tensor(lam, dtype=F64)).log_prob(ks).exp()
    prev = None
    for n in [10, 100, 1000, 10_000]:
        binom = D.Binomial(total_count=n, probs=torch.tensor(lam / n, dtype=F64))
        pmf = binom.log_prob(ks.clamp(max=n)).exp() * (ks <= n)
        tv = 0.5 * (pmf - pois).abs().sum().item()
        assert tv <= lam**2 / n  # Le Cam's bound: TV <= n p^2
        if prev is not None:
            assert tv < prev
        prev = tv


@pytest.mark.card("p1-uniform-pdf")
def test_uniform_pdf_and_glorot_init():
    a, b = -1.5, 2.5
    dist = D.Uniform(torch.tensor(a, dtype=F64), torch.tensor(b, dtype=F64))
    xs = torch.tensor([-1.0, 0.0, 2.4], dtype=F64)
    assert torch.allclose(dist.log_prob(xs).exp(), torch.full((3,), 1 / (b - a), dtype=F64))
    grid = torch.linspace(-3, 4, 70_001, dtype=F64)
    card = ((grid >= a) & (grid <= b)).to(F64) / (b - a)
    assert torch.trapezoid(card, grid).item() == pytest.approx(1.0, abs=1e-3)
    # Glorot/Xavier uniform: U(-c, c), c = sqrt(6 / (fan_in + fan_out)) has variance
    # 2 / (fan_in + fan_out)
    fan_in, fan_out = 300, 500
    torch.manual_seed(0)
    w = torch.nn.init.xavier_uniform_(torch.empty(fan_out, fan_in, dtype=F64))
    c = math.sqrt(6 / (fan_in + fan_out))
    assert w.abs().max().item() <= c
    target = 2 / (fan_in + fan_out)
    se = (w**2).std().item() / w.numel() ** 0.5
    assert abs(w.var().item() - target) < 6 * se


@pytest.mark.card("p1-uniform-moments")
def test_uniform_moments():
    a, b = -2.0, 5.0
    dist = D.Uniform(torch.tensor(a, dtype=F64), torch.tensor(b, dtype=F64))
    assert_torch_moments(dist, (a + b) / 2, (b - a) ** 2 / 12)
    assert_sample_moments(dist, (a + b) / 2, (b - a) ** 2 / 12)
    c = 0.7  # U(-c, c) has variance c^2 / 3
    assert D.Uniform(-c, c).variance.item() == pytest.approx(c**2 / 3)


def gaussian_pdf(x, mu, sigma2):
    return torch.exp(-((x - mu) ** 2) / (2 * sigma2)) / torch.sqrt(2 * math.pi * sigma2)


@pytest.mark.card("p1-gaussian-pdf")
def test_gaussian_pdf():
    x = torch.linspace(-6, 8, 101, dtype=F64)
    for mu, sigma in [(0.0, 1.0), (1.5, 0.3), (-2.0, 2.5)]:
        card = gaussian_pdf(x, torch.tensor(mu, dtype=F64), torch.tensor(sigma**2, dtype=F64))
        assert torch.allclose(card, D.Normal(mu, sigma).log_prob(x).exp())


@pytest.mark.card("p1-gaussian-moments")
def test_gaussian_moments():
    mu, sigma = 1.2, 0.8
    dist = D.Normal(torch.tensor(mu, dtype=F64), torch.tensor(sigma, dtype=F64))
    assert_torch_moments(dist, mu, sigma**2)
    assert_sample_moments(dist, mu, sigma**2)
    # by quadrature of the PDF
    x = torch.linspace(mu - 12 * sigma, mu + 12 * sigma, 200_001, dtype=F64)
    pdf = gaussian_pdf(x, torch.tensor(mu, dtype=F64), torch.tensor(sigma**2, dtype=F64))
    assert torch.trapezoid(x * pdf, x).item() == pytest.approx(mu)
    assert torch.trapezoid((x - mu) ** 2 * pdf, x).item() == pytest.approx(sigma**2)


@pytest.mark.card("p1-gaussian-nll-mse")
def test_gaussian_nll_is_scaled_squared_error():
    torch.manual_seed(0)
    y, f = torch.randn(50, dtype=F64), torch.randn(50, dtype=F64)
    sigma = 0.7
    card = (y - f) ** 2 / (2 * sigma**2) + 0.5 * math.log(2 * math.pi * sigma**2)
    assert torch.allclose(card, -D.Normal(f, sigma).log_prob(y))
    # same minimiser as MSE: gradients w.r.t. f are proportional
    f1 = f.clone().requires_grad_()
    (-D.Normal(f1, sigma).log_prob(y)).sum().backward()
    f2 = f.clone().requires_grad_()
    torch.nn.functional.mse_loss(f2, y, reduction="sum").backward()
    assert torch.allclose(f1.grad, f2.grad / (2 * sigma**2))


@pytest.mark.card("p1-exponential-pdf")
def test_exponential_pdf():
    lam = 1.7
    x = torch.linspace(0, 10, 101, dtype=F64)
    assert torch.allclose(
        D.Exponential(torch.tensor(lam, dtype=F64)).log_prob(x).exp(), lam * torch.exp(-lam * x)
    )
    # waiting time to the first event of a Poisson process: P(T > t) = P(no event in [0, t])
    t = 0.9
    p_none = (
        D.Poisson(torch.tensor(lam * t, dtype=F64)).log_prob(torch.tensor(0.0, dtype=F64)).exp()
    )
    assert 1 - D.Exponential(torch.tensor(lam, dtype=F64)).cdf(
        torch.tensor(t, dtype=F64)
    ) == pytest.approx(p_none.item())


@pytest.mark.card("p1-exponential-moments")
def test_exponential_moments():
    lam = 2.5
    dist = D.Exponential(torch.tensor(lam, dtype=F64))
    assert_torch_moments(dist, 1 / lam, 1 / lam**2)
    assert_sample_moments(dist, 1 / lam, 1 / lam**2)


@pytest.mark.card("p1-exponential-memoryless")
def test_exponential_memoryless():
    lam = 0.8
    dist = D.Exponential(torch.tensor(lam, dtype=F64))

    def survival(t):
        return 1 - dist.cdf(torch.tensor(t, dtype=F64))

    for s, t in [(0.5, 1.0), (2.0, 0.3), (4.0, 3.0)]:
        assert (survival(s + t) / survival(s)).item() == pytest.approx(survival(t).item())
        assert survival(t).item() == pytest.approx(math.exp(-lam * t))
    torch.manual_seed(0)
    x = dist.sample((N_SAMPLES,))
    s, t = 1.0, 0.5
    tail = x[x > s]
    cond = (tail > s + t).to(F64).mean().item()
    p = math.exp(-lam * t)
    assert abs(cond - p) < 6 * (p * (1 - p) / tail.numel()) ** 0.5


def random_spd(d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, d, generator=g, dtype=F64)
    return A @ A.T + 0.3 * torch.eye(d, dtype=F64)


@pytest.mark.card("p1-multivariate-gaussian-pdf")
@pytest.mark.card("p1-multivariate-gaussian-log-pdf")
def test_multivariate_gaussian_pdf_against_torch():
    d = 4
    Sigma = random_spd(d, 0)
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(d, generator=g, dtype=F64)
    x = torch.randn(30, d, generator=g, dtype=F64) * 2
    ref = D.MultivariateNormal(mu, covariance_matrix=Sigma).log_prob(x)

    diff = x - mu
    quad = ((diff @ torch.linalg.inv(Sigma)) * diff).sum(1)
    pdf = torch.exp(-0.5 * quad) / ((2 * math.pi) ** (d / 2) * torch.linalg.det(Sigma) ** 0.5)
    assert torch.allclose(pdf, ref.exp())

    # log-density via Cholesky, as the card's explanation recommends
    L = torch.linalg.cholesky(Sigma)
    sol = torch.linalg.solve_triangular(L, diff.T, upper=False)
    logdet = 2 * torch.log(L.diagonal()).sum()
    log_pdf = -0.5 * ((sol**2).sum(0) + logdet + d * math.log(2 * math.pi))
    assert torch.allclose(log_pdf, ref)


@pytest.mark.card("p1-multivariate-gaussian-pdf")
def test_multivariate_gaussian_reduces_to_univariate():
    mu, s2 = 0.4, 1.9
    x = torch.linspace(-3, 3, 13, dtype=F64)[:, None]
    mvn = D.MultivariateNormal(torch.tensor([mu], dtype=F64), torch.tensor([[s2]], dtype=F64))
    assert torch.allclose(
        mvn.log_prob(x).exp(),
        gaussian_pdf(x[:, 0], torch.tensor(mu, dtype=F64), torch.tensor(s2, dtype=F64)),
    )


@pytest.mark.card("p1-68-95-99-rule")
def test_68_95_99_7_rule():
    std = D.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    card = {1: 68.3, 2: 95.4, 3: 99.7}
    torch.manual_seed(0)
    mu, sigma = 3.0, 2.0
    x = D.Normal(mu, sigma).sample((N_SAMPLES,)).to(F64)
    for k, pct in card.items():
        kk = torch.tensor(float(k), dtype=F64)
        p = (std.cdf(kk) - std.cdf(-kk)).item()
        assert round(100 * p, 1) == pct
        assert p == pytest.approx(math.erf(k / math.sqrt(2)))
        freq = ((x - mu).abs() <= k * sigma).to(F64).mean().item()
        assert abs(freq - p) < 6 * (p * (1 - p) / N_SAMPLES) ** 0.5
    # the exact 95% two-sided quantile is 1.96, not 2
    assert std.icdf(torch.tensor(0.975, dtype=F64)).item() == pytest.approx(1.96, abs=5e-3)
