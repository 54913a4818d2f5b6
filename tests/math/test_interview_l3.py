"""Numeric checks for Part 3 interview questions Q18-Q32 (L3 and Extended L3).

Exact identities are checked on small cases by enumeration, quadrature or torch.linalg.
Monte Carlo checks use fixed seeds and tolerances of several standard errors, computed from the
same sample, so a check fails only when the claim is off, not by bad luck.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, MultivariateNormal, Normal, kl_divergence

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_spd(n: int, seed: int) -> torch.Tensor:
    a = torch.randn(n, n, generator=gen(seed), dtype=F64)
    return a @ a.T + n * torch.eye(n, dtype=F64)


def assert_within_se(
    estimate: torch.Tensor, samples: torch.Tensor, truth: float, k: float = 5.0
) -> None:
    """|mean - truth| <= k standard errors of the mean (SE from the same samples)."""
    se = samples.std() / math.sqrt(samples.numel())
    assert abs(float(estimate) - truth) <= k * float(se) + 1e-12, (
        float(estimate),
        truth,
        float(se),
    )


# ================================================================ Q18 SGD noise


def per_example_gradients(n: int = 8, seed: int = 0) -> torch.Tensor:
    """Per-example gradients of squared error for a linear model at a fixed, non-optimal theta."""
    g = gen(seed)
    x = torch.randn(n, 2, generator=g, dtype=F64)
    y = torch.randn(n, generator=g, dtype=F64)
    theta = torch.tensor([0.3, -0.7], dtype=F64)
    return 2 * (x @ theta - y)[:, None] * x  # grad of (x.theta - y)^2


@pytest.mark.card("q18-minibatch-gradient-noise")
def test_minibatch_gradient_is_unbiased_with_covariance_sigma_over_b():
    grads = per_example_gradients()
    n, b = grads.shape[0], 3
    full = grads.mean(0)
    centred = grads - full
    sigma = centred.T @ centred / n  # population covariance of per-example gradients

    # with replacement: every ordered B-tuple is equally likely -> exact enumeration
    tuples = torch.tensor(list(itertools.product(range(n), repeat=b)))
    gb = grads[tuples].mean(1)
    assert torch.allclose(gb.mean(0), full)
    cov = (gb - full).T @ (gb - full) / gb.shape[0]
    assert torch.allclose(cov, sigma / b)

    # without replacement: every B-subset equally likely -> finite-population correction
    subsets = torch.tensor(list(itertools.combinations(range(n), b)))
    gs = grads[subsets].mean(1)
    assert torch.allclose(gs.mean(0), full)
    cov_wo = (gs - full).T @ (gs - full) / gs.shape[0]
    assert torch.allclose(cov_wo, (n - b) / (n - 1) * sigma / b)


@pytest.mark.card("q18-minibatch-gradient-noise")
def test_minibatch_mean_skewness_shrinks_like_clt():
    # one gradient coordinate, a skewed population; exact enumeration of all B-tuples
    values = torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0, 5.0], dtype=F64)
    n = values.numel()

    def skewness(v):
        c = v - v.mean()
        return (c**3).mean() / (c**2).mean() ** 1.5

    base = skewness(values)
    assert base > 1.0
    for b in (1, 2, 3, 4):
        means = values[torch.tensor(list(itertools.product(range(n), repeat=b)))].mean(1)
        assert torch.isclose(skewness(means), base / math.sqrt(b))  # -> 0: approaches Gaussian


@pytest.mark.card("q18-sgd-implicit-regularisation")
def test_gradient_noise_moves_iterates_from_sharp_to_flat_basin():
    # Two equally deep minima (loss 0): sharp at x = -1 (curvature 50), flat at x = 2 (curvature 2).
    def loss(x):
        return torch.minimum(25 * (x + 1) ** 2, (x - 2) ** 2)

    def grad(x):
        return torch.where(25 * (x + 1) ** 2 < (x - 2) ** 2, 50 * (x + 1), 2 * (x - 2))

    torch.manual_seed(0)
    lr, noise = 0.01, 20.0
    noiseless = torch.full((2000,), -1.0, dtype=F64)  # every run starts in the sharp minimum
    noisy = noiseless.clone()
    for _ in range(5000):
        noiseless = noiseless - lr * grad(noiseless)
        noisy = noisy - lr * (
            grad(noisy) + noise * torch.randn_like(noisy)
        )  # SGD-like gradient noise
    assert (noiseless == -1.0).all()  # plain GD never leaves the sharp minimum
    in_flat = (noisy > -0.5).double().mean()  # the basins meet at x = -0.5
    assert in_flat > 0.75 and in_flat > 3 * (1 - in_flat)

    # the continuous-time limit samples exp(-L/T), T = lr * noise^2 / 2: the flat basin holds
    # sqrt(50 / 2) = 5 times the mass of the equally deep sharp one
    grid = torch.linspace(-10, 12, 200_001, dtype=F64)
    gibbs = torch.exp(-loss(grid) / (lr * noise**2 / 2))
    flat_mass = gibbs[grid > -0.5].sum() / gibbs.sum()
    assert abs(float(flat_mass) - 5 / 6) < 1e-3
    assert abs(float(in_flat - flat_mass)) < 0.1


# ================================================================ Q19 forward vs reverse KL

GRID = torch.linspace(-12, 12, 2401, dtype=F64)
DX = float(GRID[1] - GRID[0])


def bimodal_density() -> torch.Tensor:
    return (
        0.5 * Normal(-3.0, 0.5).log_prob(GRID).exp() + 0.5 * Normal(3.0, 0.5).log_prob(GRID).exp()
    )


def kl_on_grid(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    mask = p > 1e-300
    return (p[mask] * (p[mask].log() - q[mask].log())).sum() * DX


def fit_gaussian(objective, mu0: float, log_sigma0: float) -> tuple[float, float]:
    params = torch.tensor([mu0, log_sigma0], dtype=F64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [params], max_iter=100, line_search_fn="strong_wolfe", tolerance_grad=1e-10
    )

    def closure():
        opt.zero_grad()
        loss = objective(params)
        loss.backward()
        return loss

    opt.step(closure)
    return float(params[0].detach()), float(params[1].detach().exp())


def gaussian_on_grid(params: torch.Tensor) -> torch.Tensor:
    return Normal(params[0], params[1].exp()).log_prob(GRID).exp().clamp_min(1e-300)


@pytest.mark.card("q19-forward-vs-reverse-kl")
def test_forward_kl_fit_matches_moments_and_reverse_kl_fit_picks_a_mode():
    p = bimodal_density()
    mean_p = (GRID * p).sum() * DX
    var_p = ((GRID - mean_p) ** 2 * p).sum() * DX
    assert abs(float(var_p) - (0.25 + 9.0)) < 1e-6

    mu_f, sigma_f = fit_gaussian(lambda t: kl_on_grid(p, gaussian_on_grid(t)), 0.5, 0.0)
    assert abs(mu_f - float(mean_p)) < 1e-4  # M-projection: moment matching, mass in between modes
    assert abs(sigma_f**2 - float(var_p)) < 1e-3

    mu_r, sigma_r = fit_gaussian(lambda t: kl_on_grid(gaussian_on_grid(t), p), 2.0, 0.0)
    assert abs(mu_r - 3.0) < 1e-2 and abs(sigma_r - 0.5) < 1e-2  # I-projection: one mode

    moment_fit = torch.tensor([mu_f, math.log(sigma_f)], dtype=F64)
    mode_fit = torch.tensor([mu_r, math.log(sigma_r)], dtype=F64)
    # each fit is the better one under its own objective
    assert kl_on_grid(p, gaussian_on_grid(moment_fit)) < kl_on_grid(p, gaussian_on_grid(mode_fit))
    assert kl_on_grid(gaussian_on_grid(mode_fit), p) < kl_on_grid(gaussian_on_grid(moment_fit), p)


def discrete_pair(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(seed)
    p = torch.rand(6, generator=g, dtype=F64) + 0.1
    q = torch.rand(6, generator=g, dtype=F64) + 0.1
    return p / p.sum(), q / q.sum()


def kl(p, q):
    return (p * (p / q).log()).sum()


@pytest.mark.card("q19-kl-use-cases")
def test_alpha_divergence_interpolates_reverse_and_forward_kl():
    p, q = discrete_pair()

    def amari(alpha):
        return (alpha * p + (1 - alpha) * q - p**alpha * q ** (1 - alpha)).sum() / (
            alpha * (1 - alpha)
        )

    assert torch.isclose(amari(1 - 1e-6), kl(p, q), rtol=1e-4)
    assert torch.isclose(amari(1e-6), kl(q, p), rtol=1e-4)
    hellinger_sq = ((p.sqrt() - q.sqrt()) ** 2).sum()
    assert torch.isclose(amari(0.5), 2 * hellinger_sq)  # alpha = 1/2: symmetric

    def renyi(alpha, a, b):
        return (a**alpha * b ** (1 - alpha)).sum().log() / (alpha - 1)

    assert torch.isclose(renyi(1 - 1e-7, p, q), kl(p, q), rtol=1e-4)  # Renyi alpha -> 1: KL(p||q)
    for alpha in (0.2, 0.5, 0.9):  # skew symmetry (van Erven & Harremoes 2014)
        assert torch.isclose((1 - alpha) * renyi(alpha, p, q), alpha * renyi(1 - alpha, q, p))


@pytest.mark.card("q19-kl-use-cases")
def test_mle_minimises_forward_kl_from_the_data_distribution():
    counts = torch.tensor([5.0, 1.0, 3.0, 7.0], dtype=F64)
    p_data = counts / counts.sum()  # empirical distribution of categorical data
    entropy = -(p_data * p_data.log()).sum()

    def forward_kl(logits):
        return kl(p_data, logits.softmax(0))

    def mean_nll(logits):
        return -(counts * logits.log_softmax(0)).sum() / counts.sum()

    g = gen(30)
    for _ in range(5):
        logits = torch.randn(4, generator=g, dtype=F64)
        assert torch.isclose(forward_kl(logits), mean_nll(logits) - entropy)  # same minimiser
        assert forward_kl(logits) > forward_kl(p_data.log())
    mle = p_data.log().requires_grad_(True)  # the MLE: observed frequencies
    (grad,) = torch.autograd.grad(forward_kl(mle), mle)
    assert torch.allclose(grad, torch.zeros(4, dtype=F64), atol=1e-12)


# ================================================================ Q20 attention


@pytest.mark.card("q20-sqrt-dk-scaling")
def test_dot_product_of_unit_variance_vectors_has_variance_dk():
    torch.manual_seed(0)
    d_k, n = 64, 40_000
    q, k = torch.randn(n, d_k, dtype=F64), torch.randn(n, d_k, dtype=F64)
    dots = (q * k).sum(1)
    # relative SE of a variance estimate is about sqrt(2/n) = 0.7%: allow 5%
    assert abs(float(dots.var()) / d_k - 1) < 0.05
    assert abs(float((dots / math.sqrt(d_k)).var()) - 1) < 0.05


@pytest.mark.card("q20-sqrt-dk-scaling")
def test_unscaled_logits_saturate_softmax_and_shrink_its_gradient():
    torch.manual_seed(0)
    d_k, keys = 512, 16
    q, k = torch.randn(200, d_k, dtype=F64), torch.randn(200, keys, d_k, dtype=F64)
    raw = torch.einsum("nd,nkd->nk", q, k)

    def mean_jacobian_norm(logits):
        p = logits.softmax(-1)
        jac = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # d softmax / d logits
        return torch.linalg.matrix_norm(jac).mean(), p.max(-1).values.mean()

    jac_raw, peak_raw = mean_jacobian_norm(raw)
    jac_scaled, peak_scaled = mean_jacobian_norm(raw / math.sqrt(d_k))
    assert peak_raw > 0.8 and peak_scaled < 0.6  # unscaled attention is nearly one-hot
    assert jac_raw < 0.5 * jac_scaled  # and passes back much smaller gradients


@pytest.mark.card("q20-scaled-dot-product")
def test_cosine_attention_weights_are_capped_by_the_temperature():
    torch.manual_seed(0)
    n, d, tau = 1000, 32, 1.0
    cap = 1 / (1 + (n - 1) * math.exp(-2 * tau))
    assert cap < 0.008  # at most 0.8% of the attention on any one of 1000 keys
    q = F.normalize(torch.randn(d, dtype=F64), dim=0)
    for _ in range(5):
        k = F.normalize(torch.randn(n, d, dtype=F64), dim=1)
        assert (tau * k @ q).softmax(0).max() <= cap + 1e-12
    extreme = torch.cat(
        [q[None], -q.expand(n - 1, d)]
    )  # best case: one aligned key, others opposite
    assert torch.isclose((tau * extreme @ q).softmax(0).max(), torch.tensor(cap, dtype=F64))
    # raw dot products have no such cap: a long query can put almost all weight on one key
    assert ((10 * q) @ (10 * extreme.T)).softmax(0).max() > 0.999


@pytest.mark.card("q20-scaled-dot-product")
def test_l2_normalised_dot_product_is_cosine_similarity():
    torch.manual_seed(0)
    q, k = torch.randn(10, 16, dtype=F64), torch.randn(10, 16, dtype=F64)
    normalised = (F.normalize(q, dim=-1) * F.normalize(k, dim=-1)).sum(-1)
    assert torch.allclose(normalised, F.cosine_similarity(q, k, dim=-1))
    assert normalised.abs().max() <= 1.0


def rope(x: torch.Tensor, position: float, base: float = 10000.0) -> torch.Tensor:
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=F64) / d)
    angle = position * theta
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x1 * angle.cos() - x2 * angle.sin()
    out[..., 1::2] = x1 * angle.sin() + x2 * angle.cos()
    return out


@pytest.mark.card("q20-rope")
def test_rope_preserves_norms_and_depends_only_on_relative_position():
    torch.manual_seed(0)
    q, k = torch.randn(64, dtype=F64), torch.randn(64, dtype=F64)
    assert torch.isclose(rope(q, 17).norm(), q.norm())
    base = rope(q, 5) @ rope(k, 12)
    for shift in (1, 30, 1000):
        assert torch.isclose(rope(q, 5 + shift) @ rope(k, 12 + shift), base)
    assert not torch.isclose(rope(q, 5) @ rope(k, 13), base)  # a different offset changes it


# ================================================================ Q21 autodiff


def vector_function(x: torch.Tensor) -> torch.Tensor:  # R^3 -> R^5
    return torch.stack([x[0] * x[1], x[1].sin(), x[2] ** 3, x.sum() ** 2, (x[0] * x[2]).exp()])


@pytest.mark.card("q21-forward-vs-reverse-ad")
@pytest.mark.card("q21-jvp-vjp")
def test_forward_mode_gives_columns_and_reverse_mode_gives_rows():
    x = torch.tensor([0.3, -1.2, 0.8], dtype=F64)
    jac = torch.autograd.functional.jacobian(vector_function, x)
    assert jac.shape == (5, 3)
    for i in range(3):  # one forward-mode pass (JVP) per input: a column
        _, column = torch.func.jvp(vector_function, (x,), (torch.eye(3, dtype=F64)[i],))
        assert torch.allclose(column, jac[:, i])
    _, vjp_fn = torch.func.vjp(vector_function, x)
    for j in range(5):  # one reverse-mode pass (VJP) per output: a row
        (row,) = vjp_fn(torch.eye(5, dtype=F64)[j])
        assert torch.allclose(row, jac[j])
    assert torch.allclose(
        torch.func.jacfwd(vector_function)(x), torch.func.jacrev(vector_function)(x)
    )


def rosenbrock_like(w: torch.Tensor) -> torch.Tensor:
    return ((1 - w[:-1]) ** 2 + 10 * (w[1:] - w[:-1] ** 2) ** 2).sum() + (w**4).sum()


@pytest.mark.card("q21-forward-vs-reverse-ad")
@pytest.mark.card("q21-hvp-code")
def test_hessian_vector_product_without_the_hessian(snippet):
    hvp = snippet("snippets/hessian_vector_product.py").hvp
    torch.manual_seed(0)
    w = torch.randn(6, dtype=F64, requires_grad=True)
    v = torch.randn(6, dtype=F64)
    hessian = torch.autograd.functional.hessian(rosenbrock_like, w.detach())
    assert torch.allclose(hvp(rosenbrock_like, w, v), hessian @ v)  # reverse-over-reverse
    _, forward_over_reverse = torch.func.jvp(torch.func.grad(rosenbrock_like), (w.detach(),), (v,))
    assert torch.allclose(forward_over_reverse, hessian @ v)


@pytest.mark.card("q21-forward-vs-reverse-ad")
@pytest.mark.card("q21-hvp-code")
def test_hessian_vector_product_memory_grows_with_activations_not_only_parameters(snippet):
    hvp = snippet("snippets/hessian_vector_product.py").hvp

    def saved_numel(fn) -> int:  # elements autograd saves for the backward passes
        total = 0

        def pack(t):
            nonlocal total
            total += t.numel()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            fn()
        return total

    torch.manual_seed(0)
    d = 32
    w = torch.randn(2 * d * d, dtype=F64, requires_grad=True)  # P = 2048 parameters, two layers
    v = torch.randn(2 * d * d, dtype=F64)
    ratios, hvp_saved = [], []
    for batch in (64, 256, 1024):
        x = torch.randn(batch, d, dtype=F64)

        def loss(p, x=x):
            w1, w2 = p[: d * d].view(d, d), p[d * d :].view(d, d)
            return (torch.tanh(torch.tanh(x @ w1) @ w2) ** 2).sum()

        grad_saved = saved_numel(lambda loss=loss: torch.autograd.grad(loss(w), w))
        hvp_saved.append(saved_numel(lambda loss=loss: hvp(loss, w, v)))
        ratios.append(hvp_saved[-1] / grad_saved)
    assert all(1 < r < 6 for r in ratios)  # a constant multiple of one gradient's memory
    assert hvp_saved[2] > 3.5 * hvp_saved[1] > 3.5**2 * hvp_saved[0]  # ~linear in the activations
    assert hvp_saved[2] > 100 * w.numel()  # far beyond O(P)


# ================================================================ Q22 PPO


@pytest.mark.card("q22-ppo-importance-ratio")
def test_importance_ratio_reweights_old_policy_actions_to_the_new_policy():
    advantages = torch.tensor([1.0, -0.5, 2.0, 0.3], dtype=F64)
    logits_old = torch.tensor([0.2, 0.1, -0.3, 0.0], dtype=F64)
    logits = torch.tensor([0.5, -0.2, 0.1, 0.0], dtype=F64, requires_grad=True)
    pi_old = logits_old.softmax(0)
    ratio = logits.softmax(0) / pi_old
    assert torch.isclose(
        (pi_old * ratio * advantages).sum(), (logits.softmax(0) * advantages).sum()
    )

    torch.manual_seed(0)  # Monte Carlo with actions from the OLD policy only
    actions = torch.multinomial(pi_old, 100_000, replacement=True)
    weighted = (ratio[actions] * advantages[actions]).detach()
    assert_within_se(
        weighted.mean(), weighted, float((logits.softmax(0) * advantages).sum().detach())
    )

    # at theta = theta_old the surrogate's gradient is the policy gradient
    at_old = logits_old.clone().requires_grad_(True)
    surrogate = (pi_old * (at_old.softmax(0) / pi_old) * advantages).sum()
    (g_surrogate,) = torch.autograd.grad(surrogate, at_old)
    at_old2 = logits_old.clone().requires_grad_(True)
    policy_gradient = (
        at_old2.softmax(0).detach() * torch.log_softmax(at_old2, 0) * advantages
    ).sum()
    (g_pg,) = torch.autograd.grad(policy_gradient, at_old2)
    assert torch.allclose(g_surrogate, g_pg)


@pytest.mark.card("q22-ppo-clip-objective")
@pytest.mark.card("q22-ppo-clip-epsilon")
@pytest.mark.card("q22-ppo-clip-code")
@pytest.mark.card("q22-ppo-clip-other-side")
def test_ppo_clip_gradient_is_zero_only_on_the_profitable_side(snippet):
    ppo = snippet("snippets/ppo_clip_objective.py").ppo_clip_objective
    eps = 0.2

    def grad_wrt_ratio(ratio: float, advantage: float) -> float:
        logp_old = torch.tensor([0.0], dtype=F64)
        logp_new = torch.tensor([math.log(ratio)], dtype=F64, requires_grad=True)
        ppo(logp_new, logp_old, torch.tensor([advantage], dtype=F64), eps).backward()
        return float(logp_new.grad) / ratio  # d L / d r = (d L / d log r) / r

    assert grad_wrt_ratio(1.5, +1.0) == 0.0  # A > 0, r > 1 + eps: no incentive to go further
    assert grad_wrt_ratio(0.5, -1.0) == 0.0  # A < 0, r < 1 - eps: likewise
    assert math.isclose(grad_wrt_ratio(0.5, +1.0), 1.0)  # A > 0, r < 1 - eps: still pushed back up
    assert math.isclose(
        grad_wrt_ratio(1.5, -1.0), -1.0
    )  # A < 0, r > 1 + eps: still pushed back down
    assert math.isclose(grad_wrt_ratio(1.1, +2.0), 2.0)  # inside the range: plain r * A


@pytest.mark.card("q22-ppo-clip-objective")
def test_ppo_clip_objective_is_a_pessimistic_bound_on_the_unclipped_surrogate(snippet):
    ppo = snippet("snippets/ppo_clip_objective.py").ppo_clip_objective
    eps = 0.2
    ratios = torch.linspace(0.2, 3.0, 57, dtype=F64)
    for advantage in (-2.0, -0.3, 0.7, 1.5):
        a = torch.full_like(ratios, advantage)
        clip = torch.stack(
            [ppo(torch.log(r)[None], torch.zeros(1, dtype=F64), a[:1], eps) for r in ratios]
        )
        assert (clip <= ratios * a + 1e-12).all()
        inside = (ratios >= 1 - eps) & (ratios <= 1 + eps)
        assert torch.allclose(clip[inside], (ratios * a)[inside])


def vtrace_targets(values, next_value, rewards, rho, rho_bar, c_bar, gamma):
    """V-trace targets v_s (Espeholt et al. 2018, eq. 1) for one trajectory, by the backward
    recursion."""
    n = rewards.numel()
    values_ext = torch.cat([values, next_value[None]])
    clipped_rho = rho.clamp(max=rho_bar)
    cs = rho.clamp(max=c_bar)
    deltas = clipped_rho * (rewards + gamma * values_ext[1:] - values_ext[:-1])
    acc = torch.zeros((), dtype=F64)
    out = torch.empty(n, dtype=F64)
    for s in reversed(range(n)):
        acc = (
            deltas[s] + gamma * cs[s] * acc
        )  # v_s - V(x_s) = delta_s + gamma c_s (v_{s+1} - V(x_{s+1}))
        out[s] = values[s] + acc
    return out


@pytest.mark.card("q22-ppo-clip-epsilon")
def test_vtrace_reduces_to_n_step_return_on_policy():
    g = gen(1)
    n, gamma = 6, 0.9
    values, rewards = torch.randn(n, generator=g, dtype=F64), torch.randn(n, generator=g, dtype=F64)
    bootstrap = torch.randn((), generator=g, dtype=F64)
    targets = vtrace_targets(values, bootstrap, rewards, torch.ones(n, dtype=F64), 1.0, 1.0, gamma)
    for s in range(n):
        steps = n - s
        n_step = sum(gamma**t * rewards[s + t] for t in range(steps)) + gamma**steps * bootstrap
        assert torch.isclose(targets[s], n_step)


@pytest.mark.card("q22-ppo-clip-epsilon")
def test_truncated_importance_weights_trade_bias_for_variance():
    pi = torch.tensor([0.7, 0.2, 0.1], dtype=F64)  # target policy
    mu = torch.tensor([0.1, 0.3, 0.6], dtype=F64)  # behaviour policy
    f = torch.tensor([1.0, 0.0, -1.0], dtype=F64)
    w = pi / mu
    truth = (pi * f).sum()
    exact_is = (mu * w * f).sum()
    trunc = w.clamp(max=1.0)
    exact_trunc = (mu * trunc * f).sum()
    var_is = (mu * (w * f) ** 2).sum() - exact_is**2
    var_trunc = (mu * (trunc * f) ** 2).sum() - exact_trunc**2
    assert torch.isclose(exact_is, truth)  # plain IS is unbiased
    assert not torch.isclose(exact_trunc, truth)  # truncation is biased ...
    assert var_trunc < 0.2 * var_is  # ... but has far lower variance
    # V-trace's fixed point with rho_bar = 1 is the value of pi_rho ~ min(rho_bar mu, pi)
    pi_rho = torch.minimum(mu, pi) / torch.minimum(mu, pi).sum()
    assert torch.isclose(exact_trunc / (mu * trunc).sum(), (pi_rho * f).sum())


# ================================================================ Q23 ELBO

S2 = 0.5  # likelihood variance: z ~ N(0, 1), x | z ~ N(z, S2)
X_OBS = 1.3


def elbo_closed_form(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    recon = -0.5 * torch.log(2 * math.pi * torch.tensor(S2, dtype=F64)) - ((X_OBS - m) ** 2 + v) / (
        2 * S2
    )
    kl_prior = 0.5 * (m**2 + v - 1 - torch.log(v))
    return recon - kl_prior


def log_evidence() -> torch.Tensor:
    return Normal(0.0, math.sqrt(1 + S2)).log_prob(torch.tensor(X_OBS, dtype=F64))


def posterior() -> Normal:
    return Normal(
        torch.tensor(X_OBS / (1 + S2), dtype=F64), torch.tensor(math.sqrt(S2 / (1 + S2)), dtype=F64)
    )


@pytest.mark.card("q23-variational-inference")
@pytest.mark.card("q23-elbo-jensen")
@pytest.mark.card("q23-evidence-decomposition")
def test_elbo_gap_is_kl_to_the_posterior():
    g = gen(2)
    for _ in range(5):
        m = torch.randn((), generator=g, dtype=F64)
        v = torch.rand((), generator=g, dtype=F64) + 0.05
        q = Normal(m, v.sqrt())
        elbo = elbo_closed_form(m, v)
        assert elbo <= log_evidence()  # Jensen
        assert torch.isclose(log_evidence() - elbo, kl_divergence(q, posterior()))
    post = posterior()
    assert torch.isclose(
        elbo_closed_form(post.loc, post.scale**2), log_evidence()
    )  # tight at q = posterior


@pytest.mark.card("q23-elbo-recon-kl")
def test_elbo_as_reconstruction_minus_kl_matches_monte_carlo_of_log_joint_ratio():
    torch.manual_seed(0)
    m, v = torch.tensor(0.4, dtype=F64), torch.tensor(0.3, dtype=F64)
    q = Normal(m, v.sqrt())
    z = q.sample((200_000,))
    log_joint = Normal(0.0, 1.0).log_prob(z) + Normal(z, math.sqrt(S2)).log_prob(
        torch.tensor(X_OBS, dtype=F64)
    )
    samples = log_joint - q.log_prob(z)
    assert_within_se(samples.mean(), samples, float(elbo_closed_form(m, v)))


@pytest.mark.card("q23-beta-vae")
def test_beta_vae_objective_is_a_bound_only_for_beta_at_least_one():
    m, v = (
        torch.tensor(X_OBS, dtype=F64),
        torch.tensor(0.01, dtype=F64),
    )  # encoder concentrated at x
    recon = elbo_closed_form(m, v) + 0.5 * (m**2 + v - 1 - torch.log(v))
    kl_prior = 0.5 * (m**2 + v - 1 - torch.log(v))
    objective = lambda beta: recon - beta * kl_prior  # noqa: E731
    assert objective(4.0) <= objective(1.0) <= log_evidence()
    assert objective(0.1) > log_evidence()  # beta < 1: no longer a lower bound


# ================================================================ Q24 LoRA


@pytest.mark.card("q24-lora-param-count")
@pytest.mark.card("q24-lora-update")
def test_lora_parameter_count_rank_and_merge():
    d, k, r, alpha = 64, 48, 4, 8.0
    torch.manual_seed(0)
    w0 = torch.randn(d, k, dtype=F64)
    a = torch.randn(r, k, dtype=F64) * 0.01  # A: random Gaussian
    b = torch.zeros(d, r, dtype=F64)  # B: zero, so Delta W = 0 at the start
    assert torch.equal(b @ a, torch.zeros(d, k, dtype=F64))
    assert a.numel() + b.numel() == r * (d + k)

    b = torch.randn(d, r, dtype=F64)  # after some training
    delta = alpha / r * b @ a
    assert torch.linalg.matrix_rank(delta) == r < min(d, k)
    x = torch.randn(5, k, dtype=F64)
    separate = x @ w0.T + alpha / r * (x @ a.T) @ b.T  # the two paths used during training
    assert torch.allclose(separate, x @ (w0 + delta).T)  # merged: no extra inference cost

    d = k = 4096
    assert 8 * (d + k) == 65_536 and d * k == 16_777_216 and d * k // (8 * (d + k)) == 256


# ================================================================ Q25 Gaussian KL


def gaussian_kl(mu0, s0, mu1, s1):
    k = mu0.numel()
    s1_inv = torch.linalg.inv(s1)
    diff = mu1 - mu0
    return 0.5 * (
        torch.trace(s1_inv @ s0) + diff @ s1_inv @ diff - k + torch.logdet(s1) - torch.logdet(s0)
    )


@pytest.mark.card("q25-gaussian-kl")
def test_gaussian_kl_closed_form_matches_torch_and_monte_carlo():
    g = gen(3)
    mu0, mu1 = torch.randn(3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)
    s0, s1 = random_spd(3, 4), random_spd(3, 5)
    p, q = MultivariateNormal(mu0, s0), MultivariateNormal(mu1, s1)
    closed = gaussian_kl(mu0, s0, mu1, s1)
    assert torch.isclose(closed, kl_divergence(p, q))
    torch.manual_seed(0)
    x = p.sample((100_000,))
    samples = p.log_prob(x) - q.log_prob(x)
    assert_within_se(samples.mean(), samples, float(closed))


@pytest.mark.card("q25-vae-kl")
def test_vae_kl_to_standard_normal():
    g = gen(6)
    mu = torch.randn(8, generator=g, dtype=F64)
    sigma = torch.rand(8, generator=g, dtype=F64) + 0.2
    closed = 0.5 * (mu**2 + sigma**2 - 1 - torch.log(sigma**2)).sum()
    reference = kl_divergence(
        Normal(mu, sigma), Normal(torch.zeros(8, dtype=F64), torch.ones(8, dtype=F64))
    ).sum()
    assert torch.isclose(closed, reference)
    assert torch.isclose(
        closed,
        gaussian_kl(mu, torch.diag(sigma**2), torch.zeros(8, dtype=F64), torch.eye(8, dtype=F64)),
    )


# ========================================================= Q26 Fisher information, natural gradient


@pytest.mark.card("q26-fisher-information")
@pytest.mark.card("q26-fisher-hessian")
def test_bernoulli_fisher_is_score_covariance_and_negative_expected_hessian():
    for eta in (
        -1.5,
        0.0,
        0.7,
    ):  # logit; no data set, so these points are not "the MLE" of anything

        def log_p(e, x):
            return x * F.logsigmoid(e) + (1 - x) * F.logsigmoid(-e)

        p = torch.sigmoid(torch.tensor(eta, dtype=F64))
        scores, hessians = [], []
        for x in (0.0, 1.0):
            e = torch.tensor(eta, dtype=F64, requires_grad=True)
            (score,) = torch.autograd.grad(log_p(e, x), e, create_graph=True)
            (hess,) = torch.autograd.grad(score, e)
            scores.append(score.detach())
            hessians.append(hess)
        weights = torch.stack([1 - p, p])
        scores, hessians = torch.stack(scores), torch.stack(hessians)
        assert torch.isclose((weights * scores).sum(), torch.tensor(0.0, dtype=F64), atol=1e-15)
        fisher_cov = (weights * scores**2).sum()
        fisher_hess = -(weights * hessians).sum()
        assert torch.isclose(fisher_cov, p * (1 - p))
        assert torch.isclose(fisher_hess, p * (1 - p))


@pytest.mark.card("q26-fisher-information")
@pytest.mark.card("q26-fisher-hessian")
def test_gaussian_fisher_by_monte_carlo_score_covariance_and_hessian():
    mu, log_sigma = 0.5, math.log(1.7)
    sigma = math.exp(log_sigma)
    torch.manual_seed(0)
    n = 50_000
    x = torch.randn(n, dtype=F64) * sigma + mu  # samples from the model itself
    theta = torch.tensor([mu, log_sigma], dtype=F64)

    def log_p(t, xi):  # parameters (mu, log sigma)
        return Normal(t[0], t[1].exp()).log_prob(xi)

    scores = torch.func.vmap(torch.func.grad(log_p), in_dims=(None, 0))(theta, x)
    hessians = torch.func.vmap(torch.func.hessian(log_p), in_dims=(None, 0))(theta, x)
    outer = scores[:, :, None] * scores[:, None, :]
    expected = torch.tensor([[1 / sigma**2, 0.0], [0.0, 2.0]], dtype=F64)
    for per_sample in (outer, -hessians):  # Cov(score) and -E[Hessian], entry by entry
        se = per_sample.std(0) / math.sqrt(n)
        assert ((per_sample.mean(0) - expected).abs() <= 5 * se + 1e-12).all()
    assert torch.allclose(
        scores.mean(0),
        torch.zeros(2, dtype=F64),
        atol=5 * float(scores.std(0).max()) / math.sqrt(n),
    )


def gaussian_kl_params(theta, theta2):
    return kl_divergence(Normal(theta[0], theta[1].exp()), Normal(theta2[0], theta2[1].exp()))


@pytest.mark.card("q26-kl-fisher-expansion")
def test_kl_between_nearby_models_is_half_delta_fisher_delta():
    theta = torch.tensor([0.5, math.log(1.7)], dtype=F64)
    fisher = torch.diag(torch.tensor([1 / 1.7**2, 2.0], dtype=F64))
    direction = torch.tensor([0.8, -0.6], dtype=F64)
    errors = []
    for t in (1e-1, 1e-2, 1e-3):
        delta = t * direction
        quadratic = 0.5 * delta @ fisher @ delta
        errors.append(abs(float(gaussian_kl_params(theta, theta + delta) / quadratic) - 1))
    assert errors[2] < 1e-2
    assert (
        errors[1] < 0.2 * errors[0] and errors[2] < 0.2 * errors[1]
    )  # relative error is O(|delta|)
    # the Hessian of the KL at delta = 0 is the Fisher matrix
    hess = torch.autograd.functional.hessian(lambda t2: gaussian_kl_params(theta, t2), theta)
    assert torch.allclose(hess, fisher)


@pytest.mark.card("q26-natural-gradient")
@pytest.mark.card("q26-natural-gradient-steepest")
def test_natural_gradient_is_steepest_descent_in_a_kl_ball():
    fisher = torch.tensor([[4.0, 1.5], [1.5, 1.0]], dtype=F64)
    grad = torch.tensor([1.0, 2.0], dtype=F64)
    eps = 1e-3
    angles = torch.linspace(0, 2 * math.pi, 200_001, dtype=F64)
    dirs = torch.stack([angles.cos(), angles.sin()], 1)
    scale = torch.sqrt(2 * eps / torch.einsum("ni,ij,nj->n", dirs, fisher, dirs))
    steps = dirs * scale[:, None]  # every step on the boundary 1/2 d^T F d = eps
    best = steps[(steps @ grad).argmin()]
    nat = torch.linalg.solve(fisher, grad)
    closed = -torch.sqrt(2 * eps / (grad @ nat)) * nat
    assert F.cosine_similarity(best, closed, dim=0) > 1 - 1e-8
    assert closed @ grad <= (steps @ grad).min() + 1e-12
    assert F.cosine_similarity(-grad, closed, dim=0) < 0.9  # the Euclidean direction is different


@pytest.mark.card("q26-natural-gradient-invariance")
def test_natural_gradient_step_does_not_depend_on_the_parameterisation():
    target = Normal(torch.tensor(2.0, dtype=F64), torch.tensor(0.5, dtype=F64))

    def loss_theta(theta):  # theta = (mu, sigma)
        return kl_divergence(Normal(theta[0], theta[1]), target)

    def loss_phi(phi):  # phi = (mu, log sigma)
        return loss_theta(torch.stack([phi[0], phi[1].exp()]))

    def fisher_of(to_dist, params):  # Hessian of KL(p_params || p_params2) at params2 = params
        return torch.autograd.functional.hessian(
            lambda p2: kl_divergence(to_dist(params), to_dist(p2)), params
        )

    phi = torch.tensor([0.3, math.log(1.4)], dtype=F64)
    theta = torch.stack([phi[0], phi[1].exp()])
    jac = torch.diag(torch.tensor([1.0, float(theta[1])], dtype=F64))  # d theta / d phi
    nat_theta = torch.linalg.solve(
        fisher_of(lambda t: Normal(t[0], t[1]), theta), torch.func.grad(loss_theta)(theta)
    )
    nat_phi = torch.linalg.solve(
        fisher_of(lambda p: Normal(p[0], p[1].exp()), phi), torch.func.grad(loss_phi)(phi)
    )
    assert torch.allclose(jac @ nat_phi, nat_theta)  # same change in the distribution
    euclid_theta, euclid_phi = torch.func.grad(loss_theta)(theta), torch.func.grad(loss_phi)(phi)
    assert not torch.allclose(jac @ euclid_phi, euclid_theta)  # plain gradients disagree


@pytest.mark.card("q26-kfac")
def test_kfac_kronecker_identities():
    g = gen(7)
    d_in, d_out = 3, 2
    a_samples = torch.randn(4, d_in, generator=g, dtype=F64)  # layer inputs
    g_samples = torch.randn(5, d_out, generator=g, dtype=F64)  # back-propagated output gradients

    def vec(m):  # column-stacking
        return m.T.reshape(-1)

    a0, g0 = a_samples[0], g_samples[0]
    assert torch.allclose(vec(torch.outer(g0, a0)), torch.kron(a0, g0))  # vec(g a^T) = a (x) g
    # exact Fisher block when a and g are independent: average over all (a, g) pairs
    exact = torch.stack(
        [
            torch.outer(vec(torch.outer(gg, aa)), vec(torch.outer(gg, aa)))
            for aa in a_samples
            for gg in g_samples
        ]
    ).mean(0)
    a_factor = a_samples.T @ a_samples / 4
    g_factor = g_samples.T @ g_samples / 5
    assert torch.allclose(exact, torch.kron(a_factor, g_factor))
    a_spd, g_spd = (
        a_factor + 0.1 * torch.eye(d_in, dtype=F64),
        g_factor + 0.1 * torch.eye(d_out, dtype=F64),
    )
    assert torch.allclose(
        torch.linalg.inv(torch.kron(a_spd, g_spd)),
        torch.kron(torch.linalg.inv(a_spd), torch.linalg.inv(g_spd)),
    )
    grad_w = torch.randn(d_out, d_in, generator=g, dtype=F64)
    factored = torch.linalg.inv(g_spd) @ grad_w @ torch.linalg.inv(a_spd)
    assert torch.allclose(torch.linalg.solve(torch.kron(a_spd, g_spd), vec(grad_w)), vec(factored))


# ========================================================= Q27 reparameterisation vs score function


def per_sample_gradients(f, mu: float, sigma: float, n: int, seed: int):
    """Per-sample d/dmu estimates: pathwise (reparameterised) and score-function."""
    torch.manual_seed(seed)
    eps = torch.randn(n, dtype=F64)
    m = torch.full((n,), mu, dtype=F64, requires_grad=True)
    f(m + sigma * eps).sum().backward()
    pathwise = m.grad.clone()
    m2 = torch.full((n,), mu, dtype=F64, requires_grad=True)
    z = (mu + sigma * eps).detach()
    (f(z) * Normal(m2, sigma).log_prob(z)).sum().backward()
    return pathwise, m2.grad.clone()


@pytest.mark.card("q27-reparameterisation")
@pytest.mark.card("q27-score-function")
@pytest.mark.card("q27-reparam-variance")
def test_both_estimators_unbiased_and_pathwise_lower_variance_for_smooth_f():
    mu, sigma = 1.0, 1.0
    pathwise, score = per_sample_gradients(lambda z: z**2, mu, sigma, 200_000, seed=0)
    truth = 2 * mu  # d/dmu E[z^2] = d/dmu (mu^2 + sigma^2)
    assert_within_se(pathwise.mean(), pathwise, truth)
    assert_within_se(score.mean(), score, truth)
    assert abs(float(pathwise.var()) - 4.0) < 0.1  # Var(2z) = 4 sigma^2
    assert abs(float(score.var()) - 30.0) < 1.5  # E[z^4 (z-mu)^2] - 4 = 30 at mu = sigma = 1


@pytest.mark.card("q27-reparam-essence")
def test_change_of_variables_moves_the_parameter_from_the_density_to_the_path():
    torch.manual_seed(0)
    mu, sigma = torch.tensor(0.7, dtype=F64), torch.tensor(1.3, dtype=F64)
    eps = torch.randn(200_000, dtype=F64)
    z_path = mu + sigma * eps  # z = g_phi(eps)
    z_direct = Normal(mu, sigma).sample((200_000,))
    f = torch.tanh
    # same expectation either way (two independent samples: compare within 5 combined SEs)
    se = math.sqrt(f(z_path).var() / 200_000 + f(z_direct).var() / 200_000)
    assert abs(float(f(z_path).mean() - f(z_direct).mean())) < 5 * se
    # rsample is exactly this path, so autograd reaches mu and sigma
    mu_r, sigma_r = mu.clone().requires_grad_(True), sigma.clone().requires_grad_(True)
    torch.manual_seed(1)
    Normal(mu_r, sigma_r).rsample((10,)).sum().backward()
    assert torch.isclose(mu_r.grad, torch.tensor(10.0, dtype=F64))
    # implicit reparameterisation (Gamma has no location-scale path in its shape):
    # d/d alpha E[z] = d/d alpha alpha = 1
    alpha = torch.full((100_000,), 2.5, dtype=F64, requires_grad=True)
    z = torch.distributions.Gamma(alpha, torch.ones_like(alpha)).rsample()
    (slopes,) = torch.autograd.grad(z.sum(), alpha)  # per-sample dz/dalpha
    assert_within_se(slopes.mean(), slopes, 1.0)


@pytest.mark.card("q27-reparam-variance")
@pytest.mark.card("q27-reparam-not-always-lower")
def test_score_function_can_beat_pathwise_for_a_rapidly_oscillating_f():
    k, mu, sigma = 5.0, 0.0, 1.0
    pathwise, score = per_sample_gradients(lambda z: torch.sin(k * z), mu, sigma, 200_000, seed=1)
    truth = k * math.cos(k * mu) * math.exp(-(k**2) * sigma**2 / 2)
    assert_within_se(pathwise.mean(), pathwise, truth)
    assert_within_se(score.mean(), score, truth)
    assert pathwise.var() > 10 * score.var()  # about 12.5 vs 0.5


@pytest.mark.card("q27-gumbel-softmax")
@pytest.mark.card("q27-reparam-variance")
def test_gumbel_max_samples_the_categorical_and_gumbel_softmax_relaxes_it():
    torch.manual_seed(0)
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=F64)
    n = 100_000
    u = torch.rand(n, 4, dtype=F64).clamp(1e-12, 1 - 1e-12)
    gumbel = -torch.log(-torch.log(u))
    hard = (probs.log() + gumbel).argmax(1)
    freq = torch.bincount(hard, minlength=4).double() / n
    se = torch.sqrt(probs * (1 - probs) / n)
    assert ((freq - probs).abs() <= 5 * se).all()

    log_probs = probs.log().clone().requires_grad_(True)
    soft = ((log_probs + gumbel[:1000]) / 0.05).softmax(1)  # temperature 0.05
    assert (soft.argmax(1) == hard[:1000]).all()
    assert soft.max(1).values.mean() > 0.9  # nearly one-hot
    (soft[:, 0].mean()).backward()
    assert log_probs.grad.abs().sum() > 0  # and differentiable in the logits


# ======================================================== Q28 spectral norm and Lipschitz constants


@pytest.mark.card("q28-lipschitz-linear")
def test_lipschitz_constant_of_linear_map_is_the_spectral_norm():
    g = gen(8)
    w = torch.randn(5, 3, generator=g, dtype=F64)
    sigma_max = torch.linalg.matrix_norm(w, ord=2)
    x, y = (
        torch.randn(10_000, 3, generator=g, dtype=F64),
        torch.randn(10_000, 3, generator=g, dtype=F64),
    )
    ratios = ((x - y) @ w.T).norm(dim=1) / (x - y).norm(dim=1)
    assert ratios.max() <= sigma_max + 1e-12
    _, _, vh = torch.linalg.svd(w)
    assert torch.isclose(
        (w @ vh[0]).norm(), sigma_max
    )  # attained along the top right singular vector


@pytest.mark.card("q28-power-iteration")
def test_power_iteration_matches_matrix_norm_ord_2(snippet):
    spectral_norm = snippet("snippets/spectral_norm_power_iteration.py").spectral_norm
    torch.manual_seed(0)
    for shape in ((6, 4), (3, 7), (10, 10)):
        w = torch.randn(*shape, dtype=F64)
        assert torch.isclose(
            spectral_norm(w, iters=500), torch.linalg.matrix_norm(w, ord=2), rtol=1e-6
        )


@pytest.mark.card("q28-power-iteration")
def test_power_iteration_vectors_converge_like_ratio_2k_and_the_estimate_like_ratio_4k(snippet):
    spectral_norm = snippet("snippets/spectral_norm_power_iteration.py").spectral_norm
    g = gen(28)
    u_basis, _ = torch.linalg.qr(torch.randn(8, 6, generator=g, dtype=F64))
    v_basis, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=F64))
    w = (
        u_basis * torch.tensor([2.0, 1.6, 1.0, 0.5, 0.3, 0.1], dtype=F64) @ v_basis.T
    )  # s2 / s1 = 0.8
    sigma = torch.linalg.matrix_norm(w, ord=2)
    top_v = torch.linalg.svd(w).Vh[0]
    estimate_errors, vector_errors = [], []
    for k in range(6, 14):
        torch.manual_seed(2)  # the same start vector for every k, |cos| = 0.52 with top_v
        estimate_errors.append(float(sigma - spectral_norm(w, iters=k)))
        torch.manual_seed(2)
        v = torch.randn(6, dtype=F64)
        for _ in range(k):
            v = w.T @ (w @ v)
            v = v / v.norm()
        vector_errors.append(float(torch.linalg.norm(v - (v @ top_v) * top_v)))  # sin of the angle
    for errors, rate in ((estimate_errors, 0.8**4), (vector_errors, 0.8**2)):
        ratios = torch.tensor(errors[1:]) / torch.tensor(errors[:-1])
        assert torch.allclose(ratios, torch.full_like(ratios, rate), rtol=0.05), (ratios, rate)


@pytest.mark.card("q28-power-iteration")
def test_power_iteration_start_vector_is_on_the_device_of_w(snippet):
    spectral_norm = snippet("snippets/spectral_norm_power_iteration.py").spectral_norm
    w = torch.empty(5, 3, device="meta")  # shapes only: stands in for a GPU tensor
    assert spectral_norm(w, iters=2).device == w.device


def relu_net_lipschitz_lower_bound(w1, w2, n=20_000, seed=0):
    """max over sampled inputs of the Jacobian's spectral norm: a lower bound on Lip(f)."""
    x = torch.randn(n, w1.shape[1], generator=gen(seed), dtype=F64)
    active = ((x @ w1.T) > 0).double()  # ReLU derivative
    jac = w2[None] @ (active[:, :, None] * w1[None])  # J(x) = W2 diag(1[W1 x > 0]) W1
    return torch.linalg.matrix_norm(jac, ord=2).max()


