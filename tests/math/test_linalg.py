"""Numeric checks for the Part 1 linear-algebra cards (seed section 1.7).

Every test computes both sides with torch (float64) and compares them; nothing is hard-coded.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from flops import count_flops, naive_matmul_counting

DT = torch.float64


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=DT)


def rank_r(m: int, n: int, r: int, seed: int = 0) -> torch.Tensor:
    return rand(m, r, seed=seed) @ rand(r, n, seed=seed + 1)


def full_sigma(s: torch.Tensor, m: int, n: int) -> torch.Tensor:
    sigma = torch.zeros(m, n, dtype=DT)
    k = min(m, n)
    sigma[:k, :k] = torch.diag(s)
    return sigma


def orthogonal(n: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(rand(n, n, seed=seed))
    return q


def symmetric_with_eigenvalues(lams: torch.Tensor, seed: int) -> torch.Tensor:
    q = orthogonal(len(lams), seed)
    a = q @ torch.diag(lams) @ q.T
    return (a + a.T) / 2


# ------------------------------------------------------------------------ 1.7.1 rank


@pytest.mark.card("p1-rank-definition")
@pytest.mark.card("p1-svd-rank-one-sum")
def test_rank_is_number_of_independent_columns_rows_and_nonzero_singular_values():
    for m, n, r in [(7, 5, 1), (7, 5, 3), (4, 9, 4), (6, 6, 2)]:
        a = rank_r(m, n, r, seed=m + n + r)
        s = torch.linalg.svdvals(a)
        tol = max(m, n) * torch.finfo(DT).eps * s[0]
        assert torch.linalg.matrix_rank(a).item() == r
        assert torch.linalg.matrix_rank(a.T).item() == r  # row rank = column rank
        assert int((s > tol).sum()) == r
        # dimension of the column space: r orthonormal columns of Q span every column of A
        q = torch.linalg.svd(a).U[:, :r]
        assert torch.allclose(q @ (q.T @ a), a, atol=1e-10)
        assert r <= min(m, n)


@pytest.mark.card("p1-lowrank-factorization")
@pytest.mark.card("p1-lowrank-param-count")
def test_low_rank_factorisation_from_svd_and_parameter_counts():
    m, n, r = 12, 9, 3
    w = rank_r(m, n, r, seed=3)
    u, s, vh = torch.linalg.svd(w, full_matrices=False)
    b = u[:, :r] * s[:r]  # m x r
    a = vh[:r]  # r x n
    assert b.shape == (m, r) and a.shape == (r, n)
    assert torch.allclose(b @ a, w, atol=1e-10)
    assert w.numel() == m * n
    assert b.numel() + a.numel() == r * (m + n)
    # the card's example
    big = torch.empty(4096, 8, dtype=torch.float32), torch.empty(8, 4096, dtype=torch.float32)
    assert sum(t.numel() for t in big) == 8 * (4096 + 4096) == 65_536
    assert math.isclose(65_536 / (4096 * 4096), 0.0039, rel_tol=0.01)


@pytest.mark.card("p1-lowrank-break-even")
def test_low_rank_saves_parameters_iff_r_below_mn_over_m_plus_n():
    for m, n in itertools.product(range(1, 25), repeat=2):
        for r in range(1, min(m, n) + 1):
            saves = r * (m + n) < m * n
            assert saves == (r < m * n / (m + n))
            if m == n:
                assert saves == (r < n / 2)
    # r(m + n) / mn is the fraction kept (square: 2r/n), the saving is 1 minus it.
    m, n, r = 1024, 1024, 8
    b, a = torch.zeros(m, r), torch.zeros(r, n)
    kept = (b.numel() + a.numel()) / (m * n)
    assert kept == r * (m + n) / (m * n) == 2 * r / n == 1 / 64
    assert 1 - kept == pytest.approx(0.984375)


# ------------------------------------------------------------------------ 1.7.2 SVD


@pytest.mark.card("p1-svd-definition")
@pytest.mark.parametrize("m,n", [(6, 4), (4, 6), (5, 5)])
def test_svd_reconstructs_with_orthogonal_factors_and_sorted_nonnegative_sigma(m, n):
    a = rand(m, n, seed=m * 10 + n)
    u, s, vh = torch.linalg.svd(a, full_matrices=True)
    v = vh.T
    assert u.shape == (m, m) and v.shape == (n, n)
    assert torch.allclose(u.T @ u, torch.eye(m, dtype=DT), atol=1e-12)
    assert torch.allclose(v.T @ v, torch.eye(n, dtype=DT), atol=1e-12)
    assert torch.all(s >= 0) and torch.all(s[:-1] >= s[1:])
    assert torch.allclose(u @ full_sigma(s, m, n) @ v.T, a, atol=1e-12)


@pytest.mark.card("p1-svd-eigen-relation")
def test_singular_values_squared_are_eigenvalues_of_gram_matrices():
    a = rand(7, 4, seed=11)
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    eig_ata = torch.linalg.eigvalsh(a.T @ a).flip(0)
    eig_aat = torch.linalg.eigvalsh(a @ a.T).flip(0)
    assert torch.allclose(eig_ata, s**2, atol=1e-10)
    assert torch.allclose(eig_aat[:4], s**2, atol=1e-10)
    assert torch.allclose(eig_aat[4:], torch.zeros(3, dtype=DT), atol=1e-10)
    for i in range(4):
        v_i, u_i = vh[i], u[:, i]
        assert torch.allclose(a @ v_i, s[i] * u_i, atol=1e-12)
        assert torch.allclose(a.T @ u_i, s[i] * v_i, atol=1e-12)
        assert torch.allclose((a.T @ a) @ v_i, s[i] ** 2 * v_i, atol=1e-10)


@pytest.mark.card("p1-svd-rank-one-sum")
def test_compact_svd_is_sum_of_rank_one_terms():
    a = rank_r(8, 6, 3, seed=5)
    u, s, vh = torch.linalg.svd(a)
    r = int((s > 1e-10 * s[0]).sum())
    total = sum(s[i] * torch.outer(u[:, i], vh[i]) for i in range(r))
    assert r == 3
    assert torch.allclose(total, a, atol=1e-10)


def truncated(a: torch.Tensor, k: int) -> torch.Tensor:
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    return u[:, :k] @ torch.diag(s[:k]) @ vh[:k]


@pytest.mark.card("p1-eckart-young-errors")
@pytest.mark.card("p1-eckart-young")
def test_truncated_svd_errors_equal_tail_singular_values():
    a = rand(8, 6, seed=21)
    s = torch.linalg.svdvals(a)
    for k in range(0, 6):
        err = a - truncated(a, k)
        assert torch.isclose(torch.linalg.matrix_norm(err, "fro"), s[k:].pow(2).sum().sqrt())
        assert torch.isclose(torch.linalg.matrix_norm(err, 2), s[k])
        assert torch.linalg.matrix_rank(truncated(a, k)).item() == k


@pytest.mark.card("p1-eckart-young")
def test_truncated_svd_beats_every_other_rank_k_matrix():
    torch.manual_seed(0)
    a = rand(8, 6, seed=22)
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    for k in (1, 2, 4):
        best_f = torch.linalg.matrix_norm(a - truncated(a, k), "fro")
        best_2 = torch.linalg.matrix_norm(a - truncated(a, k), 2)
        candidates = []
        for _ in range(100):  # random rank-k matrices
            candidates.append(torch.randn(8, k, dtype=DT) @ torch.randn(k, 6, dtype=DT))
        for _ in range(100):  # small perturbations of the optimum's factors
            du = 0.05 * torch.randn(8, k, dtype=DT)
            dv = 0.05 * torch.randn(k, 6, dtype=DT)
            candidates.append((u[:, :k] + du) @ torch.diag(s[:k]) @ (vh[:k] + dv))
        for _ in range(100):  # least-squares fit of A on a random k-dim column space
            q, _ = torch.linalg.qr(torch.randn(8, k, dtype=DT))
            candidates.append(q @ (q.T @ a))
        for b in candidates:
            assert torch.linalg.matrix_rank(b).item() <= k
            assert torch.linalg.matrix_norm(a - b, "fro") >= best_f - 1e-12
            assert torch.linalg.matrix_norm(a - b, 2) >= best_2 - 1e-12


@pytest.mark.card("p1-eckart-young")
def test_best_rank_k_approximation_need_not_be_unique():
    # Spectral norm: A = diag(3, 1), k = 1. The truncated SVD diag(3, 0) has error sigma_2 = 1,
    # and so does every diag(c, 0) with 2 <= c <= 4: A_k is one element of the argmin.
    a = torch.diag(torch.tensor([3.0, 1.0], dtype=DT))
    assert torch.equal(truncated(a, 1), torch.diag(torch.tensor([3.0, 0.0], dtype=DT)))
    for c in (2.0, 2.5, 3.0, 4.0):
        b = torch.diag(torch.tensor([c, 0.0], dtype=DT))
        assert torch.isclose(torch.linalg.matrix_norm(a - b, 2), torch.tensor(1.0, dtype=DT))
    assert torch.linalg.matrix_norm(a - torch.diag(torch.tensor([4.5, 0.0], dtype=DT)), 2) > 1
    # ... while in the Frobenius norm diag(3, 0) is the only optimum among them (sigma_1 > sigma_2).
    fro = [
        torch.linalg.matrix_norm(a - torch.diag(torch.tensor([c, 0.0], dtype=DT)), "fro")
        for c in (2.5, 3.0, 3.5)
    ]
    assert fro[1] < fro[0] and fro[1] < fro[2]
    # Frobenius with a tie sigma_k = sigma_{k+1}: diag(2, 2), k = 1 has two
    # (in fact infinitely many) optima.
    tie = torch.diag(torch.tensor([2.0, 2.0], dtype=DT))
    for b in (
        torch.diag(torch.tensor([2.0, 0.0], dtype=DT)),
        torch.diag(torch.tensor([0.0, 2.0], dtype=DT)),
    ):
        assert torch.linalg.matrix_rank(b) == 1
        assert torch.isclose(torch.linalg.matrix_norm(tie - b, "fro"), torch.tensor(2.0, dtype=DT))
    u = torch.tensor([0.6, 0.8], dtype=DT)
    assert torch.isclose(
        torch.linalg.matrix_norm(tie - 2 * torch.outer(u, u), "fro"), torch.tensor(2.0, dtype=DT)
    )


@pytest.mark.card("p1-frobenius-norm")
@pytest.mark.card("p1-spectral-norm")
@pytest.mark.card("p1-norm-inequalities")
def test_norms_from_singular_values():
    torch.manual_seed(0)
    for m, n, r in [(7, 5, 5), (6, 6, 2), (3, 8, 3)]:
        a = rank_r(m, n, r, seed=m + n)
        s = torch.linalg.svdvals(a)
        fro_entries = a.pow(2).sum().sqrt()
        assert torch.isclose(fro_entries, torch.trace(a.T @ a).sqrt())
        assert torch.isclose(fro_entries, s.pow(2).sum().sqrt())
        assert torch.isclose(torch.linalg.matrix_norm(a, 2), s[0])
        # sigma_1 is the max stretch: no random vector beats it, v_1 attains it
        x = torch.randn(n, 2000, dtype=DT)
        stretch = torch.linalg.vector_norm(a @ x, dim=0) / torch.linalg.vector_norm(x, dim=0)
        assert stretch.max() <= s[0] + 1e-12
        v1 = torch.linalg.svd(a).Vh[0]
        assert torch.isclose(torch.linalg.vector_norm(a @ v1), s[0])
        assert s[0] <= fro_entries <= math.sqrt(r) * s[0] + 1e-12


def anisotropic_data(n: int, mean: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    d = len(mean)
    q = orthogonal(d, seed)
    scales = torch.linspace(3.0, 0.5, d, dtype=DT)
    return torch.randn(n, d, generator=g, dtype=DT) * scales @ q.T + mean


def align_signs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Flip the columns of a so each has a non-negative dot product with b's column."""
    return a * torch.sign((a * b).sum(0))


