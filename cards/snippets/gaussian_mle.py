import torch


def gaussian_mle(data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """MLE of a diagonal Gaussian: a mean and a variance per dimension.

    data: (N, d)
    returns: (mu, var), each (d,)
    """
    mu = data.mean(dim=0)
    # MLE divides by N (biased); dividing by N - 1 would be unbiased
    var = data.var(dim=0, unbiased=False)
    return mu, var


def gaussian_log_likelihood(data: torch.Tensor, mu: torch.Tensor,
                            var: torch.Tensor) -> torch.Tensor:
    """sum_n log N(x_n; mu, diag(var)) for data (N, d).

    var: tensor (d,) of per-dimension variances, or a scalar tensor
    (isotropic Gaussian).
    """
    # -1/2 sum_j [log(2 pi var_j) + (x_j - mu_j)^2 / var_j]: each
    # dimension's normaliser counted once (a scalar var broadcasts to
    # d * log(2 pi var) by itself; no extra factor d)
    per_dim = torch.log(2 * torch.pi * var) + (data - mu) ** 2 / var
    log_density = -0.5 * per_dim.sum(dim=-1)  # (N,)
    return log_density.sum()  # / N for the average per sample