@pytest.mark.card("q28-network-lipschitz-bound")
def test_product_of_spectral_norms_is_only_an_upper_bound():
    g = gen(9)
    w1, w2 = torch.randn(16, 4, generator=g, dtype=F64), torch.randn(3, 16, generator=g, dtype=F64)
    bound = torch.linalg.matrix_norm(w1, ord=2) * torch.linalg.matrix_norm(w2, ord=2)
    assert relu_net_lipschitz_lower_bound(w1, w2) <= bound

    # f(x) = relu(x) + relu(-x) = |x|: Lipschitz constant 1, product of norms 2
    w1 = torch.tensor([[1.0], [-1.0]], dtype=F64)
    w2 = torch.tensor([[1.0, 1.0]], dtype=F64)
    x = torch.linspace(-3, 3, 601, dtype=F64)[:, None]
    assert torch.allclose(torch.relu(x @ w1.T) @ w2.T, x.abs())
    assert torch.isclose(relu_net_lipschitz_lower_bound(w1, w2), torch.tensor(1.0, dtype=F64))
    assert torch.isclose(
        torch.linalg.matrix_norm(w1, ord=2) * torch.linalg.matrix_norm(w2, ord=2),
        torch.tensor(2.0, dtype=F64),
    )


@pytest.mark.card("q28-training-stability")
@pytest.mark.card("q28-spectral-normalisation")
def test_spectral_normalisation_gives_unit_spectral_norm(snippet):
    spectral_norm = snippet("snippets/spectral_norm_power_iteration.py").spectral_norm
    torch.manual_seed(0)
    layers = [torch.randn(8, 8, dtype=F64) for _ in range(4)]
    normalised = [w / spectral_norm(w, iters=500) for w in layers]
    for w in normalised:
        assert torch.isclose(
            torch.linalg.matrix_norm(w, ord=2), torch.tensor(1.0, dtype=F64), rtol=1e-6
        )
    # through depth the raw bound grows geometrically, the normalised one stays at 1
    raw_bound = math.prod(float(torch.linalg.matrix_norm(w, ord=2)) for w in layers)
    assert raw_bound > 100
    x, y = torch.randn(8, dtype=F64), torch.randn(8, dtype=F64)
    fx, fy = x, y
    for w in normalised:
        fx, fy = torch.relu(w @ fx), torch.relu(w @ fy)
    assert (fx - fy).norm() <= (x - y).norm() + 1e-12


