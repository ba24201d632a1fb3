"""SynFlow: iterative synaptic flow, scored once at initialisation.

Tanaka, Kunin, Yamins, Ganguli. "Pruning neural networks without any data by
iteratively conserving synaptic flow", NeurIPS 2020; as a NAS proxy: Abdelfattah et
al., ICLR 2021.

Definition (zero-cost-nas / NASLib, ``bn=False``): on a copy of the network with its
BatchNorm layers removed, every parameter replaced by its absolute value, in float64
(values reach ~1e30 and overflow float32), an all-ones input of batch size 1 is
forwarded; ``R = sum(output)`` is back-propagated;
``synflow = sum over Conv2d/Linear weights of |w * dR/dw|``. Data-free.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext, weight_layers


def without_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer by an identity (in place) and return ``model``."""
    for module in list(model.modules()):
        for name, child in list(module._modules.items()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                module._modules[name] = nn.Identity()
    return model


@register_proxy("synflow")
class Synflow(Proxy):
    needs = Needs(inputs="none", backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        net = without_batchnorm(copy.deepcopy(ctx.model)).double()
        net.train()
        with torch.no_grad():
            for p in net.parameters():
                p.abs_()
        net.zero_grad(set_to_none=True)
        x = torch.ones(1, 3, ctx.resolution, ctx.resolution, dtype=torch.float64, device=ctx.device)
        net(x).sum().backward()
        flows = [
            (layer.weight.detach() * layer.weight.grad).abs().sum()
            for layer in weight_layers(net)
            if layer.weight.grad is not None
        ]
        return float(torch.stack(flows).sum()) if flows else 0.0
