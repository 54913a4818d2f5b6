import torch


def kl_divergence_gaussian(
    mu: torch.Tensor,
    log_var: torch.Tensor,
) -> torch.Tensor:
    """KL( N(mu, diag(sigma^2)) || N(0, I) ).

    One value per sample.
    mu, log_var: (N, d) encoder outputs,
    log_var = log sigma^2
    returns: (N,)
    """
    # per latent dimension:
    # 0.5 (sigma^2 + mu^2 - 1 - log sigma^2);
    # summed over the d dimensions
    var = log_var.exp()  # sigma^2
    terms = 1 + log_var - mu.pow(2) - var
    return -0.5 * torch.sum(terms, dim=-1)