# ================================================================ Q29 trace trick


@pytest.mark.card("q29-trace-cyclic")
def test_trace_is_invariant_under_cyclic_shifts_only():
    g = gen(10)
    a, b, c = (torch.randn(s, generator=g, dtype=F64) for s in ((2, 3), (3, 4), (4, 2)))
    t = torch.trace(a @ b @ c)
    assert torch.isclose(t, torch.trace(b @ c @ a)) and torch.isclose(t, torch.trace(c @ a @ b))
    p, q, r = (torch.randn(3, 3, generator=g, dtype=F64) for _ in range(3))
    assert not torch.isclose(torch.trace(p @ q @ r), torch.trace(p @ r @ q))  # not any permutation
    x = torch.randn(3, generator=g, dtype=F64)
    assert torch.isclose(x @ p @ x, torch.trace(p @ torch.outer(x, x)))


@pytest.mark.card("q29-trace-derivatives")
def test_matrix_derivatives_of_trace_and_log_det():
    g = gen(11)
    a = torch.randn(3, 4, generator=g, dtype=F64, requires_grad=True)
    b = torch.randn(4, 3, generator=g, dtype=F64)
    (grad_a,) = torch.autograd.grad(torch.trace(a @ b), a)
    assert torch.allclose(grad_a, b.T)  # d tr(AB) / dA = B^T

    x = torch.randn(3, 2, generator=g, dtype=F64, requires_grad=True)
    m = torch.randn(3, 3, generator=g, dtype=F64)
    (grad_x,) = torch.autograd.grad(torch.trace(x.T @ m @ x), x)
    assert torch.allclose(grad_x, (m + m.T) @ x.detach())

    s = torch.randn(3, 3, generator=g, dtype=F64, requires_grad=True)
    (grad_s,) = torch.autograd.grad(torch.linalg.slogdet(s).logabsdet, s)
    assert torch.allclose(grad_s, torch.linalg.inv(s.detach()).T)  # d ln|det A| / dA = A^{-T}


