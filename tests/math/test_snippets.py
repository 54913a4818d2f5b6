"""Part 2 (PyTorch snippets): every snippet file shown on a card, checked against torch's built-ins.

Each test imports the very file a card shows (`load_snippet`) and computes the reference with an
independent torch implementation: torch.softmax, F.cross_entropy, torch.distributions, torch.linalg.
Monte Carlo tolerances are a few standard errors of the estimate, with fixed seeds.
"""

from __future__ import annotations

import math
import re
import runpy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from conftest import CARDS_DIR, load_snippet

SNIPPETS = [
    "softmax",
    "cross_entropy",
    "vae_kl",
    "low_rank_approx",
    "lora_linear",
    "gaussian_mle",
    "mc_kl",
]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# --- every snippet ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SNIPPETS)
def test_importing_a_snippet_runs_no_example(name, capsys):
    load_snippet(f"snippets/{name}.py")
    assert capsys.readouterr().out == ""


def _run_example(name, capsys) -> list[float]:
    """Run a snippet's `if __name__ == "__main__":` example; return the number on each printed
    line."""
    runpy.run_path(str(CARDS_DIR / "snippets" / f"{name}.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    return [float(re.search(r"[=:]\s*(-?\d+\.\d+)", line).group(1)) for line in lines]


@pytest.mark.card("p2-snippet-low-rank-approx")
def test_low_rank_example_prints_the_eckart_young_error(capsys):
    error, eckart_young = _run_example("low_rank_approx", capsys)
    assert error == pytest.approx(eckart_young, abs=1e-3)


@pytest.mark.card("p2-snippet-mc-kl")
def test_mc_kl_example_is_within_four_standard_errors(capsys):
    estimate, closed_form = _run_example("mc_kl", capsys)
    # log p - log q = x^2/2 - 2x + const for x ~ N(0, 1): variance 1/2 + 4 = 4.5, n = 100 000
    assert closed_form == pytest.approx(0.5 * math.log(0.5) + 1.5, abs=1e-4)
    assert estimate == pytest.approx(closed_form, abs=4 * math.sqrt(4.5 / 100_000))


# --- 2.1 softmax -----------------------------------------------------------------------------


@pytest.mark.card("p2-snippet-softmax")
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_matches_torch(dim):
    softmax = load_snippet("snippets/softmax.py").softmax
    x = 5 * torch.randn(4, 7, 3, dtype=torch.float64)
    torch.testing.assert_close(softmax(x, dim=dim), torch.softmax(x, dim=dim))


@pytest.mark.card("p2-snippet-softmax")
@pytest.mark.card("p2-softmax-why-subtract-max")
def test_softmax_survives_logits_where_the_naive_formula_overflows():
    softmax = load_snippet("snippets/softmax.py").softmax
    x = torch.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
    naive = torch.exp(x) / torch.exp(x).sum(dim=-1, keepdim=True)
    assert torch.isnan(naive).all()  # inf/inf in row 0, 0/0 in row 1
    out = softmax(x)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.softmax(x, dim=-1))
    torch.testing.assert_close(out.sum(dim=-1), torch.ones(2))


@pytest.mark.card("p2-softmax-why-subtract-max")
def test_float32_exp_overflows_just_above_88_7():
    assert torch.isfinite(torch.exp(torch.tensor(88.7)))
    assert torch.isinf(torch.exp(torch.tensor(88.8)))
    assert math.log(torch.finfo(torch.float32).max) == pytest.approx(88.72, abs=0.01)


@pytest.mark.card("p2-snippet-softmax")
def test_softmax_gradient_matches_torch():
    softmax = load_snippet("snippets/softmax.py").softmax
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 5, dtype=torch.float64)
    (g_snippet,) = torch.autograd.grad((softmax(x) * w).sum(), x)
    (g_torch,) = torch.autograd.grad((torch.softmax(x, dim=-1) * w).sum(), x)
    torch.testing.assert_close(g_snippet, g_torch)


@pytest.mark.card("p2-softmax-shift-invariance")
@settings(max_examples=50, deadline=None)
@given(
    z=st.lists(st.floats(-50, 50), min_size=1, max_size=8),
    c=st.floats(-1e3, 1e3),
)
def test_softmax_is_invariant_to_adding_a_constant(z, c):
    softmax = load_snippet("snippets/softmax.py").softmax
    z = torch.tensor(z, dtype=torch.float64)
    torch.testing.assert_close(torch.softmax(z + c, dim=0), torch.softmax(z, dim=0))
    torch.testing.assert_close(softmax(z + c, dim=0), softmax(z, dim=0))


