import math

import torch
import torch.nn as nn
from torch import Tensor


class LoRALinear(nn.Module):
    """LoRA layer (Hu et al. 2021).

    h = W0 x + (alpha / r) B A x. W0 (the
    pretrained layer) is frozen; only A and B
    are trained.
    """

    def __init__(
        self,
        base: nn.Linear,
        r: int = 8,
        alpha: float = 16.0,
    ):
        super().__init__()
        # pretrained: W0 (d, k) + bias
        self.base = base
        # freeze W0 and the bias
        self.base.requires_grad_(False)
        k = base.in_features
        d = base.out_features
        # A: (r, k), B: (d, r)
        self.A = nn.Linear(k, r, bias=False)
        self.B = nn.Linear(r, d, bias=False)
        # A random, B = 0: Delta W = B A = 0,
        # so training starts exactly at the
        # pretrained model, yet dL/dB != 0
        # because A x != 0. (nn.Linear's
        # default init for A, as in loralib
        # and peft.)
        nn.init.kaiming_uniform_(
            self.A.weight,
            a=math.sqrt(5),
        )
        nn.init.zeros_(self.B.weight)
        # alpha / r: less retuning of the
        # learning rate when r changes
        self.scaling = alpha / r

    def forward(self, x: Tensor) -> Tensor:
        low_rank = self.B(self.A(x))
        delta = low_rank * self.scaling
        return self.base(x) + delta

    @torch.no_grad()
    def merged_weight(self) -> Tensor:
        """W0 + (alpha / r) B A as one matrix.

        No extra inference cost once merged.
        """
        A, B = self.A.weight, self.B.weight
        W0 = self.base.weight
        return W0 + self.scaling * (B @ A)
