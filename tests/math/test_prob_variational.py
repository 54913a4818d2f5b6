"""Numeric checks for Part 1 sections 1.10 (importance sampling), 1.11 (closed-form Gaussian KL)
and 1.12 (variational inference and the ELBO)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import distributions as D

F64 = torch.float64


def normal(mu: float, sigma: float) -> D.Normal:
    return D.Normal(torch.tensor(mu, dtype=F64), torch.tensor(sigma, dtype=F64))


# ---------------------------------------------------------------- 1.10 importance sampling


@pytest.mark.card("p1-importance-sampling")
def test_importance_sampling_is_unbiased():
    torch.manual_seed(0)
    p, q = normal(0.0, 1.0), normal(0.5, 1.5)
    f = lambda x: x**2 + torch.sin(3 * x)  # noqa: E731  E_p[f] = 1 (sin is odd)
    exact = 1.0
    reps, N = 4000, 50  # many independent small-N estimates: their mean must hit the truth
    x = q.sample((reps, N))
    estimates = (torch.exp(p.log_prob(x) - q.log_prob(x)) * f(x)).mean(1)
    se = estimates.std().item() / math.sqrt(reps)
    assert abs(estimates.mean().item() - exact) < 5 * se
    # direct Monte Carlo from p agrees
    direct = f(p.sample((200_000,)))
    assert abs(direct.mean().item() - exact) < 5 * direct.std().item() / math.sqrt(200_000)


@pytest.mark.card("p1-importance-weight")
def test_importance_weights_average_to_one():
    torch.manual_seed(0)
    p, q = normal(1.0, 0.7), normal(0.0, 2.0)
    x = q.sample((200_000,))
    w = torch.exp(p.log_prob(x) - q.log_prob(x))
    assert abs(w.mean().item() - 1.0) < 5 * w.std().item() / math.sqrt(w.numel())
    # exactly, by quadrature: ∫ (p/q) q dx = ∫ p dx = 1
    grid = torch.linspace(-30, 30, 600_001, dtype=F64)
    wq = torch.exp(p.log_prob(grid) - q.log_prob(grid)) * q.log_prob(grid).exp()
    assert torch.trapezoid(wq, grid).item() == pytest.approx(1.0)


@pytest.mark.card("p1-self-normalized-importance-sampling")
def test_self_normalised_importance_sampling_cancels_the_constant():
    torch.manual_seed(0)
    q = normal(0.0, 2.0)
    x = q.sample((200_000,))
    f = x**2  # E_p[x^2] = 1 under p = N(0, 1)
    estimates = []
    for Z in [1.0, 7.0, 1e-3]:
        p_tilde = Z * torch.exp(-(x**2) / 2)  # unnormalised N(0, 1)
        w = p_tilde / q.log_prob(x).exp()
        estimates.append(((w * f).sum() / w.sum()).item())
    assert estimates[0] == pytest.approx(estimates[1]) == pytest.approx(estimates[2])
    assert estimates[0] == pytest.approx(1.0, abs=0.02)  # consistent: close for large N
    # biased for small N: the average of many N = 2 estimates is off
    x2 = q.sample((400_000, 2))
    w2 = torch.exp(-(x2**2) / 2) / q.log_prob(x2).exp()
    small = (w2 * x2**2).sum(1) / w2.sum(1)
    assert abs(small.mean().item() - 1.0) > 10 * small.std().item() / math.sqrt(small.numel())


@pytest.mark.card("p1-importance-sampling-variance")
def test_second_moment_of_weights_explodes_for_light_tailed_proposal():
    p = normal(0.0, 1.0)

    def second_moment(s: float, half_width: float) -> float:
        grid = torch.linspace(-half_width, half_width, 400_001, dtype=F64)
        q = normal(0.0, s)
        # E_q[w^2] = ∫ p^2 / q dx
        return torch.trapezoid(torch.exp(2 * p.log_prob(grid) - q.log_prob(grid)), grid).item()

    for s2 in [0.6, 1.0, 2.0, 5.0]:
        s = math.sqrt(s2)
        assert second_moment(s, 60.0) == pytest.approx(s2 / math.sqrt(2 * s2 - 1), rel=1e-6)
    # s^2 = 0.4 <= 1/2: the integral grows without bound as the range widens
    s = math.sqrt(0.4)
    values = [second_moment(s, L) for L in (5.0, 10.0, 15.0)]
    assert values[0] < values[1] < values[2] and values[2] > 1e10
    # it is the tails, not the size of the divergence: N(0, 1/2) is closer to p in KL than N(3, 9),
    # yet only the wider N(3, 9) gives a finite second moment
    assert D.kl_divergence(p, normal(0.0, math.sqrt(0.5))) < D.kl_divergence(p, normal(3.0, 3.0))
    # at s^2 = 1/2 exactly p^2 / q is constant: the integral grows linearly with the range
    assert second_moment(math.sqrt(0.5), 20.0) == pytest.approx(
        2 * second_moment(math.sqrt(0.5), 10.0)
    )
    grid = torch.linspace(-60, 60, 400_001, dtype=F64)
    far = torch.exp(2 * p.log_prob(grid) - normal(3.0, 3.0).log_prob(grid))
    assert torch.trapezoid(far, grid).item() < 100
    # a heavier-tailed but badly placed proposal still has a finite second moment
    q = D.StudentT(torch.tensor(3.0, dtype=F64), torch.tensor(3.0, dtype=F64))
    assert torch.trapezoid(torch.exp(2 * p.log_prob(grid) - q.log_prob(grid)), grid).item() < 100
    # ... but a poor fit can still be costly: s = 100 gives
    # E_q[w^2] = s^2 / sqrt(2 s^2 - 1) ≈ s / sqrt 2 ≈ 71
    assert second_moment(100.0, 4000.0) == pytest.approx(70.7, abs=0.1)
    # Bounded weights: p / q <= M gives ∫ p^2 f^2 / q <= M E_p[f^2]
    # (here q = N(0, 4), M = 2, f = x^2).
    q4 = normal(0.0, 2.0)
    log_w = p.log_prob(grid) - q4.log_prob(grid)
    assert log_w.exp().max().item() == pytest.approx(2.0)
    f = grid**2
    lhs = torch.trapezoid(f**2 * torch.exp(2 * p.log_prob(grid) - q4.log_prob(grid)), grid).item()
    assert lhs <= 2.0 * 3.0  # E_p[x^4] = 3

    # Not safe for every f: f = exp(7 x^2 / 16) has finite E_p[f] but E_p[f^2] = ∞, and under the
    # heavier q = N(0, 4) the integrand f^2 p^2 / q is constant, so the variance is infinite.
    def f2p2_over_q(half_width: float) -> float:
        x = torch.linspace(-half_width, half_width, 200_001, dtype=F64)
        return torch.trapezoid(
            torch.exp(7 * x**2 / 8 + 2 * p.log_prob(x) - q4.log_prob(x)), x
        ).item()

    assert f2p2_over_q(20.0) == pytest.approx(2 * f2p2_over_q(10.0))
    # E_p[f^2] < ∞ is sufficient, not necessary: f = exp(x^2 / 4) has E_p[f^2] = ∞, yet under
    # a Cauchy q, f^2 p^2 / q = exp(-x^2 / 2) (1 + x^2) / 2, whose integral is sqrt(2 pi).
    cauchy = D.Cauchy(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    x = torch.linspace(-60, 60, 400_001, dtype=F64)
    finite = torch.trapezoid(torch.exp(x**2 / 2 + 2 * p.log_prob(x) - cauchy.log_prob(x)), x).item()
    assert finite == pytest.approx(math.sqrt(2 * math.pi))
    x = torch.linspace(-60, 60, 400_001, dtype=F64)
    assert torch.trapezoid(torch.exp(7 * x**2 / 16 + p.log_prob(x)), x).item() == pytest.approx(
        2 * math.sqrt(2)
    )


@pytest.mark.card("p1-optimal-importance-proposal")
def test_optimal_proposal_gives_zero_variance():
    torch.manual_seed(0)
    p = normal(0.0, 1.0)
    f = lambda x: x**2  # noqa: E731
    grid = torch.linspace(-40, 40, 800_001, dtype=F64)
    Z = torch.trapezoid(f(grid).abs() * p.log_prob(grid).exp(), grid)  # = E_p|f| = 1
    # q*(x) ∝ x^2 N(x; 0, 1) is the law of ±sqrt(chi^2_3)
    r = D.Chi2(torch.tensor(3.0, dtype=F64)).sample((50_000,)).sqrt()
    x = r * torch.where(torch.rand(50_000) < 0.5, -1.0, 1.0).to(F64)
    q_star = f(x).abs() * p.log_prob(x).exp() / Z
    terms = p.log_prob(x).exp() / q_star * f(x)
    assert torch.allclose(terms, torch.full_like(terms, Z.item()))
    # and the samples really follow q*: E_{q*}[x^2] = E_p[x^4] / E_p[x^2] = 3
    assert abs((x**2).mean().item() - 3.0) < 5 * (x**2).std().item() / math.sqrt(x.numel())


@pytest.mark.card("p1-effective-sample-size")
def test_effective_sample_size_limits():
    def ess(w):
        return (w.sum() ** 2 / (w**2).sum()).item()

    N = 1000
    assert ess(torch.full((N,), 0.37, dtype=F64)) == pytest.approx(N)
    w = torch.full((N,), 1e-9, dtype=F64)
    w[0] = 1.0
    assert ess(w) == pytest.approx(1.0, rel=1e-4)
    # a proposal matching the target gives ESS near N, a poor one much less
    torch.manual_seed(0)
    p = normal(0.0, 1.0)
    for q, lo, hi in [(normal(0.0, 1.0), N, N), (normal(3.0, 1.0), 1, N / 10)]:
        x = q.sample((N,))
        e = ess(torch.exp(p.log_prob(x) - q.log_prob(x)))
        assert lo - 1e-6 <= e <= hi + 1e-6


# ---------------------------------------------------------------- 1.11 Gaussian KL


def gaussian_kl(mu0, S0, mu1, S1) -> torch.Tensor:
    """The card's closed form."""
    d = mu0.shape[0]
    S1_inv = torch.linalg.inv(S1)
    diff = mu1 - mu0
    return 0.5 * (
        torch.trace(S1_inv @ S0) + diff @ S1_inv @ diff - d + torch.logdet(S1) - torch.logdet(S0)
    )


