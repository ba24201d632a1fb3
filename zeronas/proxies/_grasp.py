"""GraSP: gradient signal preservation.

Wang, Zhang, Grosse. "Picking Winning Tickets Before Training by Preserving Gradient
Flow", ICLR 2020; as a NAS proxy: Abdelfattah et al., ICLR 2021.

Definition (zero-cost-nas / NASLib, T = 1, one iteration): train mode, one labelled
mini-batch, cross-entropy ``L``. ``g = dL/dW`` (detached) over all Conv2d/Linear
weights; then ``z = sum(g * dL/dW)`` with ``dL/dW`` differentiable and
``Hg = dz/dW`` (a Hessian-gradient product); ``grasp = sum over weights of -W * Hg``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext, weight_layers


@register_proxy("grasp")
class GraSP(Proxy):
    needs = Needs(inputs="batches", labels=True, backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        model = ctx.model
        model.train()
        weights = [layer.weight for layer in weight_layers(model)]
        x, y = ctx.batches[0]
        loss = F.cross_entropy(model(x), y)
        grad_w = [g.detach() for g in torch.autograd.grad(loss, weights, allow_unused=True, materialize_grads=True)]
        loss = F.cross_entropy(model(x), y)
        grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True, materialize_grads=True)
        z = sum((gw * gf).sum() for gw, gf in zip(grad_w, grad_f) if gf.requires_grad)
        hg = torch.autograd.grad(z, weights, allow_unused=True, materialize_grads=True)
        return float(sum((-w.detach() * h).double().sum() for w, h in zip(weights, hg)))
