"""Numeric checks for the Part 1 information-theory cards (seed section 1.9)."""

from __future__ import annotations

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Dirichlet, MultivariateNormal, Normal, kl_divergence

DT = torch.float64


def entropy(p: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(p, p).sum(-1)


def kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return (torch.special.xlogy(p, p) - torch.special.xlogy(p, q)).sum(-1)


def cross_entropy(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(p, q).sum(-1)


def random_simplex(n: int, k: int, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return Dirichlet(torch.ones(k, dtype=DT)).sample((n,))


# ------------------------------------------------------------------------ 1.9.1 entropy


@pytest.mark.card("p1-entropy-definition")
def test_entropy_matches_torch_categorical():
    p = random_simplex(100, 6, seed=0)
    assert torch.allclose(entropy(p), Categorical(probs=p).entropy(), atol=1e-12)
    torch.manual_seed(1)
    samples = Categorical(probs=p[0]).sample((200_000,))
    mc = -torch.log(p[0][samples]).mean()  # E[-log p(X)]
    se = torch.log(p[0][samples]).std() / math.sqrt(len(samples))
    assert abs(mc - entropy(p[0])) < 4 * se


@pytest.mark.card("p1-entropy-bounds")
@pytest.mark.card("p1-entropy-max-uniform-proof")
def test_entropy_between_zero_and_log_n():
    n = 5
    p = random_simplex(1000, n, seed=2)
    h = entropy(p)
    assert torch.all(h >= 0) and torch.all(h <= math.log(n))
    uniform = torch.full((n,), 1 / n, dtype=DT)
    assert torch.isclose(entropy(uniform), torch.tensor(math.log(n), dtype=DT))
    assert entropy(torch.eye(n, dtype=DT)).abs().max() == 0  # deterministic: H = 0
    # H(p) = log n - KL(p || u)
    assert torch.allclose(h, math.log(n) - kl(p, uniform.expand_as(p)), atol=1e-12)


@pytest.mark.card("p1-entropy-units")
def test_entropy_units_bits_and_nats():
    coin = torch.tensor([0.5, 0.5], dtype=DT)
    nats = Categorical(probs=coin).entropy()  # torch uses the natural log
    bits = -(coin * torch.log2(coin)).sum()
    assert torch.isclose(nats, torch.tensor(math.log(2), dtype=DT))
    assert torch.isclose(bits, torch.tensor(1.0, dtype=DT))
    p = random_simplex(20, 7, seed=3)
    h_bits = -(torch.special.xlogy(p, p) / math.log(2)).sum(-1)
    assert torch.allclose(h_bits, entropy(p) / math.log(2))
    assert math.isclose(1 / math.log(2), 1.443, rel_tol=1e-3)


# ------------------------------------------------------------------------ 1.9.2 KL


@pytest.mark.card("p1-kl-definition")
def test_kl_matches_torch():
    p, q = random_simplex(50, 6, seed=4), random_simplex(50, 6, seed=5)
    ours = kl(p, q)
    assert torch.allclose(
        ours, kl_divergence(Categorical(probs=p), Categorical(probs=q)), atol=1e-12
    )
    assert torch.allclose(ours, F.kl_div(q.log(), p, reduction="none").sum(-1), atol=1e-12)
    # Monte Carlo: E_{x~p}[log p(x)/q(x)]
    torch.manual_seed(6)
    xs = Categorical(probs=p[0]).sample((200_000,))
    ratios = torch.log(p[0][xs] / q[0][xs])
    assert abs(ratios.mean() - ours[0]) < 4 * ratios.std() / math.sqrt(len(xs))


@pytest.mark.card("p1-kl-nonnegativity")
def test_kl_nonnegative_and_zero_iff_equal():
    p, q = random_simplex(2000, 5, seed=7), random_simplex(2000, 5, seed=8)
    d = kl(p, q)
    assert torch.all(d > 0)
    assert torch.allclose(kl(p, p), torch.zeros(2000, dtype=DT), atol=1e-15)
    # continuous case via torch.distributions
    same = kl_divergence(Normal(0.3, 1.2), Normal(0.3, 1.2))
    assert same.abs() < 1e-15 and kl_divergence(Normal(0.0, 1.0), Normal(0.1, 1.0)) > 0


def bernoulli_kl(a: float, b: float) -> float:
    return kl(torch.tensor([a, 1 - a], dtype=DT), torch.tensor([b, 1 - b], dtype=DT)).item()


@pytest.mark.card("p1-kl-asymmetry")
def test_kl_is_asymmetric_and_breaks_the_triangle_inequality():
    p, q = random_simplex(200, 4, seed=9), random_simplex(200, 4, seed=10)
    assert torch.all((kl(p, q) - kl(q, p)).abs() > 1e-6)
    direct = bernoulli_kl(0.1, 0.9)
    via = bernoulli_kl(0.1, 0.5) + bernoulli_kl(0.5, 0.9)
    assert direct > via
    assert round(direct, 2) == 1.76 and round(bernoulli_kl(0.1, 0.5), 2) == 0.37
    assert round(bernoulli_kl(0.5, 0.9), 2) == 0.51


@pytest.mark.card("p1-kl-infinite")
def test_kl_infinite_when_q_misses_support_of_p():
    p = torch.tensor([0.5, 0.5], dtype=DT)
    q = torch.tensor([1.0, 0.0], dtype=DT)
    assert torch.isinf(kl(p, q))
    assert torch.isinf(kl_divergence(Categorical(probs=p), Categorical(probs=q)))
    assert torch.isclose(kl(q, p), torch.tensor(math.log(2), dtype=DT))


@functools.cache
def fit_gaussian_by_grid(kl_direction: str):
    """Fit N(mu, sigma^2) to a bimodal p (modes at +-3, sd 0.5) by grid search on either KL."""
    x = torch.linspace(-12, 12, 1201, dtype=DT)
    dx = x[1] - x[0]
    p = 0.5 * Normal(-3.0, 0.5).log_prob(x).exp() + 0.5 * Normal(3.0, 0.5).log_prob(x).exp()
    mus = torch.linspace(-5, 5, 101, dtype=DT)
    sigmas = torch.linspace(0.2, 5.0, 49, dtype=DT)
    m, s = torch.meshgrid(mus, sigmas, indexing="ij")
    log_q = Normal(m[..., None], s[..., None]).log_prob(x)  # (mu, sigma, x)
    q = log_q.exp()
    log_p = torch.log(p.clamp_min(1e-300))
    if kl_direction == "forward":  # KL(p || q)
        div = (torch.special.xlogy(p, p) - p * log_q).sum(-1) * dx
    else:  # KL(q || p)
        div = (q * (log_q - log_p)).sum(-1) * dx
    i = torch.argmin(div)
    return m.flatten()[i].item(), s.flatten()[i].item(), p, x, dx


@pytest.mark.card("p1-forward-kl-mean-seeking")
def test_forward_kl_fit_covers_both_modes_by_moment_matching():
    mu, sigma, p, x, dx = fit_gaussian_by_grid("forward")
    mean = (x * p).sum() * dx
    sd = (((x - mean) ** 2 * p).sum() * dx).sqrt()
    assert abs(mu - mean.item()) <= 0.1 + 1e-9  # grid spacing of mu
    assert abs(sigma - sd.item()) <= 0.1 + 1e-9  # grid spacing of sigma
    assert abs(mu) < 0.2 and sigma > 2.5  # between the modes, wide


@pytest.mark.card("p1-reverse-kl-mode-seeking")
def test_reverse_kl_fit_locks_onto_one_mode():
    mu, sigma, *_ = fit_gaussian_by_grid("reverse")
    assert abs(abs(mu) - 3.0) < 0.15  # one of the modes
    assert abs(sigma - 0.5) < 0.1  # that mode's spread, not the mixture's


def kl_regularised_objective(pi, r, pi_ref, beta):
    return (pi * r).sum(-1) - beta * kl(pi, pi_ref)


@pytest.mark.card("p1-kl-rlhf-penalty")
def test_per_sample_penalised_reward_estimates_the_objective():
    torch.manual_seed(11)
    k, beta = 8, 0.3
    r = torch.randn(k, dtype=DT)
    pi_ref, pi = random_simplex(1, k, seed=12)[0], random_simplex(1, k, seed=13)[0]
    exact = kl_regularised_objective(pi, r, pi_ref, beta)
    ys = Categorical(probs=pi).sample((200_000,))
    per_sample = r[ys] - beta * torch.log(pi[ys] / pi_ref[ys])
    assert abs(per_sample.mean() - exact) < 4 * per_sample.std() / math.sqrt(len(ys))
    assert kl_regularised_objective(pi_ref, r, pi_ref, beta) == (pi_ref * r).sum()  # no penalty


def optimal_policy(pi_ref: torch.Tensor, r: torch.Tensor, beta: float):
    """The card's closed form pi* = pi_ref exp(r / beta) / Z, and its partition function Z."""
    z = (pi_ref * torch.exp(r / beta)).sum()
    return pi_ref * torch.exp(r / beta) / z, z


@pytest.mark.card("p1-kl-rlhf-optimal-policy")
def test_optimal_policy_of_kl_regularised_objective():
    torch.manual_seed(14)
    k, beta = 8, 2.0
    r = torch.randn(k, dtype=DT)
    pi_ref = random_simplex(1, k, seed=15)[0]
    pi_star, z = optimal_policy(pi_ref, r, beta)
    best = kl_regularised_objective(pi_star, r, pi_ref, beta)
    assert torch.isclose(best, beta * torch.log(z))
    others = random_simplex(2000, k, seed=16)
    values = kl_regularised_objective(others, r, pi_ref, beta)
    assert torch.all(values < best)
    assert torch.allclose(values, beta * torch.log(z) - beta * kl(others, pi_star), atol=1e-12)
    # gradient ascent on softmax logits finds the same policy
    logits = torch.zeros(k, dtype=DT, requires_grad=True)
    for _ in range(400):  # plain gradient ascent on softmax logits
        objective = kl_regularised_objective(torch.softmax(logits, 0), r, pi_ref, beta)
        (g,) = torch.autograd.grad(objective, logits)
        logits = (logits + 4.0 * g).detach().requires_grad_()
    assert torch.allclose(torch.softmax(logits, 0), pi_star, atol=1e-10)


@pytest.mark.card("p1-kl-dpo-implicit")
def test_dpo_implicit_reward_partition_function_cancels():
    torch.manual_seed(17)
    k, beta = 6, 0.2
    r = torch.randn(k, dtype=DT)
    pi_ref = random_simplex(1, k, seed=18)[0]
    pi_star, z = optimal_policy(pi_ref, r, beta)
    implicit = beta * torch.log(pi_star / pi_ref)  # the reward without the beta log Z term
    assert torch.allclose(implicit + beta * torch.log(z), r, atol=1e-12)
    for winner, loser in [(0, 1), (2, 5), (4, 3)]:
        bt_true = torch.sigmoid(r[winner] - r[loser])
        bt_dpo = torch.sigmoid(implicit[winner] - implicit[loser])
        assert torch.isclose(bt_true, bt_dpo)


# ------------------------------------------------------------------------ 1.9.3 cross-entropy


@pytest.mark.card("p1-cross-entropy-definition")
@pytest.mark.card("p1-cross-entropy-decomposition")
def test_cross_entropy_is_entropy_plus_kl_and_matches_pytorch():
    torch.manual_seed(19)
    logits = torch.randn(64, 10, dtype=DT)
    q = torch.softmax(logits, -1)
    p = random_simplex(64, 10, seed=20)  # soft targets
    ce = cross_entropy(p, q)
    assert torch.allclose(ce, entropy(p) + kl(p, q), atol=1e-12)
    assert torch.allclose(ce, F.cross_entropy(logits, p, reduction="none"), atol=1e-12)
    assert torch.all(ce >= entropy(p))


@pytest.mark.card("p1-cross-entropy-one-hot")
def test_one_hot_cross_entropy_is_nll_and_its_minimiser_is_the_mle():
    torch.manual_seed(21)
    logits = torch.randn(32, 5, dtype=DT)
    labels = torch.randint(5, (32,))
    q = torch.softmax(logits, -1)
    one_hot = F.one_hot(labels, 5).to(DT)
    nll = -torch.log(q[torch.arange(32), labels])
    assert torch.allclose(entropy(one_hot), torch.zeros(32, dtype=DT))
    assert torch.allclose(cross_entropy(one_hot, q), nll)
    assert torch.allclose(kl(one_hot, q), nll)
    assert torch.allclose(F.cross_entropy(logits, labels, reduction="none"), nll)
    assert torch.allclose(-Categorical(logits=logits).log_prob(labels), nll)
    # the mean CE of a categorical q on data is minimised at the empirical frequencies (the MLE)
    data = torch.tensor([0] * 5 + [1] * 3 + [2] * 2)

    def mean_ce(theta: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(theta.expand(len(data), 3), data)

    freq = torch.bincount(data).to(DT) / len(data)
    at_mle = freq.log().requires_grad_()
    (g,) = torch.autograd.grad(mean_ce(at_mle), at_mle)
    assert torch.allclose(g, torch.zeros(3, dtype=DT), atol=1e-12)  # stationary
    others = torch.log_softmax(torch.randn(500, 3, dtype=DT), -1)
    ce_others = -(freq * others).sum(-1)  # mean CE of each candidate q on the data
    assert torch.all(ce_others > mean_ce(at_mle))
    assert torch.isclose(mean_ce(at_mle), entropy(freq))  # the floor: H(empirical)


@pytest.mark.card("p1-cross-entropy-one-hot")
def test_label_smoothing_floor_is_entropy_of_the_soft_target():
    eps, k = 0.1, 5
    labels = torch.tensor([2])
    soft = torch.full((1, k), eps / k, dtype=DT)
    soft[0, 2] += 1 - eps
    loss_at_target = F.cross_entropy(soft.log(), labels, label_smoothing=eps)
    assert torch.isclose(loss_at_target, entropy(soft)[0])  # the floor is H(p) > 0
    torch.manual_seed(22)
    other = torch.randn(200, k, dtype=DT)
    losses = F.cross_entropy(other, labels.expand(200), label_smoothing=eps, reduction="none")
    assert torch.all(losses > loss_at_target)


@pytest.mark.card("p1-perplexity")
@pytest.mark.card("p1-perplexity-uniform")
def test_perplexity_is_exp_of_cross_entropy():
    torch.manual_seed(23)
    n_tokens, vocab = 50, 100
    logits = torch.randn(n_tokens, vocab, dtype=DT)
    tokens = torch.randint(vocab, (n_tokens,))
    ce = F.cross_entropy(logits, tokens)
    probs = torch.softmax(logits, -1)[torch.arange(n_tokens), tokens]
    ppl = torch.exp(-torch.log(probs).mean())
    assert torch.isclose(ppl, torch.exp(ce))
    assert torch.isclose(ppl, (1 / probs).prod() ** (1 / n_tokens))  # geometric mean of 1/q
    ce_bits = -torch.log2(probs).mean()
    assert torch.isclose(ppl, 2**ce_bits)
    uniform_ce = F.cross_entropy(torch.zeros(n_tokens, vocab, dtype=DT), tokens)
    assert torch.isclose(torch.exp(uniform_ce), torch.tensor(float(vocab), dtype=DT))
    perfect = F.cross_entropy(F.one_hot(tokens, vocab).to(DT) * 1e3, tokens)
    assert torch.isclose(torch.exp(perfect), torch.tensor(1.0, dtype=DT))


# ------------------------------------------------------------------------ 1.9.4 MI


def mutual_information(joint: torch.Tensor) -> torch.Tensor:
    px, py = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    return (torch.special.xlogy(joint, joint) - torch.special.xlogy(joint, px * py)).sum()


@pytest.mark.card("p1-mutual-information-definition")
@pytest.mark.card("p1-mutual-information-entropies")
def test_mutual_information_three_ways():
    joint = random_simplex(1, 12, seed=24)[0].reshape(4, 3)
    px, py = joint.sum(1), joint.sum(0)
    mi = mutual_information(joint)
    by_entropies = entropy(px) + entropy(py) - entropy(joint.flatten())
    h_x_given_y = -(torch.special.xlogy(joint, joint / py)).sum()
    by_kl = kl_divergence(
        Categorical(probs=joint.flatten()), Categorical(probs=torch.outer(px, py).flatten())
    )
    assert torch.isclose(mi, by_entropies)
    assert torch.isclose(mi, entropy(px) - h_x_given_y)
    assert torch.isclose(mi, by_kl)
    assert mi > 0


@pytest.mark.card("p1-mutual-information-independence")
def test_mutual_information_zero_iff_independent_and_not_just_uncorrelated():
    for seed in range(20):
        px, py = random_simplex(1, 4, seed=100 + seed)[0], random_simplex(1, 3, seed=200 + seed)[0]
        assert mutual_information(torch.outer(px, py)).abs() < 1e-14
        dependent = random_simplex(1, 12, seed=300 + seed)[0].reshape(4, 3)
        assert mutual_information(dependent) > 1e-6
    # X uniform on {-1, 0, 1}, Y = X^2: uncorrelated but dependent
    xs = torch.tensor([-1.0, 0.0, 1.0], dtype=DT)
    ys = xs**2
    cov = (xs * ys).mean() - xs.mean() * ys.mean()
    joint = torch.zeros(3, 2, dtype=DT)  # rows: x, columns: y in {0, 1}
    for i, y in enumerate(ys):
        joint[i, int(y)] = 1 / 3
    assert cov == 0
    assert torch.isclose(mutual_information(joint), entropy(joint.sum(0)))
    assert mutual_information(joint) > 0.6


@pytest.mark.card("p1-mutual-information-infonce")
def test_infonce_is_a_lower_bound_capped_at_log_n():
    torch.manual_seed(25)
    rho = 0.9
    true_mi = -0.5 * math.log(1 - rho**2)  # for a bivariate Gaussian
    joint = MultivariateNormal(
        torch.zeros(2, dtype=DT), torch.tensor([[1.0, rho], [rho, 1.0]], dtype=DT)
    )
    conditional_sd = math.sqrt(1 - rho**2)

    def critic(x, y):  # optimal critic log p(y|x) - log p(y), for all pairs in each batch
        return Normal(rho * x[..., :, None], conditional_sd).log_prob(y[..., None, :]) - Normal(
            0.0, 1.0
        ).log_prob(y[..., None, :])

    batches = 200
    for n in (2, 16, 64):
        xy = joint.sample((batches, n))
        scores = critic(xy[..., 0], xy[..., 1])  # (batches, n, n), positives on the diagonal
        losses = (
            F.cross_entropy(
                scores.reshape(-1, n), torch.arange(n).repeat(batches), reduction="none"
            )
            .reshape(batches, n)
            .mean(1)
        )
        bounds = math.log(n) - losses
        mean, se = bounds.mean(), bounds.std() / math.sqrt(batches)
        assert mean <= true_mi + 4 * se
        assert torch.all(bounds <= math.log(n) + 1e-12)
    assert math.log(2) < true_mi  # with N = 2 the bound cannot reach the true MI
    assert mean > 0.8 * true_mi  # with N = 64 it comes close
    # The optimal critic is defined up to + c(x): a function of x alone cancels in the softmax
    # over the candidates y_j; a function of y does not.
    rows = scores.reshape(-1, n)
    labels = torch.arange(n).repeat(batches)
    shift_x = torch.sin(3 * xy[..., 0]).reshape(-1, 1)  # c(x_i), constant along row i
    shift_y = torch.sin(3 * xy[..., 1]).repeat_interleave(n, 0)  # g(y_j), varies along the row
    base = F.cross_entropy(rows, labels)
    assert torch.isclose(F.cross_entropy(rows + shift_x, labels), base)
    assert not torch.isclose(F.cross_entropy(rows + shift_y, labels), base)


@pytest.mark.card("p1-mutual-information-feature-selection")
def test_mutual_information_ranks_a_nonlinear_feature_that_correlation_misses():
    torch.manual_seed(26)
    n = 20_000
    x1, x2 = torch.randn(n, dtype=DT), torch.randn(n, dtype=DT)
    y = (x1.abs() > 0.8).long()  # depends on x1 only, and symmetrically

    def plug_in_mi(feature: torch.Tensor, bins: int = 10) -> torch.Tensor:
        edges = torch.quantile(feature, torch.linspace(0, 1, bins + 1, dtype=DT)[1:-1])
        binned = torch.bucketize(feature, edges)
        joint = torch.zeros(bins, 2, dtype=DT)
        joint.index_put_((binned, y), torch.ones(n, dtype=DT), accumulate=True)
        return mutual_information(joint / n)

    corr = torch.corrcoef(torch.stack([x1, y.to(DT)]))[0, 1]
    assert corr.abs() < 0.03  # correlation sees nothing
    mi1, mi2 = plug_in_mi(x1), plug_in_mi(x2)
    assert mi1 > 0.3
    assert mi2 < 0.005  # plug-in bias is about (bins-1)/(2n) ~ 2e-4
    assert mi1 > 50 * mi2


# ------------------------------------------------------------------------ 1.9.5 Jensen


@pytest.mark.card("p1-jensen-inequality")
def test_jensen_on_convex_and_concave_functions_by_sampling():
    torch.manual_seed(27)
    for sampler in (
        lambda: torch.randn(5000, dtype=DT),
        lambda: torch.rand(5000, dtype=DT) * 4 - 1,
    ):
        x = sampler()
        for convex in (torch.exp, torch.square, F.softplus, torch.abs):
            assert convex(x.mean()) <= convex(x).mean()
        positive = x.abs() + 0.1
        assert torch.log(positive.mean()) >= torch.log(positive).mean()  # concave: reversed
        assert torch.isclose(3 * x.mean() + 1, (3 * x + 1).mean())  # affine: equality
    constant = torch.full((100,), 0.7, dtype=DT)
    assert torch.isclose(torch.exp(constant.mean()), torch.exp(constant).mean())


@pytest.mark.card("p1-jensen-kl-nonnegativity-proof")
def test_each_step_of_the_jensen_proof_of_kl_nonnegativity():
    for seed in range(50):
        p = random_simplex(1, 6, seed=400 + seed)[0]
        p[seed % 6] = 0.0  # p has a zero, so its support is smaller than q's
        p = p / p.sum()
        q = random_simplex(1, 6, seed=500 + seed)[0]
        support = p > 0
        minus_kl = (p[support] * torch.log(q[support] / p[support])).sum()
        jensen_rhs = torch.log((p[support] * q[support] / p[support]).sum())
        assert torch.isclose(minus_kl, -kl(p, q))
        assert minus_kl <= jensen_rhs <= 0
        assert torch.isclose(jensen_rhs, torch.log(q[support].sum()))


def latent_model(x: float):
    """z in {0..3}, p(z) categorical, p(x|z) = N(mu_z, 1). Returns log p(x, z) for all z."""
    prior = torch.tensor([0.1, 0.4, 0.3, 0.2], dtype=DT)
    mus = torch.tensor([-2.0, 0.0, 1.5, 4.0], dtype=DT)
    return prior.log() + Normal(mus, 1.0).log_prob(torch.tensor(x, dtype=DT))


def elbo(q: torch.Tensor, log_joint: torch.Tensor) -> torch.Tensor:
    return (q * (log_joint - q.log())).sum(-1)


@pytest.mark.card("p1-jensen-elbo-bound")
@pytest.mark.card("p1-jensen-elbo-tightness")
def test_elbo_is_a_lower_bound_tight_at_the_posterior():
    log_joint = latent_model(0.8)
    log_evidence = torch.logsumexp(log_joint, 0)
    posterior = torch.exp(log_joint - log_evidence)
    qs = random_simplex(1000, 4, seed=28)
    bounds = elbo(qs, log_joint)
    assert torch.all(bounds < log_evidence)
    assert torch.allclose(log_evidence - bounds, kl(qs, posterior.expand_as(qs)), atol=1e-12)
    assert torch.isclose(elbo(posterior, log_joint), log_evidence)
    # at the posterior the weight w(z) = p(x,z)/q(z) is constant and equals p(x)
    weights = torch.exp(log_joint - posterior.log())
    assert torch.allclose(weights, log_evidence.exp().expand(4))
    # Monte Carlo form of the bound with samples from q
    torch.manual_seed(29)
    q = qs[0]
    zs = Categorical(probs=q).sample((100_000,))
    log_w = log_joint[zs] - q.log()[zs]
    assert abs(log_w.mean() - bounds[0]) < 4 * log_w.std() / math.sqrt(len(zs))
    assert torch.isclose(torch.log(torch.exp(log_w).mean()), log_evidence, rtol=0.02)
