import torch


def cross_entropy_loss(logits: torch.Tensor,
                       targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy, the same as F.cross_entropy(logits, targets).

    logits:  (N, C) unnormalised scores
    targets: (N,)   integer class labels in [0, C)
    returns: scalar
    """
    # log-softmax: log p_k = z_k - logsumexp(z)
    # (torch.logsumexp subtracts the max internally: no overflow)
    log_probs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    # negative log-probability of each example's target class
    nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return nll.mean()