# --- 2.2 cross-entropy -----------------------------------------------------------------------


@pytest.mark.card("p2-snippet-cross-entropy")
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_cross_entropy_matches_torch(scale):
    cross_entropy_loss = load_snippet("snippets/cross_entropy.py").cross_entropy_loss
    logits = scale * torch.randn(16, 10)
    targets = torch.randint(0, 10, (16,))
    out = cross_entropy_loss(logits, targets)
    assert out.shape == ()
    assert torch.isfinite(out)
    torch.testing.assert_close(out, F.cross_entropy(logits, targets))


@pytest.mark.card("p2-snippet-cross-entropy")
def test_cross_entropy_gradient_matches_torch():
    cross_entropy_loss = load_snippet("snippets/cross_entropy.py").cross_entropy_loss
    logits = torch.randn(8, 5, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 5, (8,))
    (g_snippet,) = torch.autograd.grad(cross_entropy_loss(logits, targets), logits)
    (g_torch,) = torch.autograd.grad(F.cross_entropy(logits, targets), logits)
    torch.testing.assert_close(g_snippet, g_torch)


@pytest.mark.card("p2-snippet-cross-entropy")
@pytest.mark.parametrize("ignore_index", [-100, 3])
def test_cross_entropy_skips_ignore_index_like_torch(ignore_index):
    cross_entropy_loss = load_snippet("snippets/cross_entropy.py").cross_entropy_loss
    logits = torch.randn(12, 5, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, 5, (12,))
    targets[::3] = ignore_index  # padding positions, or a class to leave out
    kw = {} if ignore_index == -100 else {"ignore_index": ignore_index}
    ours, ref = cross_entropy_loss(logits, targets, **kw), F.cross_entropy(logits, targets, **kw)
    torch.testing.assert_close(ours, ref)
    (g_ours,) = torch.autograd.grad(ours, logits)
    (g_ref,) = torch.autograd.grad(ref, logits)
    torch.testing.assert_close(g_ours, g_ref)
    assert (g_ours[::3] == 0).all()
    # Every target ignored: both give NaN (0 / 0), neither raises.
    none = torch.full((4,), ignore_index)
    assert cross_entropy_loss(logits[:4], none, **kw).isnan()
    assert F.cross_entropy(logits[:4], none, **kw).isnan()


@pytest.mark.card("p2-cross-entropy-logsumexp")
def test_per_example_cross_entropy_is_logsumexp_minus_target_logit():
    z = 3 * torch.randn(32, 7, dtype=torch.float64)
    y = torch.randint(0, 7, (32,))
    ours = torch.logsumexp(z, dim=-1) - z[torch.arange(32), y]
    reference = -torch.log(torch.softmax(z, dim=-1))[torch.arange(32), y]
    torch.testing.assert_close(ours, reference)
    torch.testing.assert_close(ours, F.cross_entropy(z, y, reduction="none"))


@pytest.mark.card("p2-logsumexp-trick")
def test_logsumexp_trick_matches_torch_where_the_naive_sum_overflows():
    z = torch.tensor([1000.0, 999.0, 990.0])
    assert torch.isinf(torch.log(torch.exp(z).sum()))
    m = z.max()
    shifted = m + torch.log(torch.exp(z - m).sum())
    torch.testing.assert_close(shifted, torch.logsumexp(z, dim=0))
    small = torch.randn(5, dtype=torch.float64)
    torch.testing.assert_close(
        small.max() + torch.log(torch.exp(small - small.max()).sum()),
        torch.log(torch.exp(small).sum()),
    )


# --- 2.3 VAE KL ------------------------------------------------------------------------------


@pytest.mark.card("p2-snippet-vae-kl")
def test_vae_kl_matches_torch_distributions():
    kl_divergence_gaussian = load_snippet("snippets/vae_kl.py").kl_divergence_gaussian
    mu = torch.randn(6, 4, dtype=torch.float64)
    log_var = torch.randn(6, 4, dtype=torch.float64)
    reference = kl_divergence(
        Normal(mu, torch.exp(0.5 * log_var)), Normal(torch.zeros_like(mu), torch.ones_like(mu))
    ).sum(-1)
    out = kl_divergence_gaussian(mu, log_var)
    assert out.shape == (6,)
    torch.testing.assert_close(out, reference)