@pytest.mark.card("p1-pca-principal-directions")
def test_pca_directions_are_right_singular_vectors_of_centred_data():
    n = 500
    x = anisotropic_data(n, torch.tensor([5.0, -2.0, 1.0, 3.0], dtype=DT), seed=7)
    xc = x - x.mean(0)
    u, s, vh = torch.linalg.svd(xc, full_matrices=False)
    cov = torch.cov(x.T)  # unbiased, (n-1) denominator
    lam, q = torch.linalg.eigh(cov)
    lam, q = lam.flip(0), q.flip(1)
    v = vh.T
    assert torch.allclose(lam, s**2 / (n - 1), atol=1e-10)
    assert torch.allclose(align_signs(v, q), q, atol=1e-8)
    assert torch.allclose(cov, v @ torch.diag(s**2 / (n - 1)) @ v.T, atol=1e-10)
    assert torch.allclose(xc @ v, u * s, atol=1e-10)  # scores
    # the seed's wording also holds, but only because cov is symmetric PSD (its SVD = its EVD)
    v_cov = torch.linalg.svd(cov).Vh.T
    assert torch.allclose(align_signs(v_cov, q), q, atol=1e-8)


@pytest.mark.card("p1-pca-why-data-svd")
def test_pca_gram_matrix_squares_condition_number_and_centring_matters():
    low_variance_axis = orthogonal(3, 8)[:, -1]  # the axis anisotropic_data gives scale 0.5
    x = anisotropic_data(400, 30.0 * low_variance_axis, seed=8)
    xc = x - x.mean(0)
    assert torch.isclose(torch.linalg.cond(xc.T @ xc), torch.linalg.cond(xc) ** 2, rtol=1e-8)
    top_centred = torch.linalg.svd(xc).Vh[0]
    top_raw = torch.linalg.svd(x).Vh[0]
    mean_dir = x.mean(0) / torch.linalg.vector_norm(x.mean(0))
    # without centring the top direction follows the mean, not the top-variance direction
    assert abs(top_raw @ mean_dir) > 0.99
    assert abs(top_raw @ top_centred) < 0.1
    var = lambda w: ((xc @ w) ** 2).mean()  # noqa: E731
    assert var(top_centred) > 2 * var(top_raw)