@pytest.mark.card("q29-quadratic-expectation")
def test_expectation_of_quadratic_form_by_exact_enumeration():
    g = gen(12)
    support = torch.randn(7, 3, generator=g, dtype=F64)  # any discrete distribution
    w = torch.rand(7, generator=g, dtype=F64)
    w = w / w.sum()
    mu = w @ support
    cov = (support - mu).T @ ((support - mu) * w[:, None])
    a = torch.randn(3, 3, generator=g, dtype=F64)
    exact = (w * torch.einsum("ni,ij,nj->n", support, a, support)).sum()
    assert torch.isclose(exact, torch.trace(a @ cov) + mu @ a @ mu)


@pytest.mark.card("q29-applications")
def test_multi_output_least_squares_and_kalman_gain_via_trace_derivatives():
    g = gen(13)
    x = torch.randn(30, 4, generator=g, dtype=F64)
    y = torch.randn(30, 2, generator=g, dtype=F64)
    w_closed = torch.linalg.solve(x.T @ x, x.T @ y)
    assert torch.allclose(w_closed, torch.linalg.lstsq(x, y).solution)
    w = w_closed.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.trace((y - x @ w).T @ (y - x @ w)), w)
    assert torch.allclose(grad, torch.zeros_like(grad), atol=1e-10)

    # Kalman gain minimises the trace of the (Joseph-form) posterior covariance
    p_prior, r = random_spd(3, 14), random_spd(2, 15)
    h = torch.randn(2, 3, generator=g, dtype=F64)
    gain = p_prior @ h.T @ torch.linalg.inv(h @ p_prior @ h.T + r)
    eye = torch.eye(3, dtype=F64)

    def posterior_trace(k):
        return torch.trace((eye - k @ h) @ p_prior @ (eye - k @ h).T + k @ r @ k.T)

    k_var = gain.clone().requires_grad_(True)
    (grad_k,) = torch.autograd.grad(posterior_trace(k_var), k_var)
    assert torch.allclose(grad_k, torch.zeros_like(grad_k), atol=1e-9)
    assert posterior_trace(
        gain + 0.01 * torch.randn(3, 2, generator=g, dtype=F64)
    ) > posterior_trace(gain)


