import torch
from torch.distributions import Distribution


def mc_kl_divergence(
    p: Distribution,
    q: Distribution,
    num_samples: int = 10_000,
) -> torch.Tensor:
    """Monte Carlo estimate of KL(p || q).

    KL(p || q) = E_{x~p}[log p(x) - log q(x)].
    Unbiased; standard error =
    std(log p - log q) / sqrt(num_samples).
    """
    # samples must come from p, not q
    x = p.sample((num_samples,))
    log_ratio = p.log_prob(x) - q.log_prob(x)
    return log_ratio.mean(dim=0)


if __name__ == "__main__":
    from torch.distributions import (
        Normal,
        kl_divergence,
    )

    # KL( N(0, 1) || N(1, 0.5) ), where 0.5 is
    # the VARIANCE: Normal(loc, scale) takes
    # the standard deviation.
    p = Normal(0.0, 1.0)
    q = Normal(1.0, 0.5**0.5)
    torch.manual_seed(0)
    estimate = mc_kl_divergence(
        p,
        q,
        num_samples=100_000,
    )
    print(f"MC estimate: {estimate:.4f}")
    # closed form: ln(sqrt(0.5))
    # + (1 + 1) / (2 * 0.5) - 1/2 = 1.1534
    exact = kl_divergence(p, q)
    print(f"closed form: {exact:.4f}")