@pytest.mark.card("p2-snippet-vae-kl")
@pytest.mark.card("p2-vae-log-var")
def test_vae_kl_is_zero_for_the_prior_and_finite_for_any_log_var():
    kl_divergence_gaussian = load_snippet("snippets/vae_kl.py").kl_divergence_gaussian
    torch.testing.assert_close(
        kl_divergence_gaussian(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2)
    )
    # any real log_var is a valid variance exp(log_var) > 0: the KL stays finite and positive
    log_var = torch.linspace(-30, 30, 7).reshape(1, 7)
    out = kl_divergence_gaussian(torch.zeros_like(log_var), log_var)
    assert torch.isfinite(out).all() and (out > 0).all()


# --- 2.4 low-rank approximation ---------------------------------------------------------------


@pytest.mark.card("p2-snippet-low-rank-approx")
@pytest.mark.card("p2-low-rank-error")
@pytest.mark.parametrize("r", [1, 5, 20])
def test_low_rank_approx_has_rank_r_and_the_eckart_young_error(r):
    low_rank_approx = load_snippet("snippets/low_rank_approx.py").low_rank_approx
    W = torch.randn(40, 25, dtype=torch.float64)
    W_r = low_rank_approx(W, r)
    S = torch.linalg.svd(W).S
    assert W_r.shape == W.shape
    assert torch.linalg.matrix_rank(W_r) == r
    torch.testing.assert_close(torch.linalg.svdvals(W_r)[:r], S[:r])
    # Eckart-Young-Mirsky: Frobenius error sqrt(sum_{i>r} s_i^2), spectral error s_{r+1}
    torch.testing.assert_close(torch.linalg.norm(W - W_r), S[r:].pow(2).sum().sqrt())
    torch.testing.assert_close(torch.linalg.matrix_norm(W - W_r, ord=2), S[r])


@pytest.mark.card("p2-snippet-low-rank-approx")
@pytest.mark.card("p2-low-rank-error")
def test_no_other_rank_r_matrix_is_closer():
    low_rank_approx = load_snippet("snippets/low_rank_approx.py").low_rank_approx
    W = torch.randn(30, 20, dtype=torch.float64)
    r = 4
    best = torch.linalg.norm(W - low_rank_approx(W, r))
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    for _ in range(50):
        # the best matrix with a random r-dimensional column space: project W onto it
        Q, _ = torch.linalg.qr(torch.randn(30, r, dtype=torch.float64))
        assert torch.linalg.norm(W - Q @ (Q.T @ W)) >= best
        # a small perturbation of the optimum's factors
        U_r = U[:, :r] + 1e-2 * torch.randn(30, r, dtype=torch.float64)
        assert torch.linalg.norm(W - (U_r * S[:r]) @ Vh[:r]) >= best


@pytest.mark.card("p2-snippet-low-rank-approx")
def test_full_rank_approximation_returns_the_matrix():
    low_rank_approx = load_snippet("snippets/low_rank_approx.py").low_rank_approx
    W = torch.randn(6, 9, dtype=torch.float64)
    torch.testing.assert_close(low_rank_approx(W, 6), W)


# --- 2.5 LoRA --------------------------------------------------------------------------------


def _lora(r=4, alpha=8.0, bias=True):
    LoRALinear = load_snippet("snippets/lora_linear.py").LoRALinear
    base = nn.Linear(12, 6, bias=bias)
    return base, LoRALinear(base, r=r, alpha=alpha)


@pytest.mark.card("p2-snippet-lora-linear")
@pytest.mark.card("p2-lora-init")
def test_lora_equals_the_frozen_layer_at_init():
    base, lora = _lora()
    x = torch.randn(5, 12)
    assert torch.equal(lora.B.weight, torch.zeros(6, 4))
    assert torch.equal(lora(x), base(x))