@pytest.mark.card("q29-applications")
def test_gaussian_precision_mle_is_inverse_sample_covariance():
    torch.manual_seed(0)
    true = MultivariateNormal(torch.zeros(3, dtype=F64), random_spd(3, 16))
    data = true.sample((50,))
    mean = data.mean(0)
    s = (data - mean).T @ (data - mean) / data.shape[0]  # divide by N
    lam_hat = torch.linalg.inv(s)

    def log_lik(lam):
        return MultivariateNormal(mean, precision_matrix=lam).log_prob(data).sum()

    def trace_form(lam):  # N/2 ln det Lambda - N/2 tr(Lambda S) + const
        n = data.shape[0]
        return 0.5 * n * torch.logdet(lam) - 0.5 * n * torch.trace(lam @ s)

    lam_var = lam_hat.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(trace_form(lam_var), lam_var)
    assert torch.allclose(grad, torch.zeros_like(grad), atol=1e-9)
    g = gen(17)
    smallest = float(torch.linalg.eigvalsh(lam_hat).min())
    for _ in range(5):
        e = torch.randn(3, 3, generator=g, dtype=F64)
        other = lam_hat + 0.2 * smallest * (e + e.T) / torch.linalg.matrix_norm(
            e + e.T, ord=2
        )  # stays PD
        assert log_lik(other) < log_lik(lam_hat)
        assert torch.isclose(
            log_lik(other) - log_lik(lam_hat), trace_form(other) - trace_form(lam_hat)
        )