def random_spd(d: int, g: torch.Generator) -> torch.Tensor:
    A = torch.randn(d, d, generator=g, dtype=F64)
    return A @ A.T / d + 0.5 * torch.eye(d, dtype=F64)


@pytest.mark.card("p1-gaussian-kl-multivariate")
def test_multivariate_gaussian_kl_against_torch_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    d = 3
    for _ in range(5):
        mu0, mu1 = torch.randn(d, generator=g, dtype=F64), torch.randn(d, generator=g, dtype=F64)
        S0, S1 = random_spd(d, g), random_spd(d, g)
        card = gaussian_kl(mu0, S0, mu1, S1)
        p0, p1 = D.MultivariateNormal(mu0, S0), D.MultivariateNormal(mu1, S1)
        assert torch.isclose(card, D.kl_divergence(p0, p1))
        assert not torch.isclose(card, D.kl_divergence(p1, p0))  # not symmetric
    torch.manual_seed(0)
    x = p0.sample((200_000,))
    log_ratio = p0.log_prob(x) - p1.log_prob(x)
    se = log_ratio.std() / math.sqrt(x.shape[0])
    assert (log_ratio.mean() - card).abs() < 5 * se
    assert gaussian_kl(mu0, S0, mu0, S0).abs() < 1e-12


