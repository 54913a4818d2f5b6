import torch


def softmax(
    x: torch.Tensor,
    dim: int = -1,
) -> torch.Tensor:
    """Numerically stable softmax over dim."""
    # softmax(x - c) = softmax(x) for any
    # constant c. With c = max: every exponent
    # is <= 0, so exp cannot overflow, and the
    # largest term is exp(0) = 1, so the
    # denominator is >= 1.
    x_max = x.amax(dim=dim, keepdim=True)
    exp_x = torch.exp(x - x_max)
    total = exp_x.sum(dim=dim, keepdim=True)
    return exp_x / total
