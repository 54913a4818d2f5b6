import torch


def ppo_clip_objective(logp_new, logp_old, advantages, eps=0.2):
    """PPO-Clip surrogate L^CLIP (Schulman et al. 2017, eq. 7); maximise it (loss = -L)."""
    ratio = torch.exp(logp_new - logp_old.detach())  # r_t = pi_theta / pi_theta_old
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1 - eps, 1 + eps) * advantages
    return torch.min(unclipped, clipped).mean()  # pessimistic: the smaller of the two
