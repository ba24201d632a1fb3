"""The plain MeCo that the fast one is checked against (tests) and timed against (benchmarks/proxy_cost.py):
the authors' NATS-Bench script, one float32 corrcoef and general eigensolve per hook call."""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn as nn


def _reference_min_eig(fea: torch.Tensor) -> float:
    """The authors' per-call computation: float32 corrcoef, NaN/Inf -> 0, general eig.

    Exactly constant channels are zeroed explicitly, which is what the authors' NaN -> 0
    intends (float32 corrcoef can return spurious +-1 instead of NaN for them).
    """
    fea = fea.reshape(fea.shape[0], -1)
    with warnings.catch_warnings():  # 1x1 maps: one observation, NaN by design (then 0)
        warnings.simplefilter("ignore", UserWarning)
        corr = torch.corrcoef(fea)
    constant = fea.amax(dim=1) == fea.amin(dim=1)
    corr[constant, :] = 0
    corr[:, constant] = 0
    corr[torch.isnan(corr)] = 0
    corr[torch.isinf(corr)] = 0
    return float(torch.min(torch.real(torch.linalg.eig(corr)[0])))


def reference_meco(model: nn.Module, x: torch.Tensor, distinct: bool = False) -> float:
    """Hook every module, one minimum eigenvalue per call (or per distinct map)."""
    results: list[float] = []
    seen: list[torch.Tensor] = []

    def hook(module, inputs, output):
        if not isinstance(output, torch.Tensor) or output.dim() != 4:
            results.append(0.0)
            return
        fea = output[0].clone().detach()
        if distinct:
            if any(fea.shape == s.shape and torch.equal(fea, s) for s in seen):
                return
            seen.append(fea)
        results.append(_reference_min_eig(fea))

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.train()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return float(np.sum(results))
