import torch


def spectral_norm(W, iters=100):
    """Largest singular value of W, no SVD.

    Power iteration on W^T W.
    """
    v = torch.randn(
        W.shape[1],
        dtype=W.dtype,
        device=W.device,
    )
    v = v / v.norm()
    for _ in range(iters):
        u = W @ v
        u = u / u.norm()
        v = W.T @ u
        v = v / v.norm()
    # = sigma_max once (u, v) is the top
    # singular pair
    return u @ W @ v