@pytest.mark.card("p2-snippet-lora-linear")
@pytest.mark.card("p2-lora-forward")
@pytest.mark.card("p2-lora-scaling")
def test_lora_forward_is_the_merged_linear_map():
    base, lora = _lora(r=4, alpha=8.0)
    with torch.no_grad():
        lora.B.weight.normal_()
    x = torch.randn(5, 12)
    W, b, A, B = base.weight, base.bias, lora.A.weight, lora.B.weight
    assert lora.scaling == 8.0 / 4
    expected = x @ (W + (8.0 / 4) * B @ A).T + b
    torch.testing.assert_close(lora(x), expected)
    torch.testing.assert_close(lora.merged_weight(), W + 2.0 * B @ A)
    torch.testing.assert_close(F.linear(x, lora.merged_weight(), b), expected)


@pytest.mark.card("p2-snippet-lora-linear")
def test_only_a_and_b_are_trainable():
    _, lora = _lora()
    trainable = {name for name, p in lora.named_parameters() if p.requires_grad}
    frozen = {name for name, p in lora.named_parameters() if not p.requires_grad}
    assert trainable == {"A.weight", "B.weight"}
    assert frozen == {"base.weight", "base.bias"}
    assert sum(p.numel() for p in lora.parameters() if p.requires_grad) == 4 * (12 + 6)


@pytest.mark.card("p2-snippet-lora-linear")
def test_a_is_initialised_like_nn_linear_as_in_peft():
    # kaiming_uniform_(a=sqrt(5)) draws from U(-1/sqrt(in), 1/sqrt(in)), nn.Linear's default
    LoRALinear = load_snippet("snippets/lora_linear.py").LoRALinear
    lora = LoRALinear(nn.Linear(400, 300), r=64)
    bound = 1 / math.sqrt(400)
    A = lora.A.weight
    assert A.abs().max() <= bound
    # uniform on (-b, b) has standard deviation b / sqrt(3); 25 600 draws pin it within 2 %
    assert A.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.02)


@pytest.mark.card("p2-lora-scaling")
def test_with_adam_doubling_alpha_acts_like_doubling_the_learning_rate():
    LoRALinear = load_snippet("snippets/lora_linear.py").LoRALinear
    base = nn.Linear(12, 6)
    x = torch.randn(5, 12)

    def update_after_one_adam_step(alpha, lr):
        torch.manual_seed(1)  # the same A for both layers
        lora = LoRALinear(base, r=4, alpha=alpha)
        opt = torch.optim.Adam([lora.A.weight, lora.B.weight], lr=lr)
        lora(x).pow(2).sum().backward()
        opt.step()
        return lora.merged_weight() - base.weight

    # Adam's first step is lr * g / |g| per entry: the scale of the gradient cancels, so the
    # update s * dB * A grows with s = alpha / r just as it grows with lr
    torch.testing.assert_close(
        update_after_one_adam_step(32.0, 1e-3), update_after_one_adam_step(16.0, 2e-3)
    )
    torch.testing.assert_close(
        update_after_one_adam_step(32.0, 1e-3), 2 * update_after_one_adam_step(16.0, 1e-3)
    )


@pytest.mark.card("p2-lora-init")
def test_b_gets_a_gradient_at_init_but_all_zero_init_never_moves():
    base, lora = _lora()
    x = torch.randn(5, 12)
    lora(x).pow(2).sum().backward()
    assert lora.A.weight.grad.abs().max() == 0  # dL/dA = s B^T g (...) = 0 while B = 0
    assert lora.B.weight.grad.abs().max() > 0  # dL/dB = s g (A x)^T != 0
    assert base.weight.grad is None

    _, stuck = _lora()
    with torch.no_grad():
        stuck.A.weight.zero_()
    stuck(x).pow(2).sum().backward()
    assert stuck.A.weight.grad.abs().max() == 0
    assert stuck.B.weight.grad.abs().max() == 0


# --- 2.6 Gaussian MLE ------------------------------------------------------------------------


@pytest.mark.card("p2-snippet-gaussian-mle")
def test_gaussian_mle_is_mean_and_biased_variance():
    gaussian_mle = load_snippet("snippets/gaussian_mle.py").gaussian_mle
    data = 2 + 3 * torch.randn(50, 4, dtype=torch.float64)
    mu, var = gaussian_mle(data)
    torch.testing.assert_close(mu, data.mean(dim=0))
    torch.testing.assert_close(var, data.var(dim=0, unbiased=False))
    torch.testing.assert_close(var, ((data - data.mean(0)) ** 2).sum(0) / 50)


