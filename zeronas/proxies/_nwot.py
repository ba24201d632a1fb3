"""NASWOT: log-determinant of the binary activation-code kernel.

Mellor, Turner, Storkey, Crowley. "Neural Architecture Search without Training",
ICML 2021.

Definition: train mode, one mini-batch of ``N`` inputs, no gradients. At the input of
every ReLU module each sample's activations are binarised (``c = x > 0``);
``K += c c^T + (1 - c)(1 - c)^T`` (``N x N``: number of units on which two samples
agree, i.e. ``N_A - d_Hamming``), accumulated over all ReLUs; ``nwot = log|det K|``
(``slogdet``). Labels are not used.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._features import forward_with_relu_hooks


@register_proxy("nwot", aliases=("naswot",))
class NASWOT(Proxy):
    needs = Needs(inputs="batches")

    def compute(self, ctx: ProxyContext) -> float:
        model = ctx.model
        x = ctx.batches[0][0]
        n = x.shape[0]
        kernel = torch.zeros(n, n, dtype=torch.float64, device=ctx.device)

        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            codes = (inputs[0].detach().reshape(n, -1) > 0).double()
            kernel.add_(codes @ codes.T).add_((1.0 - codes) @ (1.0 - codes).T)

        forward_with_relu_hooks(model, x, hook, "nwot")
        sign, logdet = torch.stack(torch.linalg.slogdet(kernel)).tolist()
        if sign == 0:
            raise FloatingPointError("singular activation kernel (identical binary codes)")
        return float(logdet)