@pytest.mark.card("p1-svd-model-compression")
def test_truncated_svd_layer_compression():
    torch.manual_seed(0)
    m, n, k = 40, 30, 5
    w = rank_r(m, n, k, seed=9) + 0.05 * rand(m, n, seed=10)
    u, s, vh = torch.linalg.svd(w, full_matrices=False)
    first = vh[:k]  # k x n: x -> V_k^T x
    second = u[:, :k] * s[:k]  # m x k
    assert first.numel() + second.numel() == k * (m + n) < m * n
    x = torch.randn(n, 200, dtype=DT)
    y_full, y_low = w @ x, second @ (first @ x)
    err = torch.linalg.vector_norm(y_full - y_low, dim=0)
    assert torch.all(err <= s[k] * torch.linalg.vector_norm(x, dim=0) + 1e-10)
    errors = [torch.linalg.matrix_norm(w - truncated(w, j), "fro") for j in range(1, 10)]
    assert all(e1 >= e2 for e1, e2 in itertools.pairwise(errors))


def fake_quantise(w: torch.Tensor, step: float = 0.5) -> torch.Tensor:
    return torch.round(w / step) * step


@pytest.mark.card("p1-svd-lora-init")
def test_pissa_and_loftq_initialisations():
    torch.manual_seed(0)
    m, n, r = 24, 16, 4
    w = rank_r(m, n, r, seed=12) + 0.1 * rand(m, n, seed=13)
    u, s, vh = torch.linalg.svd(w, full_matrices=False)
    # PiSSA: top-r SVD of W itself, residual frozen
    b = u[:, :r] * s[:r].sqrt()
    a = s[:r].sqrt()[:, None] * vh[:r]
    residual = w - b @ a
    assert torch.allclose(residual + b @ a, w)
    assert torch.isclose(torch.linalg.matrix_norm(residual, 2), s[r])
    # LoftQ (one step): SVD of the quantisation residual W - Q, not of W
    q = fake_quantise(w)
    err_loftq = torch.linalg.matrix_norm(w - (q + truncated(w - q, r)), "fro")
    err_svd_of_w = torch.linalg.matrix_norm(w - (q + truncated(w, r)), "fro")
    err_plain_lora = torch.linalg.matrix_norm(w - q, "fro")  # B = 0 at init
    assert err_loftq < err_plain_lora
    assert err_loftq < err_svd_of_w