@pytest.mark.card("p1-gaussian-kl-univariate")
def test_univariate_gaussian_kl():
    for mu1, s1, mu2, s2 in [(0.0, 1.0, 1.0, 0.5), (2.0, 0.3, -1.0, 3.0), (0.5, 2.0, 0.5, 2.0)]:
        card = math.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5
        ref = D.kl_divergence(normal(mu1, s1), normal(mu2, s2)).item()
        assert card == pytest.approx(ref, abs=1e-12)
        general = gaussian_kl(
            torch.tensor([mu1], dtype=F64),
            torch.tensor([[s1**2]], dtype=F64),
            torch.tensor([mu2], dtype=F64),
            torch.tensor([[s2**2]], dtype=F64),
        )
        assert card == pytest.approx(general.item(), abs=1e-12)


@pytest.mark.card("p1-vae-kl")
def test_vae_kl_special_case():
    g = torch.Generator().manual_seed(1)
    d = 8
    mu = torch.randn(d, generator=g, dtype=F64)
    log_var = torch.randn(d, generator=g, dtype=F64)

    def card_kl(mu, log_var):  # the card's formula, as written on it
        return -0.5 * (1 + log_var - mu**2 - log_var.exp()).sum()

    card = card_kl(mu, log_var)
    general = gaussian_kl(
        mu, torch.diag(log_var.exp()), torch.zeros(d, dtype=F64), torch.eye(d, dtype=F64)
    )
    q = D.Independent(D.Normal(mu, (0.5 * log_var).exp()), 1)
    prior = D.Independent(D.Normal(torch.zeros(d, dtype=F64), torch.ones(d, dtype=F64)), 1)
    assert torch.isclose(card, general)
    assert torch.isclose(card, D.kl_divergence(q, prior))
    zeros = torch.zeros(d, dtype=F64)  # q = prior (mu = 0, sigma = 1) gives zero, as torch agrees
    same = D.Independent(D.Normal(zeros, torch.ones(d, dtype=F64)), 1)
    assert card_kl(zeros, zeros) == 0 == D.kl_divergence(same, prior)


