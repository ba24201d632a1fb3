"""ZiCo: zero-shot inverse coefficient of variation of gradients.

Li, Yang, Wang, Marculescu. "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation
on Gradients", ICLR 2023 (official ``getzico``).

Definition: train mode; for each of 2 separate labelled mini-batches, zero the
gradients, cross-entropy, backward, and record every Conv2d/Linear weight gradient.
Per layer, over the weights whose gradient has non-zero (population) standard
deviation across the batches: ``s = sum(mean_b |g| / std_b(g))``; the layer adds
``log(s)`` when ``s > 0`` and is skipped otherwise; ``zico`` is the sum over layers.
Without real data the labels are uniformly random, which keeps the definition but
makes the loss carry no class signal.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext, weight_layers


@register_proxy("zico")
class ZiCo(Proxy):
    needs = Needs(inputs="batches", num_batches=2, labels=True, backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        model = ctx.model
        model.train()
        layers = weight_layers(model)
        per_batch: list[list[torch.Tensor]] = [[] for _ in layers]
        for x, y in ctx.batches[:2]:
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            for grads, layer in zip(per_batch, layers):
                g = layer.weight.grad
                grads.append((g if g is not None else torch.zeros_like(layer.weight)).detach().double().flatten())
        model.zero_grad(set_to_none=True)
        # per layer on the device (masking, not indexing, so nothing waits for the values); one read-back
        per_layer = []
        for grads in per_batch:
            stacked = torch.stack(grads)
            std = stacked.std(dim=0, unbiased=False)
            ratio = stacked.abs().mean(dim=0) / std
            per_layer.append(torch.where(std != 0, ratio, 0.0).sum())
        total = 0.0
        for s in torch.stack(per_layer).tolist() if per_layer else []:
            if s > 0:
                total += math.log(s)
        return total