# ------------------------------------------------------------------------ 1.7.3 eig vs SVD


@pytest.mark.card("p1-eig-vs-svd-applicability")
def test_defective_matrix_has_no_eigenbasis_but_has_an_svd():
    jordan = torch.tensor([[0.0, 1.0], [0.0, 0.0]], dtype=DT)
    lam, q = torch.linalg.eig(jordan)
    assert torch.allclose(lam, torch.zeros(2, dtype=lam.dtype))
    # the two computed eigenvectors are (numerically) parallel: Q is not invertible
    assert torch.linalg.svdvals(q)[-1] < 1e-8
    u, s, vh = torch.linalg.svd(jordan)
    assert torch.allclose(u @ torch.diag(s) @ vh, jordan)
    for m, n in [(3, 5), (5, 3)]:
        a = rand(m, n, seed=m)
        u, s, vh = torch.linalg.svd(a)
        assert torch.allclose(u @ full_sigma(s, m, n) @ vh, a, atol=1e-12)


@pytest.mark.card("p1-eig-vs-svd-forms")
def test_eigendecomposition_uses_one_non_orthogonal_basis():
    p = rand(4, 4, seed=30) + 2 * torch.eye(4, dtype=DT)
    a = p @ torch.diag(torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=DT)) @ torch.linalg.inv(p)
    lam, q = torch.linalg.eig(a)
    assert torch.allclose(lam.imag, torch.zeros(4, dtype=DT), atol=1e-8)
    recon = q @ torch.diag(lam) @ torch.linalg.inv(q)
    assert torch.allclose(recon.real, a, atol=1e-8)
    assert not torch.allclose((q.conj().T @ q).real, torch.eye(4, dtype=DT), atol=1e-3)
    u, s, vh = torch.linalg.svd(a)
    assert torch.allclose(u.T @ u, torch.eye(4, dtype=DT), atol=1e-12)
    assert torch.allclose(vh @ vh.T, torch.eye(4, dtype=DT), atol=1e-12)
    assert torch.allclose(u @ torch.diag(s) @ vh, a, atol=1e-10)