# ---------------------------------------------------------------- 1.12 VI and the ELBO


def discrete_model(K: int = 6, seed: int = 0):
    """A latent z in {0..K-1} and one observed x: returns log p(z), and log p(x | z) at the
    observed x."""
    g = torch.Generator().manual_seed(seed)
    log_prior = torch.log_softmax(torch.randn(K, generator=g, dtype=F64), 0)
    log_lik = torch.log(torch.rand(K, generator=g, dtype=F64) * 0.9 + 0.05)
    return log_prior, log_lik


def discrete_quantities(log_q, log_prior, log_lik):
    q = log_q.exp()
    log_joint = log_prior + log_lik
    log_evidence = torch.logsumexp(log_joint, 0)
    log_post = log_joint - log_evidence
    elbo = (q * (log_joint - log_q)).sum()
    kl_post = (q * (log_q - log_post)).sum()
    return elbo, log_evidence, kl_post, log_post


@pytest.mark.card("p1-posterior-intractable")
def test_discrete_latents_have_exact_posteriors_without_conjugacy():
    # HMM with K = 3 states, T = 6 Gaussian observations: the evidence sums K^T = 729 paths,
    # and forward-backward gets the same posterior marginals in O(T K^2) (Bishop PRML §13.2.2).
    g = torch.Generator().manual_seed(0)
    K, T = 3, 6
    init = torch.softmax(torch.randn(K, generator=g, dtype=F64), 0)
    trans = torch.softmax(torch.randn(K, K, generator=g, dtype=F64), 1)
    means = torch.tensor([-2.0, 0.0, 2.5], dtype=F64)
    x = torch.randn(T, generator=g, dtype=F64) * 2
    lik = normal(0.0, 1.0).log_prob(x[:, None] - means).exp()  # (T, K): p(x_t | z_t = k)
    # brute force over every path
    marg_bf, evidence_bf = torch.zeros(T, K, dtype=F64), torch.tensor(0.0, dtype=F64)
    for path in itertools.product(range(K), repeat=T):
        p = init[path[0]] * lik[0, path[0]]
        for t in range(1, T):
            p = p * trans[path[t - 1], path[t]] * lik[t, path[t]]
        evidence_bf = evidence_bf + p
        for t, k in enumerate(path):
            marg_bf[t, k] += p
    # forward-backward
    alpha, beta = torch.zeros(T, K, dtype=F64), torch.ones(T, K, dtype=F64)
    alpha[0] = init * lik[0]
    for t in range(1, T):
        alpha[t] = (alpha[t - 1] @ trans) * lik[t]
    for t in range(T - 2, -1, -1):
        beta[t] = trans @ (lik[t + 1] * beta[t + 1])
    evidence = alpha[-1].sum()
    assert torch.isclose(evidence, evidence_bf, rtol=1e-12)
    assert torch.allclose(alpha * beta / evidence, marg_bf / evidence_bf, atol=1e-12)


