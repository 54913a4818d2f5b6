import torch


def ppo_clip_objective(
    logp_new,
    logp_old,
    advantages,
    eps=0.2,
):
    """PPO-Clip surrogate L^CLIP; maximise it.

    Schulman et al. 2017, eq. 7. As a loss to
    minimise, use -L.
    """
    # r_t = pi_theta / pi_theta_old; the old
    # log-probabilities are constants
    log_ratio = logp_new - logp_old.detach()
    ratio = torch.exp(log_ratio)
    unclipped = ratio * advantages
    clip_ratio = ratio.clamp(1 - eps, 1 + eps)
    clipped = clip_ratio * advantages
    # pessimistic: the smaller of the two
    surrogate = torch.min(unclipped, clipped)
    return surrogate.mean()