@pytest.mark.card("p1-spectral-theorem")
def test_symmetric_matrix_has_orthogonal_eigendecomposition():
    b = rand(5, 5, seed=31)
    a = b + b.T
    lam, q = torch.linalg.eigh(a)
    assert torch.allclose(q.T @ q, torch.eye(5, dtype=DT), atol=1e-12)
    assert torch.allclose(q @ torch.diag(lam) @ q.T, a, atol=1e-12)
    assert torch.allclose(torch.linalg.eigvals(a).imag, torch.zeros(5, dtype=DT))


@pytest.mark.card("p1-symmetric-singular-values")
@pytest.mark.card("p1-psd-eig-equals-svd")
def test_symmetric_singular_values_are_absolute_eigenvalues():
    a = symmetric_with_eigenvalues(torch.tensor([4.0, -3.0, 1.0, -0.5, 2.0], dtype=DT), seed=32)
    lam, q = torch.linalg.eigh(a)
    s = torch.linalg.svdvals(a)
    assert torch.allclose(s, lam.abs().sort(descending=True).values, atol=1e-12)
    # explicit SVD from the eigendecomposition: U = Q, Sigma = |Lambda|, V = Q S
    # (S = signs, +1 at 0)
    for lams in ([4.0, -3.0, 1.0, -0.5, 2.0], [4.0, -3.0, 0.0, -0.5, 2.0]):
        a = symmetric_with_eigenvalues(torch.tensor(lams, dtype=DT), seed=32)
        lam, q = torch.linalg.eigh(a)
        v = q * torch.where(lam >= 0, 1.0, -1.0)
        assert torch.allclose(v.T @ v, torch.eye(5, dtype=DT), atol=1e-12)
        assert torch.allclose(q @ torch.diag(lam.abs()) @ v.T, a, atol=1e-12)
        assert not torch.allclose(v, q)  # U != V when some eigenvalue is negative
    # PSD: singular values equal the eigenvalues and U = V = Q is an SVD
    psd = symmetric_with_eigenvalues(torch.tensor([4.0, 3.0, 1.0, 0.5, 0.0], dtype=DT), seed=33)
    lam, q = torch.linalg.eigh(psd)
    assert torch.allclose(torch.linalg.svdvals(psd), lam.flip(0), atol=1e-12)
    assert torch.allclose(q @ torch.diag(lam.clamp(min=0)) @ q.T, psd, atol=1e-12)