@pytest.mark.card("q29-applications")
def test_gaussian_mle_quadratic_sum_is_trace_at_the_sample_mean_only():
    # sum_n (x_n - xbar)^T Sigma^{-1} (x_n - xbar) = N tr(Sigma^{-1} S), S the divide-by-N
    # covariance about xbar; at any other mu the sum exceeds it by
    # N (xbar - mu)^T Sigma^{-1} (xbar - mu), so the identity needs mu = xbar.
    g = gen(18)
    data = torch.randn(40, 3, generator=g, dtype=F64) * 2 + 1
    n = data.shape[0]
    mean = data.mean(0)
    s = (data - mean).T @ (data - mean) / n
    sigma_inv = torch.linalg.inv(random_spd(3, 19))

    def quad_sum(mu):
        d = data - mu
        return torch.einsum("ni,ij,nj->", d, sigma_inv, d)

    assert torch.isclose(quad_sum(mean), n * torch.trace(sigma_inv @ s))
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=F64)
    gap = n * (mean - mu) @ sigma_inv @ (mean - mu)
    assert torch.isclose(quad_sum(mu), n * torch.trace(sigma_inv @ s) + gap)
    assert gap > 1.0  # the old statement, with mu in place of xbar, is off by this much


# ======================================================= Q30 Schur complement, conditional Gaussian


def partitioned(seed=18, n=5, k=2):
    sigma = random_spd(n, seed)
    mu = torch.randn(n, generator=gen(seed + 1), dtype=F64)
    return mu, sigma, slice(0, k), slice(k, n)


@pytest.mark.card("q30-conditional-gaussian")
@pytest.mark.card("q30-schur-complement")
@pytest.mark.card("q30-precision-correspondence")
def test_conditional_covariance_is_schur_complement_and_inverse_of_precision_block():
    mu, sigma, a, b = partitioned()
    schur = sigma[a, a] - sigma[a, b] @ torch.linalg.solve(sigma[b, b], sigma[b, a])
    lam = torch.linalg.inv(sigma)
    assert torch.allclose(lam[a, a], torch.linalg.inv(schur))  # Lambda_11 = (Sigma / Sigma_22)^{-1}
    assert not torch.allclose(lam[a, a], schur)  # ... and not the conditional covariance itself
    assert torch.allclose(lam[a, b], -lam[a, a] @ sigma[a, b] @ torch.linalg.inv(sigma[b, b]))

    x2 = torch.randn(3, generator=gen(20), dtype=F64)
    mean_cov_form = mu[a] + sigma[a, b] @ torch.linalg.solve(sigma[b, b], x2 - mu[b])
    mean_prec_form = mu[a] - torch.linalg.solve(lam[a, a], lam[a, b] @ (x2 - mu[b]))
    assert torch.allclose(mean_cov_form, mean_prec_form)

    # the conditional density is the joint density renormalised in x1
    joint = MultivariateNormal(mu, sigma)
    cond = MultivariateNormal(mean_cov_form, schur)
    marginal = MultivariateNormal(mu[b], sigma[b, b])
    for _ in range(3):
        x1 = torch.randn(2, generator=gen(21), dtype=F64)
        lhs = joint.log_prob(torch.cat([x1, x2]))
        assert torch.isclose(lhs, cond.log_prob(x1) + marginal.log_prob(x2))


