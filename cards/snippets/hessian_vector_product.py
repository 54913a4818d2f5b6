import torch


def hvp(loss_fn, params, v):
    """H v without forming the Hessian H.

    Pearlmutter 1994: H v = grad of (g . v),
    where g is the gradient.
    """
    loss = loss_fn(params)
    # keep the graph: differentiate again
    (g,) = torch.autograd.grad(
        loss,
        params,
        create_graph=True,
    )
    (hv,) = torch.autograd.grad(g @ v, params)
    return hv