@pytest.mark.card("p1-eig-vs-svd-value-range")
def test_rotation_has_complex_eigenvalues_but_unit_singular_values():
    rot = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=DT)
    lam = torch.linalg.eigvals(rot)
    assert torch.allclose(lam.real, torch.zeros(2, dtype=DT), atol=1e-12)
    assert torch.allclose(lam.imag.sort().values, torch.tensor([-1.0, 1.0], dtype=DT))
    assert torch.allclose(torch.linalg.svdvals(rot), torch.ones(2, dtype=DT))
    torch.manual_seed(0)
    for _ in range(50):
        assert torch.all(torch.linalg.svdvals(torch.randn(4, 3, dtype=DT)) >= 0)


# ------------------------------------------------------------------------ 1.7.4 PD


def leading_minors(a: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.linalg.det(a[:k, :k]) for k in range(1, a.shape[0] + 1)])


def all_principal_minors(a: torch.Tensor) -> torch.Tensor:
    n = a.shape[0]
    minors = []
    for k in range(1, n + 1):
        for idx in itertools.combinations(range(n), k):
            i = torch.tensor(idx)
            minors.append(torch.linalg.det(a[i][:, i]))
    return torch.stack(minors)


@pytest.mark.card("p1-pd-definition")
@pytest.mark.card("p1-pd-eigenvalue-criterion")
@pytest.mark.card("p1-pd-sylvester")
@pytest.mark.card("p1-pd-cholesky")
def test_pd_criteria_agree_on_random_pd_and_non_pd_matrices():
    torch.manual_seed(0)
    for trial in range(200):
        n = 2 + trial % 5
        lams = torch.empty(n, dtype=DT).uniform_(0.5, 3.0)
        is_pd = trial % 2 == 0
        if not is_pd:
            lams[torch.randint(n, (1,))] = -torch.empty(1, dtype=DT).uniform_(0.5, 3.0)
        a = symmetric_with_eigenvalues(lams, seed=1000 + trial)
        by_eigen = bool(torch.all(torch.linalg.eigvalsh(a) > 0))
        by_sylvester = bool(torch.all(leading_minors(a) > 0))
        _, info = torch.linalg.cholesky_ex(a)
        by_cholesky = info.item() == 0
        # definition: x^T A x > 0 on many random x, and a witness x with x^T A x <= 0 otherwise
        x = torch.randn(n, 500, dtype=DT)
        quad = (x * (a @ x)).sum(0)
        witness = torch.linalg.eigh(a).eigenvectors[:, 0]  # the smallest eigenvalue's
        by_definition = bool(torch.all(quad > 0)) and bool(witness @ a @ witness > 0)
        assert by_eigen == by_sylvester == by_cholesky == by_definition == is_pd
        if is_pd:
            l = torch.linalg.cholesky(a)  # noqa: E741
            assert torch.all(torch.diagonal(l) > 0)
            assert torch.allclose(l @ l.T, a, atol=1e-12)


@pytest.mark.card("p1-sylvester-psd")
def test_leading_minors_nonnegative_do_not_imply_psd():
    a = torch.tensor([[0.0, 0.0], [0.0, -1.0]], dtype=DT)
    assert torch.all(leading_minors(a) >= 0)
    assert torch.linalg.eigvalsh(a).min() < 0
    assert all_principal_minors(a).min() < 0  # the full criterion catches it
    torch.manual_seed(0)
    for trial in range(30):  # singular PSD matrices pass the all-principal-minors test
        lams = torch.empty(4, dtype=DT).uniform_(0.5, 2.0)
        lams[trial % 4] = 0.0
        psd = symmetric_with_eigenvalues(lams, seed=2000 + trial)
        assert all_principal_minors(psd).min() > -1e-10


@pytest.mark.card("p1-pd-cholesky")
def test_singular_psd_has_llt_with_zero_pivot_but_no_strict_cholesky():
    a = torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=DT)
    l = torch.tensor([[1.0, 0.0], [1.0, 0.0]], dtype=DT)  # noqa: E741
    assert torch.equal(l @ l.T, a)  # an LL^T factorisation with L_22 = 0
    _, info = torch.linalg.cholesky_ex(a)
    assert info.item() != 0  # but no factor with positive diagonal: not PD
    assert torch.linalg.eigvalsh(a).min().abs() < 1e-12