@pytest.mark.card("q30-conditional-gaussian")
def test_conditional_gaussian_by_monte_carlo_regression():
    mu, sigma, a, b = partitioned()
    torch.manual_seed(0)
    x = MultivariateNormal(mu, sigma).sample((100_000,))
    design = torch.cat([torch.ones(x.shape[0], 1, dtype=F64), x[:, b]], 1)
    coef = torch.linalg.lstsq(design, x[:, a]).solution
    residual = x[:, a] - design @ coef
    beta = torch.linalg.solve(sigma[b, b], sigma[b, a])  # = (Sigma_12 Sigma_22^{-1})^T
    schur = sigma[a, a] - sigma[a, b] @ beta
    scale = torch.sqrt(torch.diag(schur))
    assert torch.allclose(coef[1:], beta, atol=0.03)
    assert torch.allclose(
        residual.T @ residual / x.shape[0], schur, atol=0.05 * float(scale.max() ** 2)
    )


@pytest.mark.card("q30-precision-correspondence")
def test_zero_in_precision_iff_conditional_independence():
    n, phi = 5, 0.8  # AR(1) chain: x_t = phi x_{t-1} + noise, a Markov chain
    idx = torch.arange(n, dtype=F64)
    sigma = phi ** (idx[:, None] - idx[None]).abs() / (1 - phi**2)
    lam = torch.linalg.inv(sigma)
    assert (sigma.abs() > 1e-3).all()  # dense covariance: everything marginally dependent
    for i in range(n):
        for j in range(n):
            pair = [i, j]
            if i == j:
                continue
            rest = [t for t in range(n) if t not in pair]
            cond_cov = sigma[pair][:, pair] - sigma[pair][:, rest] @ torch.linalg.solve(
                sigma[rest][:, rest], sigma[rest][:, pair]
            )
            assert torch.allclose(torch.linalg.inv(cond_cov), lam[pair][:, pair])
            independent = abs(float(cond_cov[0, 1])) < 1e-10
            assert independent == (abs(float(lam[i, j])) < 1e-10) == (abs(i - j) > 1)  # tridiagonal
            partial = cond_cov[0, 1] / torch.sqrt(cond_cov[0, 0] * cond_cov[1, 1])
            assert torch.isclose(
                partial, -lam[i, j] / torch.sqrt(lam[i, i] * lam[j, j]), atol=1e-12
            )


@pytest.mark.card("q30-applications")
def test_gp_predictive_and_kalman_update_are_schur_complements():
    g = gen(22)
    x_train = torch.rand(6, generator=g, dtype=F64) * 4
    x_test = torch.tensor([0.5, 2.2, 3.7], dtype=F64)
    y = torch.sin(x_train)
    noise = 0.1

    def rbf(u, v):
        return torch.exp(-0.5 * (u[:, None] - v[None]) ** 2)

    k, k_star, k_ss = (
        rbf(x_train, x_train) + noise * torch.eye(6, dtype=F64),
        rbf(x_train, x_test),
        rbf(x_test, x_test),
    )
    mean_gp = k_star.T @ torch.linalg.solve(k, y)
    cov_gp = k_ss - k_star.T @ torch.linalg.solve(k, k_star)
    joint = torch.cat([torch.cat([k_ss, k_star.T], 1), torch.cat([k_star, k], 1)], 0)
    lam = torch.linalg.inv(joint)
    assert torch.allclose(cov_gp, torch.linalg.inv(lam[:3, :3]), atol=1e-8)
    assert torch.allclose(mean_gp, -torch.linalg.solve(lam[:3, :3], lam[:3, 3:] @ y), atol=1e-8)

    p, r = random_spd(3, 23), random_spd(2, 24)
    h = torch.randn(2, 3, generator=g, dtype=F64)
    gain = p @ h.T @ torch.linalg.inv(h @ p @ h.T + r)
    joint_xy = torch.cat([torch.cat([p, p @ h.T], 1), torch.cat([h @ p, h @ p @ h.T + r], 1)], 0)
    schur = joint_xy[:3, :3] - joint_xy[:3, 3:] @ torch.linalg.solve(
        joint_xy[3:, 3:], joint_xy[3:, :3]
    )
    assert torch.allclose(p - gain @ h @ p, schur)


# ================================================================ Q31 Wasserstein vs KL


def w1_discrete_1d(xs, px, ys, py):
    """W1 between two discrete distributions on the line: integral of |F_P - F_Q|."""
    points = torch.cat([xs, ys]).unique()  # sorted
    cdf_p = torch.stack([px[xs <= t].sum() for t in points])
    cdf_q = torch.stack([py[ys <= t].sum() for t in points])
    return ((cdf_p - cdf_q).abs()[:-1] * points.diff()).sum()


@pytest.mark.card("q31-kl-vs-wasserstein")
def test_point_masses_w1_is_distance_while_kl_is_infinite_and_js_constant():
    support = torch.tensor([0.0, 0.5, 1.0, 3.0], dtype=F64)
    for j, theta in ((1, 0.5), (2, 1.0), (3, 3.0)):
        p = torch.zeros(4, dtype=F64)
        q = torch.zeros(4, dtype=F64)
        p[0], q[j] = 1.0, 1.0  # delta_0 vs delta_theta
        assert torch.isclose(w1_discrete_1d(support, p, support, q), torch.tensor(theta, dtype=F64))
        assert torch.isinf(kl_divergence(Categorical(probs=p), Categorical(probs=q)))
        m = Categorical(probs=(p + q) / 2)
        js = 0.5 * kl_divergence(Categorical(probs=p), m) + 0.5 * kl_divergence(
            Categorical(probs=q), m
        )
        assert torch.isclose(js, torch.tensor(math.log(2), dtype=F64))  # same for every theta


@pytest.mark.card("q31-wasserstein-distance")
def test_w1_by_brute_force_matching_equals_sorting_and_cdf_formula():
    g = gen(25)
    x, y = torch.randn(6, generator=g, dtype=F64), torch.randn(6, generator=g, dtype=F64) + 1
    # uniform weights: an optimal coupling is a permutation (Birkhoff-von Neumann)
    brute = min(
        float((x - y[list(perm)]).abs().mean()) for perm in itertools.permutations(range(6))
    )
    sorted_match = (x.sort().values - y.sort().values).abs().mean()
    weights = torch.full((6,), 1 / 6, dtype=F64)
    assert math.isclose(brute, float(sorted_match), rel_tol=1e-12)
    assert math.isclose(brute, float(w1_discrete_1d(x, weights, y, weights)), rel_tol=1e-12)


def exact_ot_uniform(x, y, cost=lambda a, b: (a - b).norm(dim=-1)):
    c = cost(x[:, None], y[None])
    n = x.shape[0]
    return min(
        float(c[torch.arange(n), list(perm)].mean()) for perm in itertools.permutations(range(n))
    ), c


def lipschitz_critic(anchors: torch.Tensor, offsets: torch.Tensor, sign: float):
    """A 1-Lipschitz function of z: sign * the smallest of offset_k + |z - anchor_k|."""
    return lambda z: sign * (offsets + (z[:, None] - anchors[None]).norm(dim=-1)).min(1).values


@pytest.mark.card("q31-kantorovich-rubinstein")
@pytest.mark.card("q28-training-stability")
def test_kantorovich_rubinstein_duality():
    g = gen(26)
    # 2-D: every 1-Lipschitz critic gives a lower bound on W1 (weak duality)
    x, y = (
        torch.randn(6, 2, generator=g, dtype=F64),
        torch.randn(6, 2, generator=g, dtype=F64) + 0.7,
    )
    w1, _ = exact_ot_uniform(x, y)
    for _ in range(50):
        anchors = torch.randn(4, 2, generator=g, dtype=F64) * 2
        offsets = torch.randn(4, generator=g, dtype=F64)
        for sign in (1.0, -1.0):
            f = lipschitz_critic(anchors, offsets, sign)
            assert float(f(x).mean() - f(y).mean()) <= w1 + 1e-12
    # a scaled-up critic (not 1-Lipschitz) makes the objective as large as we like
    u = (x.mean(0) - y.mean(0)) / (x.mean(0) - y.mean(0)).norm()
    for c in (1.0, 10.0, 1000.0):
        assert math.isclose(
            float((c * x @ u).mean() - (c * y @ u).mean()),
            c * float((x.mean(0) - y.mean(0)).norm()),
        )
    assert float(1000.0 * (x.mean(0) - y.mean(0)).norm()) > w1

    # 1-D: the critic f' = sign(F_Q - F_P) is 1-Lipschitz and attains W1 (strong duality)
    a, b = torch.randn(5, generator=g, dtype=F64), torch.randn(7, generator=g, dtype=F64) + 0.5
    pa, pb = torch.full((5,), 0.2, dtype=F64), torch.full((7,), 1 / 7, dtype=F64)
    points = torch.cat([a, b]).unique()
    cdf_a = torch.stack([pa[a <= t].sum() for t in points])
    cdf_b = torch.stack([pb[b <= t].sum() for t in points])
    slopes = torch.sign(cdf_b - cdf_a)[:-1]
    values = torch.cat([torch.zeros(1, dtype=F64), torch.cumsum(slopes * points.diff(), 0)])
    f_at = dict(zip(points.tolist(), values.tolist(), strict=True))
    dual = sum(w * f_at[t] for w, t in zip(pa.tolist(), a.tolist(), strict=True)) - sum(
        w * f_at[t] for w, t in zip(pb.tolist(), b.tolist(), strict=True)
    )
    assert math.isclose(dual, float(w1_discrete_1d(a, pa, b, pb)), rel_tol=1e-10)


@pytest.mark.card("q31-wgan")
def test_w1_gives_a_gradient_where_js_is_flat():
    grid = torch.linspace(-5, 15, 40_001, dtype=F64)
    dx = float(grid[1] - grid[0])
    s = 0.1

    def js_and_w1(theta):
        p = Normal(0.0, s).log_prob(grid).exp()
        q = Normal(theta, s).log_prob(grid).exp()
        m = (p + q) / 2
        tiny = 1e-300
        js = (
            0.5 * (p * ((p + tiny) / (m + tiny)).log()).sum() * dx
            + 0.5 * (q * ((q + tiny) / (m + tiny)).log()).sum() * dx
        )
        cdf_p, cdf_q = torch.cumsum(p, 0) * dx, torch.cumsum(q, 0) * dx
        w1 = (cdf_p - cdf_q).abs().sum() * dx
        return js, w1

    theta = torch.tensor(5.0, dtype=F64, requires_grad=True)
    js, w1 = js_and_w1(theta)
    assert abs(float(js.detach()) - math.log(2)) < 1e-6
    assert abs(float(w1.detach()) - 5.0) < 1e-3
    (g_js,) = torch.autograd.grad(js, theta, retain_graph=True)
    (g_w1,) = torch.autograd.grad(w1, theta)
    assert abs(float(g_js)) < 1e-6  # generator gets no signal from JS
    assert abs(float(g_w1) - 1.0) < 1e-3  # but a unit slope from W1


