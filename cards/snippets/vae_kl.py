import torch


def kl_divergence_gaussian(mu: torch.Tensor,
                           log_var: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(log_var))) || N(0, I) ) for each sample.

    mu, log_var: (N, d) encoder outputs, log_var = log sigma^2
    returns: (N,)
    """
    # per latent dimension: 0.5 * (sigma^2 + mu^2 - 1 - log sigma^2);
    # summed over the d dimensions
    return -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)