@pytest.mark.card("p1-elbo-identity")
@pytest.mark.card("p1-elbo-definition")
def test_elbo_identity_discrete_model():
    log_prior, log_lik = discrete_model()
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        log_q = torch.log_softmax(2 * torch.randn(6, generator=g, dtype=F64), 0)
        elbo, log_evidence, kl_post, _ = discrete_quantities(log_q, log_prior, log_lik)
        assert torch.isclose(log_evidence, elbo + kl_post)


@pytest.mark.card("p1-elbo-reconstruction-kl")
def test_elbo_reconstruction_minus_kl_discrete():
    log_prior, log_lik = discrete_model()
    log_q = torch.log_softmax(torch.randn(6, dtype=F64), 0)
    elbo, *_ = discrete_quantities(log_q, log_prior, log_lik)
    q = log_q.exp()
    recon = (q * log_lik).sum()
    kl_prior = D.kl_divergence(D.Categorical(logits=log_q), D.Categorical(logits=log_prior))
    assert torch.isclose(elbo, recon - kl_prior)


@pytest.mark.card("p1-elbo-jensen")
def test_elbo_is_a_lower_bound_tight_at_the_posterior():
    log_prior, log_lik = discrete_model(seed=2)
    g = torch.Generator().manual_seed(3)
    for _ in range(50):
        log_q = torch.log_softmax(3 * torch.randn(6, generator=g, dtype=F64), 0)
        elbo, log_evidence, _, _ = discrete_quantities(log_q, log_prior, log_lik)
        # log E_q[p(x,z)/q(z)] is exactly log p(x); the ELBO moves the log inside
        q = log_q.exp()
        assert torch.isclose(
            torch.log((q * torch.exp(log_prior + log_lik - log_q)).sum()), log_evidence
        )
        assert elbo <= log_evidence
    _, log_evidence, _, log_post = discrete_quantities(log_prior, log_prior, log_lik)
    elbo_at_post, *_ = discrete_quantities(log_post, log_prior, log_lik)
    assert torch.isclose(elbo_at_post, log_evidence)


