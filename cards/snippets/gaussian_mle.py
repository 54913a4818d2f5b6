import torch
from torch import Tensor


def gaussian_mle(
    data: Tensor,
) -> tuple[Tensor, Tensor]:
    """MLE of a diagonal Gaussian.

    A mean and a variance per dimension.
    data: (N, d)
    returns: (mu, var), each (d,)
    """
    mu = data.mean(dim=0)
    # MLE divides by N (biased); dividing by
    # N - 1 would be unbiased
    var = data.var(dim=0, unbiased=False)
    return mu, var


def gaussian_log_likelihood(
    data: Tensor,
    mu: Tensor,
    var: Tensor,
) -> Tensor:
    """sum_n log N(x_n; mu, diag(var)).

    data: (N, d)
    var: (d,) per-dimension variances, or a
    scalar tensor (isotropic Gaussian).
    returns: scalar
    """
    # -1/2 sum_j [log(2 pi var_j)
    #             + (x_j - mu_j)^2 / var_j]:
    # each dimension's normaliser counted once
    # (a scalar var broadcasts to
    # d * log(2 pi var) by itself; no extra
    # factor d)
    log_norm = torch.log(2 * torch.pi * var)
    sq_dev = (data - mu) ** 2 / var
    per_dim = log_norm + sq_dev  # (N, d)
    log_p = -0.5 * per_dim.sum(dim=-1)  # (N,)
    # sum over samples; / N for the average
    return log_p.sum()
