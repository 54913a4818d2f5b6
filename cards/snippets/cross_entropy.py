import torch


def cross_entropy_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    ignore_index: int = -100,
) -> torch.Tensor:
    """Mean cross-entropy loss from logits.

    Same as F.cross_entropy(logits, targets)
    with its defaults, ignore_index too.

    logits:  (N, C) unnormalised scores
    targets: (N,)   integer labels in [0, C),
             or ignore_index (e.g. padding)
    returns: scalar, mean over kept targets
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
    # drop ignored targets (-100 would
    # otherwise make gather fail)
    keep = targets != ignore_index  # (N,)
    log_probs = log_probs[keep]  # (K, C)
    idx = targets[keep].unsqueeze(-1)
    # negative log-probability of each
    # example's target class
    picked = log_probs.gather(-1, idx)
    nll = -picked.squeeze(-1)  # (K,)
    return nll.mean()
