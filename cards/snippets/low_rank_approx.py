import torch


def low_rank_approx(
    W: torch.Tensor,
    r: int,
) -> torch.Tensor:
    """Best rank-r approximation of W.

    Best in Frobenius and in spectral norm.
    W: (m, n); r: target rank, r <= min(m, n)
    """
    # thin SVD: W = U diag(S) Vh, singular
    # values S sorted descending
    U, S, Vh = torch.linalg.svd(
        W,
        full_matrices=False,
    )
    # keep the top r singular triplets
    # (U[:, :r] * S[:r] scales columns, which
    # avoids building diag(S))
    return (U[:, :r] * S[:r]) @ Vh[:r, :]


if __name__ == "__main__":
    W = torch.randn(128, 64)
    W_8 = low_rank_approx(W, r=8)
    S = torch.linalg.svdvals(W)
    # Eckart-Young: the error is
    # sqrt(sum_{i > r} s_i^2)
    err = torch.linalg.norm(W - W_8)
    tail = S[8:].pow(2).sum().sqrt()
    print(f"||W - W_8||_F       = {err:.4f}")
    print(f"sqrt(sum_i>8 s_i^2) = {tail:.4f}")