# ------------------------------------------------------------------------ 1.7.5 pinv


def pinv_via_svd(a: torch.Tensor) -> torch.Tensor:
    u, s, vh = torch.linalg.svd(a, full_matrices=True)
    m, n = a.shape
    tol = max(m, n) * torch.finfo(DT).eps * s[0]
    s_plus = torch.zeros(n, m, dtype=DT)
    for i, sv in enumerate(s):
        if sv > tol:
            s_plus[i, i] = 1.0 / sv
    return vh.T @ s_plus @ u.T


@pytest.mark.card("p1-pinv-svd")
@pytest.mark.parametrize("m,n,r", [(6, 4, 2), (4, 6, 4), (5, 5, 3), (6, 4, 4)])
def test_pinv_via_svd_matches_torch_and_penrose_conditions(m, n, r):
    a = rank_r(m, n, r, seed=40 + m + n + r)
    p = pinv_via_svd(a)
    assert p.shape == (n, m)
    assert torch.allclose(p, torch.linalg.pinv(a), atol=1e-10)
    assert torch.allclose(a @ p @ a, a, atol=1e-10)
    assert torch.allclose(p @ a @ p, p, atol=1e-10)
    assert torch.allclose((a @ p).T, a @ p, atol=1e-10)
    assert torch.allclose((p @ a).T, p @ a, atol=1e-10)


@pytest.mark.card("p1-pinv-full-rank-forms")
def test_pinv_of_full_rank_matrices():
    tall = rand(7, 3, seed=50)
    wide = rand(3, 7, seed=51)
    assert torch.allclose(torch.linalg.inv(tall.T @ tall) @ tall.T, pinv_via_svd(tall), atol=1e-10)
    assert torch.allclose(wide.T @ torch.linalg.inv(wide @ wide.T), pinv_via_svd(wide), atol=1e-10)


@pytest.mark.card("p1-pinv-min-norm-lstsq")
def test_pinv_gives_minimum_norm_solution():
    torch.manual_seed(0)
    # underdetermined: every x+ + z (z in null(A)) solves Ax = b, and x+ is the shortest
    a = rand(3, 6, seed=60)
    b = rand(3, seed=61)
    x_plus = pinv_via_svd(a) @ b
    assert torch.allclose(a @ x_plus, b, atol=1e-10)
    null = torch.linalg.svd(a).Vh[3:].T  # 6 x 3 basis of null(A)
    assert torch.allclose(null.T @ x_plus, torch.zeros(3, dtype=DT), atol=1e-10)
    for _ in range(200):
        other = x_plus + null @ torch.randn(3, dtype=DT)
        assert torch.allclose(a @ other, b, atol=1e-10)
        assert torch.linalg.vector_norm(other) > torch.linalg.vector_norm(x_plus)
    # rank-deficient least squares: x+ minimises the residual and is the shortest minimiser
    a = rank_r(8, 5, 3, seed=62)
    b = rand(8, seed=63)
    x_plus = pinv_via_svd(a) @ b
    x_gelsd = torch.linalg.lstsq(a, b.unsqueeze(1), driver="gelsd").solution.squeeze(1)
    assert torch.allclose(x_plus, x_gelsd, atol=1e-8)
    best = torch.linalg.vector_norm(a @ x_plus - b)
    null = torch.linalg.svd(a).Vh[3:].T
    for _ in range(200):
        x = torch.randn(5, dtype=DT)
        assert torch.linalg.vector_norm(a @ x - b) >= best - 1e-10
        other = x_plus + null @ torch.randn(2, dtype=DT)
        assert torch.isclose(torch.linalg.vector_norm(a @ other - b), best)
        assert torch.linalg.vector_norm(other) > torch.linalg.vector_norm(x_plus)


@pytest.mark.card("p1-normal-equations")
def test_normal_equations_match_least_squares():
    x = rand(50, 3, seed=70)
    y = x @ torch.tensor([1.5, -2.0, 0.3], dtype=DT) + 0.1 * rand(50, seed=71)
    w = torch.linalg.inv(x.T @ x) @ x.T @ y
    w_lstsq = torch.linalg.lstsq(x, y.unsqueeze(1)).solution.squeeze(1)
    assert torch.allclose(w, w_lstsq, atol=1e-10)
    assert torch.allclose(x.T @ (x @ w - y), torch.zeros(3, dtype=DT), atol=1e-10)
    wv = w.clone().requires_grad_(True)
    ((x @ wv - y) ** 2).sum().backward()
    assert torch.allclose(wv.grad, torch.zeros(3, dtype=DT), atol=1e-10)


