import math

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    """LoRA (Hu et al. 2021): h = W0 x + (alpha / r) B A x.

    W0 (the pretrained layer) is frozen; only A and B are trained.
    """

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0):
        super().__init__()
        self.base = base                 # pretrained: W0 (out, in) + bias
        self.base.requires_grad_(False)  # freeze W0 and the bias
        self.A = nn.Linear(base.in_features, r, bias=False)   # (r, in)
        self.B = nn.Linear(r, base.out_features, bias=False)  # (out, r)
        # A random, B = 0: Delta W = B A = 0, so training starts exactly
        # at the pretrained model, yet dL/dB != 0 because A x != 0.
        # (nn.Linear's default init for A, as in loralib and peft.)
        nn.init.kaiming_uniform_(self.A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.B.weight)
        # alpha / r: less retuning of the learning rate when r changes
        self.scaling = alpha / r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.B(self.A(x)) * self.scaling

    @torch.no_grad()
    def merged_weight(self) -> torch.Tensor:
        """W0 + (alpha / r) B A: one matrix, no extra inference cost."""
        delta_w = self.B.weight @ self.A.weight
        return self.base.weight + self.scaling * delta_w
