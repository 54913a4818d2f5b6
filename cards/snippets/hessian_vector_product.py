import torch


def hvp(loss_fn, params, v):
    """Hessian-vector product H v without forming H (Pearlmutter 1994): grad of (grad . v)."""
    loss = loss_fn(params)
    (grad,) = torch.autograd.grad(loss, params, create_graph=True)  # keep graph: differentiate again
    (hv,) = torch.autograd.grad(grad @ v, params)
    return hv
