"""Numeric checks for Part 1 sections 1.1 (probability fundamentals) and 1.2 (expectation,
variance, covariance).

Discrete identities are checked exactly on random joint tables. Moment identities are checked
on the empirical distribution of a sample, which is itself a discrete distribution: there they
hold up to rounding, whatever the sample. Claims about a population use tolerances of a few
standard errors.
"""

from __future__ import annotations

import itertools

import pytest
import torch

F64 = torch.float64


def random_joint(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(*shape, generator=g, dtype=F64) + 0.05
    return p / p.sum()


# ---------------------------------------------------------------- 1.1 fundamentals


@pytest.mark.card("p1-conditional-probability")
@pytest.mark.card("p1-marginalization")
def test_conditional_probability_matches_sampled_frequencies():
    torch.manual_seed(0)
    joint = random_joint(3, 4)
    p_b = joint.sum(dim=0)  # marginalisation over A
    p_a_given_b = joint / p_b  # P(A | B) = P(A, B) / P(B)
    assert torch.allclose(p_a_given_b.sum(dim=0), torch.ones(4, dtype=F64))

    n = 400_000
    flat = torch.multinomial(joint.flatten(), n, replacement=True)
    a, b = flat // 4, flat % 4
    for bb in range(4):
        in_b = b == bb
        freq = torch.bincount(a[in_b], minlength=3).to(F64) / in_b.sum()
        se = (p_a_given_b[:, bb] * (1 - p_a_given_b[:, bb]) / in_b.sum()).sqrt()
        assert ((freq - p_a_given_b[:, bb]).abs() < 5 * se).all()
    # the marginal of B is the sampled frequency of B
    freq_b = torch.bincount(b, minlength=4).to(F64) / n
    assert ((freq_b - p_b).abs() < 5 * (p_b * (1 - p_b) / n).sqrt()).all()


@pytest.mark.card("p1-product-rule")
@pytest.mark.card("p1-marginalization")
def test_product_rule_and_total_probability():
    joint = random_joint(5, 6)
    p_a, p_b = joint.sum(1), joint.sum(0)
    a_given_b = joint / p_b
    b_given_a = joint / p_a[:, None]
    assert torch.allclose(a_given_b * p_b, joint)
    assert torch.allclose(b_given_a * p_a[:, None], joint)
    # law of total probability: P(B) = sum_a P(B | A=a) P(A=a)
    assert torch.allclose((b_given_a * p_a[:, None]).sum(0), p_b)


@pytest.mark.card("p1-bayes-theorem")
@pytest.mark.card("p1-posterior-proportional")
def test_bayes_theorem_on_random_joint():
    joint = random_joint(4, 7, seed=1)
    p_a, p_b = joint.sum(1), joint.sum(0)
    b_given_a = joint / p_a[:, None]  # likelihood P(B | A)
    direct = joint / p_b  # P(A | B) from the definition
    bayes = b_given_a * p_a[:, None] / p_b  # P(B | A) P(A) / P(B)
    assert torch.allclose(bayes, direct)
    # posterior ∝ likelihood × prior: normalising the unnormalised product recovers it,
    # and the normaliser is the evidence P(B)
    unnorm = b_given_a * p_a[:, None]
    assert torch.allclose(unnorm / unnorm.sum(0), direct)
    assert torch.allclose(unnorm.sum(0), p_b)


@pytest.mark.card("p1-chain-rule-probability")
def test_chain_rule_any_order():
    joint = random_joint(2, 3, 4, 2, seed=2)
    for order in itertools.permutations(range(4)):
        j = joint.permute(order)
        prod = torch.ones_like(j)
        for i in range(4):
            # p(x_1..x_i); torch sums over *all* dims when given an empty tuple
            prefix = j.sum(dim=tuple(range(i + 1, 4)), keepdim=True) if i < 3 else j
            before = j.sum(dim=tuple(range(i, 4)), keepdim=True)  # p(x_1..x_{i-1})
            prod = prod * (prefix / before)  # p(x_i | x_<i)
        assert torch.allclose(prod, j)


@pytest.mark.card("p1-independence")
def test_independence_product_of_marginals():
    g = torch.Generator().manual_seed(3)
    px = torch.rand(4, generator=g, dtype=F64)
    py = torch.rand(5, generator=g, dtype=F64)
    px, py = px / px.sum(), py / py.sum()
    joint = px[:, None] * py[None, :]
    assert torch.allclose(joint.sum(1)[:, None] * joint.sum(0)[None, :], joint)
    assert torch.allclose(joint / joint.sum(0), px[:, None].expand(4, 5))  # p(x | y) = p(x)
    dependent = random_joint(4, 5, seed=4)
    assert not torch.allclose(dependent.sum(1)[:, None] * dependent.sum(0)[None, :], dependent)


def common_cause_joint() -> torch.Tensor:
    """p(x, y, z) = p(z) p(x | z) p(y | z), indexed [x, y, z]."""
    g = torch.Generator().manual_seed(5)
    pz = torch.tensor([0.3, 0.7], dtype=F64)
    px_z = torch.softmax(3 * torch.randn(3, 2, generator=g, dtype=F64), dim=0)
    py_z = torch.softmax(3 * torch.randn(4, 2, generator=g, dtype=F64), dim=0)
    return px_z[:, None, :] * py_z[None, :, :] * pz


@pytest.mark.card("p1-conditional-independence")
def test_conditional_independence_equivalent_forms():
    joint = common_cause_joint()
    pz = joint.sum((0, 1))
    pxy_z = joint / pz
    px_z = pxy_z.sum(1, keepdim=True)
    py_z = pxy_z.sum(0, keepdim=True)
    assert torch.allclose(pxy_z, px_z * py_z)
    px_yz = joint / joint.sum(0, keepdim=True)  # p(x | y, z)
    assert torch.allclose(px_yz, px_z.expand_as(px_yz))


@pytest.mark.card("p1-conditional-vs-marginal-independence")
def test_neither_independence_implies_the_other():
    # common cause: X ⊥ Y | Z but not X ⊥ Y
    pxy = common_cause_joint().sum(2)
    assert not torch.allclose(pxy, pxy.sum(1, keepdim=True) * pxy.sum(0, keepdim=True), atol=1e-4)
    # explaining away: X, Y fair coins, Z = X xor Y
    joint = torch.zeros(2, 2, 2, dtype=F64)
    for x, y in itertools.product(range(2), repeat=2):
        joint[x, y, x ^ y] = 0.25
    pxy = joint.sum(2)
    assert torch.allclose(pxy, pxy.sum(1, keepdim=True) * pxy.sum(0, keepdim=True))
    pxy_z = joint / joint.sum((0, 1))
    prod = pxy_z.sum(1, keepdim=True) * pxy_z.sum(0, keepdim=True)
    assert not torch.allclose(pxy_z, prod)


# ---------------------------------------------------------------- 1.2 moments


def E(p: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    return (p * values).sum()


def discrete_xy(seed: int = 6):
    """A random joint of (X, Y) on a 5 x 6 grid of random support points."""
    g = torch.Generator().manual_seed(seed)
    p = random_joint(5, 6, seed=seed)
    xs = torch.randn(5, generator=g, dtype=F64) * 2 + 1
    ys = torch.randn(6, generator=g, dtype=F64) - 3
    X = xs[:, None].expand(5, 6)
    Y = ys[None, :].expand(5, 6)
    return p, X, Y


def var(p, X):
    return E(p, (X - E(p, X)) ** 2)


def cov(p, X, Y):
    return E(p, (X - E(p, X)) * (Y - E(p, Y)))


@pytest.mark.card("p1-expectation-linearity")
def test_linearity_of_expectation_dependent_variables():
    p, X, Y = discrete_xy()
    a, b, c = 2.5, -1.3, 0.7
    assert abs(cov(p, X, Y)) > 1e-3  # X and Y are dependent, linearity still holds
    assert torch.isclose(E(p, a * X + b * Y + c), a * E(p, X) + b * E(p, Y) + c)


@pytest.mark.card("p1-expectation-product-independent")
def test_expectation_of_product():
    _, X, Y = discrete_xy()
    g = torch.Generator().manual_seed(7)
    px = torch.rand(5, 1, generator=g, dtype=F64)
    py = torch.rand(1, 6, generator=g, dtype=F64)
    p_ind = (px / px.sum()) * (py / py.sum())
    assert torch.isclose(E(p_ind, X * Y), E(p_ind, X) * E(p_ind, Y))
    p_dep, _, _ = discrete_xy()
    assert not torch.isclose(E(p_dep, X * Y), E(p_dep, X) * E(p_dep, Y))


@pytest.mark.card("p1-variance-definition")
@pytest.mark.card("p1-variance-shortcut")
def test_variance_definition_and_shortcut():
    p, X, _ = discrete_xy()
    assert torch.isclose(var(p, X), E(p, X**2) - E(p, X) ** 2)
    # against torch on a sample (divisor n = empirical distribution)
    torch.manual_seed(0)
    x = torch.randn(1000, dtype=F64) * 3 + 2
    assert torch.isclose(((x - x.mean()) ** 2).mean(), x.var(correction=0))
    assert torch.isclose((x**2).mean() - x.mean() ** 2, x.var(correction=0))


@pytest.mark.card("p1-variance-scaling")
def test_variance_affine():
    p, X, _ = discrete_xy()
    for a, b in [(3.0, 1.0), (-0.5, 10.0), (0.0, 4.0)]:
        assert torch.isclose(var(p, a * X + b), a**2 * var(p, X), atol=1e-12)


@pytest.mark.card("p1-variance-of-sum")
@pytest.mark.card("p1-covariance-definition")
@pytest.mark.card("p1-covariance-shortcut")
def test_variance_of_sum_and_covariance_forms():
    p, X, Y = discrete_xy()
    assert torch.isclose(var(p, X + Y), var(p, X) + var(p, Y) + 2 * cov(p, X, Y))
    assert torch.isclose(cov(p, X, Y), E(p, X * Y) - E(p, X) * E(p, Y))
    assert torch.isclose(cov(p, X, X), var(p, X))


@pytest.mark.card("p1-variance-of-difference")
def test_variance_of_difference():
    _, X, Y = discrete_xy()
    g = torch.Generator().manual_seed(8)
    px, py = torch.rand(5, 1, generator=g, dtype=F64), torch.rand(1, 6, generator=g, dtype=F64)
    p_ind = (px / px.sum()) * (py / py.sum())
    assert torch.isclose(var(p_ind, X - Y), var(p_ind, X) + var(p_ind, Y))
    p, _, _ = discrete_xy()
    assert torch.isclose(var(p, X - Y), var(p, X) + var(p, Y) - 2 * cov(p, X, Y))


@pytest.mark.card("p1-covariance-bilinear")
def test_covariance_affine_in_each_argument():
    p, X, Y = discrete_xy()
    a, b, c, d = 2.0, -7.0, -0.3, 5.0
    assert torch.isclose(cov(p, a * X + b, c * Y + d), a * c * cov(p, X, Y))


@pytest.mark.card("p1-correlation-coefficient")
def test_correlation_bounds():
    for seed in range(20):
        p, X, Y = discrete_xy(seed)
        rho = cov(p, X, Y) / (var(p, X) * var(p, Y)).sqrt()
        assert -1 <= rho <= 1
    p, X, _ = discrete_xy()
    for a, sign in [(2.0, 1), (-3.0, -1)]:
        Y = a * X + 1
        rho = cov(p, X, Y) / (var(p, X) * var(p, Y)).sqrt()
        assert torch.isclose(rho, torch.tensor(float(sign), dtype=F64))


@pytest.mark.card("p1-uncorrelated-not-independent")
def test_uncorrelated_but_dependent():
    # exact: X uniform on {-1, 0, 1}, Y = X^2
    xs = torch.tensor([-1.0, 0.0, 1.0], dtype=F64)
    p = torch.full((3,), 1 / 3, dtype=F64)
    c = E(p, xs * xs**2) - E(p, xs) * E(p, xs**2)
    assert c.abs() < 1e-15
    # P(Y = 1 | X = 0) = 0 but P(Y = 1) = 2/3: dependent
    assert E(p, (xs**2 == 1).to(F64)) > 0.6
    # the Gaussian example on the card, by sampling
    torch.manual_seed(0)
    x = torch.randn(200_000, dtype=F64)
    y = x**2
    prod = (x - x.mean()) * (y - y.mean())
    se = prod.std() / prod.numel() ** 0.5
    assert prod.mean().abs() < 5 * se
    assert (y[x.abs() > 2] > 4).all()  # Y is determined by X


def sample_vectors(n: int = 5000, d: int = 4, seed: int = 9) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, d, generator=g, dtype=F64)
    return torch.randn(n, d, generator=g, dtype=F64) @ A.T + torch.arange(d, dtype=F64)


def empirical_cov(x: torch.Tensor) -> torch.Tensor:
    c = x - x.mean(0)
    return c.T @ c / x.shape[0]


@pytest.mark.card("p1-covariance-matrix")
@pytest.mark.card("p1-covariance-matrix-diagonal")
def test_covariance_matrix_entries():
    x = sample_vectors()
    S = empirical_cov(x)
    assert torch.allclose(S, torch.cov(x.T, correction=0))
    assert torch.allclose(S, S.T)
    assert torch.allclose(S.diagonal(), x.var(0, correction=0))
    mu = x.mean(0)
    assert torch.allclose(S, (x.T @ x) / x.shape[0] - torch.outer(mu, mu))
    # trace = total variance E||x - mu||^2
    assert torch.isclose(S.trace(), ((x - mu) ** 2).sum(1).mean())
    i, j = 1, 3
    cij = ((x[:, i] - x[:, i].mean()) * (x[:, j] - x[:, j].mean())).mean()
    assert torch.isclose(S[i, j], cij)


@pytest.mark.card("p1-covariance-matrix-psd")
@pytest.mark.card("p1-variance-linear-combination")
def test_covariance_psd_via_variance_of_projection():
    x = sample_vectors()
    S = empirical_cov(x)
    g = torch.Generator().manual_seed(10)
    for _ in range(50):
        v = torch.randn(4, generator=g, dtype=F64)
        assert torch.isclose(v @ S @ v, (x @ v).var(correction=0))
    assert torch.linalg.eigvalsh(S).min() >= 0
    # singular when a linear combination is constant: append x0 + x1
    x_deg = torch.cat([x, (x[:, 0] + x[:, 1])[:, None]], dim=1)
    ev = torch.linalg.eigvalsh(empirical_cov(x_deg))
    assert ev.min().abs() < 1e-9 * ev.max()


@pytest.mark.card("p1-covariance-affine-transform")
def test_covariance_affine_transform_and_cholesky_sampling():
    x = sample_vectors()
    g = torch.Generator().manual_seed(11)
    A = torch.randn(3, 4, generator=g, dtype=F64)
    b = torch.randn(3, generator=g, dtype=F64)
    assert torch.allclose(empirical_cov(x @ A.T + b), A @ empirical_cov(x) @ A.T)
    # sampling correlated Gaussians with a Cholesky factor
    Sigma = A @ A.T + 0.5 * torch.eye(3, dtype=F64)
    L = torch.linalg.cholesky(Sigma)
    torch.manual_seed(0)
    n = 200_000
    z = torch.randn(n, 3, dtype=F64) @ L.T
    S = empirical_cov(z)
    # se of a covariance entry ≈ sqrt((S_ii S_jj + S_ij^2) / n) for Gaussians
    se = ((Sigma.diagonal()[:, None] * Sigma.diagonal()[None, :] + Sigma**2) / n).sqrt()
    assert ((S - Sigma).abs() < 5 * se).all()
