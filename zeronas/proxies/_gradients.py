"""The cross-entropy backward pass shared by ``snip``, ``grad_norm`` and ``fisher``.

All three are defined (NASLib / zero-cost-nas, Abdelfattah et al. 2021) on the same
pass: train mode, one labelled mini-batch, cross-entropy, one backward. ``fisher``
also needs each Conv2d/Linear layer's output and its gradient, which are recorded
with ``retain_grad`` (this does not change any parameter gradient).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from zeronas.proxies._base import ProxyContext, weight_layers


@dataclass
class CrossEntropyGrads:
    #: (weight, weight gradient) per Conv2d/Linear layer, detached copies
    weights: list[tuple[torch.Tensor, torch.Tensor]]
    #: (output, output gradient) per Conv2d/Linear call
    activations: list[tuple[torch.Tensor, torch.Tensor]]


def cross_entropy_grads(ctx: ProxyContext) -> CrossEntropyGrads:
    def run() -> CrossEntropyGrads:
        model = ctx.model
        layers = weight_layers(model)
        outputs: list[torch.Tensor] = []

        def keep(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            output.retain_grad()
            outputs.append(output)

        handles = [layer.register_forward_hook(keep) for layer in layers]
        try:
            model.train()
            model.zero_grad(set_to_none=True)
            x, y = ctx.batches[0]
            F.cross_entropy(model(x), y).backward()
        finally:
            for handle in handles:
                handle.remove()
        weights = [(layer.weight.detach().clone(), _grad_or_zero(layer.weight)) for layer in layers]
        activations = [(o.detach(), _grad_or_zero(o)) for o in outputs]
        model.zero_grad(set_to_none=True)
        return CrossEntropyGrads(weights, activations)

    return ctx.shared("cross_entropy_grads", run)


def _grad_or_zero(t: torch.Tensor) -> torch.Tensor:
    return t.grad.detach().clone() if t.grad is not None else torch.zeros_like(t).detach()