@pytest.mark.card("p2-snippet-gaussian-mle")
@pytest.mark.card("p2-gaussian-log-likelihood")
def test_log_likelihood_matches_torch_distributions():
    snippet = load_snippet("snippets/gaussian_mle.py")
    data = torch.randn(40, 5, dtype=torch.float64)
    mu = torch.randn(5, dtype=torch.float64)
    var = torch.rand(5, dtype=torch.float64) + 0.5
    reference = Normal(mu, var.sqrt()).log_prob(data).sum()
    torch.testing.assert_close(snippet.gaussian_log_likelihood(data, mu, var), reference)
    reference_mvn = MultivariateNormal(mu, torch.diag(var)).log_prob(data).sum()
    torch.testing.assert_close(snippet.gaussian_log_likelihood(data, mu, var), reference_mvn)


@pytest.mark.card("p2-snippet-gaussian-mle")
@pytest.mark.card("p2-gaussian-log-likelihood")
def test_log_likelihood_with_a_scalar_variance_is_isotropic():
    snippet = load_snippet("snippets/gaussian_mle.py")
    N, d, sigma2 = 30, 4, torch.tensor(2.5, dtype=torch.float64)
    data = torch.randn(N, d, dtype=torch.float64)
    mu = torch.randn(d, dtype=torch.float64)
    isotropic = MultivariateNormal(mu, sigma2 * torch.eye(d, dtype=torch.float64))
    closed_form = (
        -d / 2 * torch.log(2 * math.pi * sigma2) - ((data - mu) ** 2).sum(-1) / (2 * sigma2)
    ).sum()
    torch.testing.assert_close(
        snippet.gaussian_log_likelihood(data, mu, sigma2), isotropic.log_prob(data).sum()
    )
    torch.testing.assert_close(closed_form, isotropic.log_prob(data).sum())


@pytest.mark.card("p2-gaussian-log-likelihood")
def test_the_seed_log_likelihood_counts_the_normaliser_d_times():
    """The seed's version multiplies log(2 pi var) by d and then sums over d: wrong for d > 1."""
    data = torch.randn(20, 3, dtype=torch.float64)
    mu, var = data.mean(0), data.var(0, unbiased=False)
    d = data.shape[-1]
    seed = -0.5 * (d * torch.log(2 * torch.pi * var) + ((data - mu) ** 2) / var).sum(dim=-1).mean()
    right = Normal(mu, var.sqrt()).log_prob(data).sum(-1).mean()
    torch.testing.assert_close(seed - right, -0.5 * (d - 1) * torch.log(2 * torch.pi * var).sum())
    assert not torch.isclose(seed, right)


@pytest.mark.card("p2-snippet-gaussian-mle")
@pytest.mark.card("p2-mle-variance-divides-by-n")
def test_mle_maximises_the_log_likelihood():
    snippet = load_snippet("snippets/gaussian_mle.py")
    data = 1 + 2 * torch.randn(25, 3, dtype=torch.float64)
    mu, var = snippet.gaussian_mle(data)
    mu = mu.clone().requires_grad_(True)
    var = var.clone().requires_grad_(True)
    best = snippet.gaussian_log_likelihood(data, mu, var)
    g_mu, g_var = torch.autograd.grad(best, (mu, var))
    torch.testing.assert_close(g_mu, torch.zeros(3, dtype=torch.float64))  # stationary point
    torch.testing.assert_close(g_var, torch.zeros(3, dtype=torch.float64))
    with torch.no_grad():
        unbiased = data.var(0, unbiased=True)
        assert snippet.gaussian_log_likelihood(data, mu, unbiased) < best
        for _ in range(20):
            assert snippet.gaussian_log_likelihood(data, mu + 0.1 * torch.randn(3), var) < best
            assert snippet.gaussian_log_likelihood(data, mu, var * (1 + 0.2 * torch.rand(3))) < best