@pytest.mark.card("p1-ridge-closed-form")
@pytest.mark.card("p1-ridge-condition-number")
def test_ridge_closed_form_and_condition_number():
    x = rank_r(10, 6, 4, seed=72)  # X^T X is singular
    y = rand(10, seed=73)
    assert torch.linalg.matrix_rank(x.T @ x).item() == 4
    lam = 0.3
    ridge_matrix = x.T @ x + lam * torch.eye(6, dtype=DT)
    w = torch.linalg.solve(ridge_matrix, x.T @ y)
    wv = w.clone().requires_grad_(True)
    (((x @ wv - y) ** 2).sum() + lam * (wv**2).sum()).backward()
    assert torch.allclose(wv.grad, torch.zeros(6, dtype=DT), atol=1e-10)
    s = torch.linalg.svdvals(x)
    s_all = torch.cat([s, torch.zeros(6 - len(s), dtype=DT)])  # sigma_min = 0 here
    kappa = (s_all.max() ** 2 + lam) / (s_all.min() ** 2 + lam)
    assert torch.isclose(torch.linalg.cond(ridge_matrix), kappa, rtol=1e-8)
    full = rand(30, 4, seed=74)  # full rank: kappa shrinks from sigma_max^2 / sigma_min^2
    s = torch.linalg.svdvals(full)
    for lam in (0.01, 1.0, 10.0):
        kappa_ridge = torch.linalg.cond(full.T @ full + lam * torch.eye(4, dtype=DT))
        assert torch.isclose(kappa_ridge, (s[0] ** 2 + lam) / (s[-1] ** 2 + lam), rtol=1e-8)
        assert kappa_ridge <= torch.linalg.cond(full.T @ full)


@pytest.mark.card("p1-ridge-limit-pinv")
def test_ridge_tends_to_minimum_norm_solution():
    x = rank_r(10, 6, 4, seed=75)
    y = rand(10, seed=76)
    target = pinv_via_svd(x) @ y
    gaps = []
    for lam in (1e-1, 1e-3, 1e-5, 1e-7):
        w = torch.linalg.solve(x.T @ x + lam * torch.eye(6, dtype=DT), x.T @ y)
        gaps.append(torch.linalg.vector_norm(w - target).item())
    assert all(g1 > g2 for g1, g2 in itertools.pairwise(gaps))
    assert gaps[-1] < 1e-5


# ------------------------------------------------------------------------ 1.7.6 FLOPs


@pytest.mark.card("p1-matmul-flops")
@pytest.mark.parametrize("m,n,p", [(1, 1, 1), (2, 3, 4), (5, 7, 3), (6, 1, 2)])
def test_matmul_flop_count(m, n, p):
    a, b = rand(m, n, seed=80), rand(n, p, seed=81)
    out, flops = naive_matmul_counting(a.tolist(), b.tolist())
    assert torch.allclose(torch.tensor(out, dtype=DT), a @ b)
    assert flops == m * p * (2 * n - 1)
    assert count_flops(torch.matmul, a, b) == 2 * m * n * p


@pytest.mark.card("p1-llm-training-flops")
@pytest.mark.card("p1-llm-flops-forward-backward")
def test_training_flops_are_6_n_d_for_a_stack_of_linear_layers():
    torch.manual_seed(0)
    widths = [32, 64, 48, 16]
    model = torch.nn.Sequential(
        *[torch.nn.Linear(i, o, bias=False, dtype=DT) for i, o in itertools.pairwise(widths)]
    )
    n_params = sum(p.numel() for p in model.parameters())
    tokens = 20
    x = torch.randn(tokens, widths[0], dtype=DT, requires_grad=True)
    out = {}
    forward = count_flops(lambda: out.setdefault("y", model(x)))
    backward = count_flops(lambda: out["y"].sum().backward())
    assert forward == 2 * n_params * tokens
    assert backward == 4 * n_params * tokens
    assert forward + backward == 6 * n_params * tokens
