"""Grad-norm: the gradient norm at initialisation.

Abdelfattah, Mehrotra, Dudziak, Lane. "Zero-Cost Proxies for Lightweight NAS", ICLR 2021.

Definition: train mode, cross-entropy on one labelled mini-batch;
``grad_norm = sum over Conv2d/Linear layers of ||dL/dW||_2`` (per-layer Frobenius norm, summed).
"""

from __future__ import annotations

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._gradients import cross_entropy_grads


@register_proxy("grad_norm")
class GradNorm(Proxy):
    needs = Needs(inputs="batches", labels=True, backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        grads = cross_entropy_grads(ctx)
        return float(sum(g.double().norm() for _, g in grads.weights))
