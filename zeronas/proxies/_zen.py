"""Zen-score.

Lin, Wang, Sun, Chen, Sun, Qian, Li, Jin. "Zen-NAS: A Zero-Shot NAS for
High-Performance Image Recognition", ICCV 2021 (official ``compute_zen_score``).

Definition (one repeat, mixup gamma 0.01): on a copy of the network re-initialised
with Gaussian weights (conv/linear N(0, 1), BatchNorm gamma 1 and beta 0), in train
mode without gradients, two Gaussian batches ``x`` and ``e`` give the pre-pooling
feature maps ``f(x)`` and ``f(x + 0.01 e)``;
``zen = log(mean_n sum_{c,h,w} |f(x) - f(x + 0.01 e)|) + sum over BN layers of
log(sqrt(mean(running_var)))``. Data-free: the inputs are seeded noise of the scorer's
batch size whatever data the scorer has.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext

_MIXUP_GAMMA = 1e-2


def _gaussian_init(model: nn.Module, generator: torch.Generator) -> None:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.copy_(torch.randn(m.weight.shape, generator=generator))
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
            m.weight.fill_(1.0)
            m.bias.zero_()


def _noise(shape: tuple[int, ...], seed: int, salt: int) -> torch.Tensor:
    """Seeded standard-normal noise, drawn on the CPU so that CPU and CUDA runs see the same input."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed * 1_000_003 + salt))


@register_proxy("zen")
class Zen(Proxy):
    needs = Needs(inputs="batches")

    def compute(self, ctx: ProxyContext) -> float:
        net = copy.deepcopy(ctx.model).cpu()
        if not hasattr(net, "forward_features"):
            raise ValueError("zen needs forward_features(x) (the pre-pooling feature map)")
        with torch.no_grad():
            _gaussian_init(net, torch.Generator().manual_seed(ctx.seed))
            net.to(ctx.device).train()
            batch = ctx.batches[0][0].shape[0]
            shape = (batch, 3, ctx.resolution, ctx.resolution)
            x = _noise(shape, ctx.seed, salt=1).to(ctx.device)
            mixed = x + _MIXUP_GAMMA * _noise(shape, ctx.seed, salt=2).to(ctx.device)
            diff = (net.forward_features(x) - net.forward_features(mixed)).abs().double()
            variances = [
                m.running_var.double().mean()
                for m in net.modules()
                if isinstance(m, nn.BatchNorm2d) and m.running_var is not None
            ]
            response, *variances = torch.stack([diff.sum(dim=(1, 2, 3)).mean(), *variances]).tolist()
            if response == 0.0:
                raise FloatingPointError("zero response to the input perturbation (output ignores the input)")
            score = math.log(response)
            for variance in variances:
                score += math.log(math.sqrt(variance))
        return score
