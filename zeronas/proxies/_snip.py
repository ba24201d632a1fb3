"""SNIP: connection sensitivity at initialisation.

Lee, Ajanthan, Torr. "SNIP: Single-shot Network Pruning based on Connection
Sensitivity", ICLR 2019; used as a NAS proxy by Abdelfattah et al., "Zero-Cost
Proxies for Lightweight NAS", ICLR 2021.

Definition: train mode, cross-entropy on one labelled mini-batch;
``snip = sum over Conv2d/Linear weights of |w * dL/dw|``.
"""

from __future__ import annotations

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._gradients import cross_entropy_grads


@register_proxy("snip")
class Snip(Proxy):
    needs = Needs(inputs="batches", labels=True, backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        grads = cross_entropy_grads(ctx)
        return float(sum((w * g).abs().sum().double() for w, g in grads.weights))
