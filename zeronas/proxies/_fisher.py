"""Fisher: channel saliency from activation gradients.

Theis et al. "Faster gaze prediction with dense networks and Fisher pruning", 2018;
Turner et al. "BlockSwap", ICLR 2020; as a NAS proxy: Abdelfattah et al., ICLR 2021.

Definition: train mode, cross-entropy on one labelled mini-batch. For every
Conv2d/Linear output ``a`` with gradient ``g = dL/da``: per sample ``n`` and channel
``k``, ``s_nk = sum over spatial positions of a * g``; the layer's saliency is
``sum_k 0.5 * mean_n(s_nk^2)``; ``fisher`` is the sum over layers.
"""

from __future__ import annotations

import torch

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._gradients import cross_entropy_grads


@register_proxy("fisher")
class Fisher(Proxy):
    needs = Needs(inputs="batches", labels=True, backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        saliencies = []
        for act, grad in cross_entropy_grads(ctx).activations:
            prod = (act * grad).double()
            per_channel = prod.sum(dim=(2, 3)) if prod.dim() == 4 else prod
            saliencies.append(per_channel.pow(2).mean(dim=0).mul(0.5).sum())
        return float(torch.stack(saliencies).sum()) if saliencies else 0.0