def sinkhorn(a, b, cost, eps, iters=2000):
    """Log-domain Sinkhorn: returns the entropic optimal plan."""
    f = torch.zeros_like(a)
    g = torch.zeros_like(b)
    for _ in range(iters):
        f = eps * a.log() - eps * torch.logsumexp((g[None] - cost) / eps, 1)
        g = eps * b.log() - eps * torch.logsumexp((f[:, None] - cost) / eps, 0)
    return torch.exp((f[:, None] + g[None] - cost) / eps)


@pytest.mark.card("q31-sinkhorn")
@pytest.mark.card("q31-wgan")
def test_sinkhorn_approaches_exact_ot_and_matches_plain_scaling_iterations():
    g = gen(27)
    x, y = torch.randn(5, 2, generator=g, dtype=F64), torch.randn(5, 2, generator=g, dtype=F64) + 1
    exact, cost = exact_ot_uniform(x, y)
    a = b = torch.full((5,), 0.2, dtype=F64)
    previous = math.inf
    for eps in (1.0, 0.1, 0.01):
        plan = sinkhorn(a, b, cost, eps)
        assert torch.allclose(plan.sum(0), b, atol=1e-12)  # exact after the last (column) update
        assert torch.allclose(plan.sum(1), a, atol=1e-4)  # converges slowly for small eps
        value = float((plan * cost).sum())
        assert value >= exact - 1e-4 and value <= previous + 1e-9
        previous = value
    assert previous - exact < 0.01

    # the card's u, v scaling form gives the same plan (moderate eps: no underflow)
    kernel = torch.exp(-cost / 1.0)
    u, v = torch.ones(5, dtype=F64), torch.ones(5, dtype=F64)
    for _ in range(500):
        u = a / (kernel @ v)
        v = b / (kernel.T @ u)
    assert torch.allclose(
        torch.diag(u) @ kernel @ torch.diag(v), sinkhorn(a, b, cost, 1.0), atol=1e-10
    )


@pytest.mark.card("q31-wgan")
def test_sliced_wasserstein_is_a_lower_bound_and_exact_in_one_dimension():
    g = gen(28)
    x, y = (
        torch.randn(6, 2, generator=g, dtype=F64),
        torch.randn(6, 2, generator=g, dtype=F64) + 0.5,
    )
    w1, _ = exact_ot_uniform(x, y)
    angles = torch.rand(500, generator=g, dtype=F64) * 2 * math.pi
    dirs = torch.stack([angles.cos(), angles.sin()], 1)
    projected = [((x @ d).sort().values - (y @ d).sort().values).abs().mean() for d in dirs]
    assert max(projected) <= w1 + 1e-12  # each projection is 1-Lipschitz, so W1 cannot grow
    x1, y1 = x[:, :1], y[:, :1]
    w1_1d, _ = exact_ot_uniform(x1, y1)
    assert math.isclose(
        float((x1[:, 0].sort().values - y1[:, 0].sort().values).abs().mean()), w1_1d, rel_tol=1e-12
    )


# ================================================================ Q32 Hessian spectrum


@pytest.mark.card("q32-hessian-critical-points")
def test_hessian_eigenvalues_classify_critical_points_unless_degenerate():
    def eig_at_origin(f):
        return torch.linalg.eigvalsh(
            torch.autograd.functional.hessian(f, torch.zeros(2, dtype=F64))
        )

    assert torch.allclose(
        eig_at_origin(lambda v: v[0] ** 2 + 3 * v[1] ** 2), torch.tensor([2.0, 6.0], dtype=F64)
    )
    assert torch.allclose(
        eig_at_origin(lambda v: -(v[0] ** 2) - v[1] ** 2), torch.tensor([-2.0, -2.0], dtype=F64)
    )
    assert torch.allclose(
        eig_at_origin(lambda v: v[0] ** 2 - v[1] ** 2), torch.tensor([-2.0, 2.0], dtype=F64)
    )
    # semi-definite Hessian: the test is inconclusive
    quartic = lambda v: v[0] ** 4 + v[1] ** 2  # noqa: E731  minimum
    cubic = lambda v: v[0] ** 3 + v[1] ** 2  # noqa: E731  not a minimum
    assert torch.allclose(eig_at_origin(quartic), eig_at_origin(cubic))
    t = torch.tensor([-0.1, 0.0], dtype=F64)
    assert quartic(t) > 0 and cubic(t) < 0

    # A zero eigenvalue does not make the test inconclusive when the others have both signs:
    # x^2 - y^2 + z^4 and x^2 - y^2 + z^3 (eigenvalues 2, -2, 0) are both saddles.
    def hess_eig(f):
        return torch.linalg.eigvalsh(
            torch.autograd.functional.hessian(f, torch.zeros(3, dtype=F64))
        )

    for third in (lambda z: z**4, lambda z: z**3, lambda z: -(z**4)):
        f = lambda v: v[0] ** 2 - v[1] ** 2 + third(v[2])  # noqa: E731, B023
        assert torch.allclose(hess_eig(f), torch.tensor([-2.0, 0.0, 2.0], dtype=F64))
        for s in (1e-1, 1e-3):
            up, down = (
                torch.tensor([s, 0.0, 0.0], dtype=F64),
                torch.tensor([0.0, s, 0.0], dtype=F64),
            )
            assert f(up) > 0 > f(down)  # higher and lower points arbitrarily close: a saddle


@pytest.mark.card("q32-hessian-critical-points")
def test_all_eigenvalues_positive_is_much_rarer_than_two_to_the_minus_n():
    torch.manual_seed(0)
    m = 100_000
    probs = {}
    for n in (1, 2, 3, 4):
        a = torch.randn(m, n, n, dtype=F64)
        goe = (a + a.transpose(1, 2)) / 2  # random symmetric "Hessians"
        probs[n] = float((torch.linalg.eigvalsh(goe) > 0).all(1).double().mean())
    assert abs(probs[1] - 0.5) < 0.01
    assert abs(probs[2] - (2 - math.sqrt(2)) / 4) < 0.01  # exact value for 2x2 GOE: 0.146 < 1/4
    assert probs[3] < 0.3 * 2**-3 and probs[4] < 0.1 * 2**-4  # decays like exp(-c n^2), not 2^-n


@pytest.mark.card("q32-saddle-escape")
def test_gradient_descent_stalls_on_the_stable_manifold_and_perturbation_escapes():
    def grad(v):  # f = x^2 - y^2 + y^4 / 4: saddle at 0, minima at (0, +-sqrt 2)
        return torch.stack([2 * v[0], -2 * v[1] + v[1] ** 3])

    lr = 0.05
    on_manifold = torch.tensor([1.0, 0.0], dtype=F64)
    perturbed = torch.tensor([1.0, 1e-8], dtype=F64)
    for _ in range(1000):
        on_manifold = on_manifold - lr * grad(on_manifold)
        perturbed = perturbed - lr * grad(perturbed)
    assert on_manifold.norm() < 1e-12  # converged to the saddle
    assert torch.allclose(perturbed.abs(), torch.tensor([0.0, math.sqrt(2)], dtype=F64), atol=1e-8)

    # Newton on the quadratic x^2 - y^2 jumps straight to the saddle from anywhere
    hessian = torch.diag(torch.tensor([2.0, -2.0], dtype=F64))
    start = torch.tensor([0.7, -1.3], dtype=F64)
    newton = start - torch.linalg.solve(hessian, hessian @ start)
    assert torch.allclose(newton, torch.zeros(2, dtype=F64))
    saddle_free = start - torch.linalg.solve(
        hessian.abs(), hessian @ start
    )  # |H|: moves away along y
    assert saddle_free[1].abs() > start[1].abs()


@pytest.mark.card("q32-step-size-stability")
@pytest.mark.card("q21-hvp-code")
def test_gradient_descent_is_stable_iff_step_below_two_over_lambda_max(snippet):
    hvp = snippet("snippets/hessian_vector_product.py").hvp
    h = random_spd(4, 29)

    def loss(w):
        return 0.5 * w @ h @ w

    # lambda_max by power iteration with Hessian-vector products only
    torch.manual_seed(0)
    w0 = torch.randn(4, dtype=F64, requires_grad=True)
    v = torch.randn(4, dtype=F64)
    for _ in range(300):
        v = hvp(loss, w0, v)
        v = v / v.norm()
    lam_max = float(v @ hvp(loss, w0, v))
    assert math.isclose(lam_max, float(torch.linalg.eigvalsh(h).max()), rel_tol=1e-8)

    for factor, stable in ((0.99, True), (1.01, False)):
        w = torch.ones(4, dtype=F64)
        eta = factor * 2 / lam_max
        for _ in range(3000):
            w = w - eta * h @ w
        assert (w.norm() < 1e-3) == stable


@pytest.mark.card("q32-sharpness")
def test_sharpness_is_not_invariant_to_reparameterisation():
    x = torch.linspace(0.1, 2.0, 20, dtype=F64)
    y = torch.relu(x)  # realised by w2 * relu(w1 x) whenever w1 * w2 = 1, w1 > 0

    def loss(w):
        return ((w[1] * torch.relu(w[0] * x) - y) ** 2).mean()

    sharpness = []
    for alpha in (1.0, 10.0):
        w = torch.tensor([alpha, 1 / alpha], dtype=F64)
        assert float(loss(w)) < 1e-20  # the same function, a global minimum
        sharpness.append(
            float(torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, w)).max())
        )
    assert sharpness[1] > 20 * sharpness[0]