@pytest.mark.card("p2-mle-variance-divides-by-n")
def test_mle_variance_is_biased_by_n_minus_1_over_n():
    gaussian_mle = load_snippet("snippets/gaussian_mle.py").gaussian_mle
    N, sigma2, reps = 5, 4.0, 20_000
    data = math.sqrt(sigma2) * torch.randn(reps, N, 1, dtype=torch.float64)
    var_hat = torch.stack([gaussian_mle(x)[1] for x in data[:2000]]).squeeze()  # the snippet itself
    torch.testing.assert_close(var_hat, data[:2000].var(dim=1, unbiased=False).squeeze())
    all_var_hat = data.var(dim=1, unbiased=False).squeeze()
    # var_hat ~ sigma^2 chi^2_{N-1} / N: sd 2.26 here, so the mean of 20 000 has
    # standard error 0.016
    standard_error = all_var_hat.std() / math.sqrt(reps)
    assert abs(all_var_hat.mean() - (N - 1) / N * sigma2) < 4 * standard_error
    assert abs(all_var_hat.mean() - sigma2) > 20 * standard_error


# --- 2.7 Monte Carlo KL ----------------------------------------------------------------------


def _log_ratio_standard_error(p, q, n):
    x = p.sample((n,))
    return (p.log_prob(x) - q.log_prob(x)).std(dim=0) / math.sqrt(n)


@pytest.mark.card("p2-snippet-mc-kl")
@pytest.mark.card("p2-mc-kl-estimator")
def test_mc_kl_matches_the_closed_form_for_the_seed_example():
    mc_kl_divergence = load_snippet("snippets/mc_kl.py").mc_kl_divergence
    p = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))
    q = Normal(
        torch.tensor(1.0, dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64).sqrt()
    )
    n = 50_000
    estimate = mc_kl_divergence(p, q, num_samples=n)
    assert abs(estimate - kl_divergence(p, q)) < 4 * _log_ratio_standard_error(p, q, n)


@pytest.mark.card("p2-snippet-mc-kl")
@pytest.mark.card("p2-mc-kl-estimator")
def test_mc_kl_works_for_multivariate_distributions():
    mc_kl_divergence = load_snippet("snippets/mc_kl.py").mc_kl_divergence
    p = Independent(Normal(torch.randn(3), torch.rand(3) + 0.5), 1)
    L = torch.randn(3, 3).tril(-1) + torch.diag(torch.rand(3) + 0.5)
    q = MultivariateNormal(torch.randn(3), scale_tril=L)
    n = 50_000
    estimate = mc_kl_divergence(p, q, num_samples=n)
    assert estimate.shape == ()
    exact = kl_divergence(MultivariateNormal(p.mean, torch.diag(p.variance)), q)
    assert abs(estimate - exact) < 4 * _log_ratio_standard_error(p, q, n)


@pytest.mark.card("p2-snippet-mc-kl")
def test_num_samples_sets_the_sample_size():
    mc_kl_divergence = load_snippet("snippets/mc_kl.py").mc_kl_divergence
    p, q = Normal(0.0, 1.0), Normal(1.0, 2.0)
    # the estimator's spread over repeats shrinks like 1/sqrt(num_samples)
    small = torch.stack([mc_kl_divergence(p, q, num_samples=10) for _ in range(400)])
    large = torch.stack([mc_kl_divergence(p, q, num_samples=1000) for _ in range(400)])
    ratio = small.std() / large.std()
    assert 7 < ratio < 14  # sqrt(100) = 10; each sd of 400 repeats is within about 7 %


@pytest.mark.card("p2-torch-normal-scale")
def test_normal_takes_the_standard_deviation():
    q = Normal(1.0, math.sqrt(0.5))
    assert q.variance.item() == pytest.approx(0.5)
    assert q.stddev.item() == pytest.approx(math.sqrt(0.5))
    p = Normal(0.0, 1.0)

    def kl_closed_form(mu1, var1, mu2, var2):
        return 0.5 * math.log(var2 / var1) + (var1 + (mu1 - mu2) ** 2) / (2 * var2) - 0.5

    # N(1, 0.5) read as variance 0.5 versus as standard deviation 0.5
    assert kl_divergence(p, q).item() == pytest.approx(kl_closed_form(0, 1, 1, 0.5))
    assert kl_divergence(p, q).item() == pytest.approx(1.1534, abs=1e-4)
    assert kl_divergence(p, Normal(1.0, 0.5)).item() == pytest.approx(kl_closed_form(0, 1, 1, 0.25))
    assert kl_divergence(p, Normal(1.0, 0.5)).item() == pytest.approx(2.8069, abs=1e-4)
