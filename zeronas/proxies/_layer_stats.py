"""Per-layer statistics of an untrained network: the terminals GreenMachine's formulas read.

One forward/backward pass of the network (train mode, cross-entropy on the scorer's first
mini-batch) with a forward hook on every weight layer (``Conv2d``/``Linear``, module order)
gives, per layer, one value of each statistic in :data:`LAYER_STATS`:

* weights: ``w_l2`` (L2 norm), ``w_std`` (standard deviation), ``w_numel`` (log of the
  number of weights);
* activations (the layer's output on the batch): ``a_mean``, ``a_std``, ``a_l2`` (L2 norm
  per sample);
* gradients of the loss w.r.t. the weights: ``g_l2``, ``g_abs_mean``, ``snip`` (sum of
  ``|w * g|``), ``wg`` (sum of ``w * g``);
* feature correlations, as MeCo reads them: the output's sample 0 as ``C x positions``
  (a ``Linear`` output: the batch as positions), its ``C x C`` Pearson correlation (NaN
  entries set to 0) and ``eig_min`` / ``eig_max``, its smallest and largest eigenvalue.

Layers whose output is not touched by the loss (no path) get zero gradients.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from zeronas.proxies._base import ProxyContext, weight_layers

__all__ = ["LAYER_STATS", "layer_statistics", "context_statistics"]

LAYER_STATS = (
    "w_l2",
    "w_std",
    "w_numel",
    "a_mean",
    "a_std",
    "a_l2",
    "g_l2",
    "g_abs_mean",
    "snip",
    "wg",
    "eig_min",
    "eig_max",
)


def _correlation_eigs(maps: torch.Tensor) -> tuple[float, float]:
    """Smallest and largest eigenvalue of the channel correlation of ``maps`` (``C x N``)."""
    if maps.shape[0] < 2 or maps.shape[1] < 2:
        return 0.0, 0.0
    corr = torch.corrcoef(maps.double()).nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
    eigs = torch.linalg.eigvalsh(corr)
    return float(eigs[0]), float(eigs[-1])


def layer_statistics(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """``len(LAYER_STATS) x layers`` float64 array from one forward/backward pass of ``(x, y)``.

    Leaves the network without hooks and without ``.grad`` (its weights are not changed).
    """
    layers = weight_layers(model)
    activations: dict[nn.Module, list[float]] = {}

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        out = output.detach()
        flat = out.reshape(out.shape[0], -1)
        maps = out[0].reshape(out.shape[1], -1) if out.ndim == 4 else out.T
        eig_min, eig_max = _correlation_eigs(maps)
        activations[module] = [
            float(flat.mean()),
            float(flat.std()) if flat.numel() > 1 else 0.0,
            float(flat.norm(dim=1).mean()),
            eig_min,
            eig_max,
        ]

    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        model.train()
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    columns = []
    try:
        for layer in layers:
            w = layer.weight.detach()
            g = layer.weight.grad
            g = torch.zeros_like(w) if g is None else g.detach()
            a_mean, a_std, a_l2, eig_min, eig_max = activations.get(layer, [0.0] * 5)
            columns.append(
                [
                    float(w.norm()),
                    float(w.std()) if w.numel() > 1 else 0.0,
                    math.log(w.numel()),
                    a_mean,
                    a_std,
                    a_l2,
                    float(g.norm()),
                    float(g.abs().mean()),
                    float((w * g).abs().sum()),
                    float((w * g).sum()),
                    eig_min,
                    eig_max,
                ]
            )
    finally:
        model.zero_grad(set_to_none=True)
    return np.asarray(columns, dtype=np.float64).reshape(len(layers), len(LAYER_STATS)).T


def context_statistics(ctx: ProxyContext) -> np.ndarray:
    """:func:`layer_statistics` of the context's network on its first mini-batch, once per context."""
    x, y = ctx.batches[0]
    return ctx.shared("layer_statistics", lambda: layer_statistics(ctx.model, x, y))