@pytest.mark.card("p1-max-elbo-min-kl")
@pytest.mark.card("p1-variational-inference")
def test_maximising_elbo_recovers_the_posterior():
    log_prior, log_lik = discrete_model(seed=4)
    logits = torch.zeros(6, dtype=F64, requires_grad=True)
    # the gradients of ELBO and -KL(q || posterior) with respect to q's parameters coincide
    log_q = torch.log_softmax(logits, 0)
    elbo, _, kl_post, log_post = discrete_quantities(log_q, log_prior, log_lik)
    (g_elbo,) = torch.autograd.grad(elbo, logits, retain_graph=True)
    (g_kl,) = torch.autograd.grad(kl_post, logits)
    assert torch.allclose(g_elbo, -g_kl)
    opt = torch.optim.Adam([logits], lr=0.1)
    for _ in range(1500):
        opt.zero_grad()
        elbo, *_ = discrete_quantities(torch.log_softmax(logits, 0), log_prior, log_lik)
        (-elbo).backward()
        opt.step()
    _, _, kl_post, _ = discrete_quantities(torch.log_softmax(logits, 0), log_prior, log_lik)
    assert kl_post.item() < 1e-8
    assert torch.allclose(torch.softmax(logits, 0), log_post.exp(), atol=1e-4)


def conjugate_gaussian(x: float, s2: float, m: float, v: float):
    """z ~ N(0, 1), x | z ~ N(z, s2), q(z) = N(m, v): the ELBO in closed form."""
    e_log_lik = -0.5 * math.log(2 * math.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
    e_log_prior = -0.5 * math.log(2 * math.pi) - (m**2 + v) / 2
    entropy = 0.5 * math.log(2 * math.pi * math.e * v)
    return e_log_lik + e_log_prior + entropy, e_log_lik


@pytest.mark.card("p1-elbo-identity")
@pytest.mark.card("p1-elbo-reconstruction-kl")
@pytest.mark.card("p1-elbo-definition")
def test_elbo_identity_conjugate_gaussian():
    x, s2 = 1.3, 0.5
    log_evidence = normal(0.0, math.sqrt(1 + s2)).log_prob(torch.tensor(x, dtype=F64)).item()
    posterior = normal(x / (1 + s2), math.sqrt(s2 / (1 + s2)))
    torch.manual_seed(0)
    for m, v in [(0.0, 1.0), (1.0, 0.2), (-0.5, 2.0), (x / (1 + s2), s2 / (1 + s2))]:
        q = normal(m, math.sqrt(v))
        elbo, e_log_lik = conjugate_gaussian(x, s2, m, v)
        kl_post = D.kl_divergence(q, posterior).item()
        assert log_evidence == pytest.approx(elbo + kl_post, abs=1e-12)
        kl_prior = D.kl_divergence(q, normal(0.0, 1.0)).item()
        assert elbo == pytest.approx(e_log_lik - kl_prior, abs=1e-12)
        # Monte Carlo ELBO from samples of q, using only the joint p(x, z)
        z = q.sample((100_000,))
        xt = torch.tensor(x, dtype=F64)
        terms = (
            D.Normal(z, math.sqrt(s2)).log_prob(xt) + normal(0.0, 1.0).log_prob(z) - q.log_prob(z)
        )
        assert (
            abs(terms.mean().item() - elbo) < 5 * terms.std().item() / math.sqrt(z.numel()) + 1e-12
        )


@pytest.mark.card("p1-variational-inference")
def test_best_gaussian_q_is_the_exact_posterior_in_a_conjugate_model():
    x, s2 = -0.7, 0.3
    m = torch.zeros((), dtype=F64, requires_grad=True)
    log_v = torch.zeros((), dtype=F64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [m, log_v],
        max_iter=500,
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )

    def closure():  # maximise the closed-form ELBO of q = N(m, v); p(x) is never used
        opt.zero_grad()
        v = log_v.exp()
        e_log_lik = -0.5 * math.log(2 * math.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
        e_log_prior = -0.5 * math.log(2 * math.pi) - (m**2 + v) / 2
        entropy = 0.5 * (math.log(2 * math.pi * math.e) + log_v)
        loss = -(e_log_lik + e_log_prior + entropy)
        loss.backward()
        return loss

    opt.step(closure)
    assert m.item() == pytest.approx(x / (1 + s2), abs=1e-8)
    assert log_v.exp().item() == pytest.approx(s2 / (1 + s2), rel=1e-8)
