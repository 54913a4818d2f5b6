import torch


def cross_entropy_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
) -> torch.Tensor:
    """Mean cross-entropy loss from logits.

    Same as F.cross_entropy(logits, targets).

    logits:  (N, C) unnormalised scores
    targets: (N,)   integer labels in [0, C)
    returns: scalar
    """
    # log-softmax:
    # log p_k = z_k - logsumexp(z)
    # (torch.logsumexp subtracts the max
    # internally: no overflow)
    log_norm = torch.logsumexp(
        logits,
        dim=-1,
        keepdim=True,
    )
    log_probs = logits - log_norm
    # negative log-probability of each
    # example's target class
    idx = targets.unsqueeze(-1)  # (N, 1)
    picked = log_probs.gather(-1, idx)
    nll = -picked.squeeze(-1)  # (N,)
    return nll.mean()
