"""Parameter and FLOP counts with NATS-Bench's conventions (xautodl ``utils/flop_benchmark.py``).

FLOPs count multiply-adds once for ``Conv2d`` (k·k·C_in/groups·C_out per output position, plus
C_out per position for a bias) and ``Linear`` (in·out, plus out for a bias); BatchNorm, ReLU,
pooling and additions count nothing, as in NATS-Bench's counter.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def count_params(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def count_flops(model: nn.Module, resolution: int, channels: int = 3) -> float:
    """Forward FLOPs of one ``channels``×``resolution``×``resolution`` image, in millions."""
    total = 0

    def conv_hook(module: nn.Conv2d, inputs, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        positions = output.shape[0] * output.shape[2] * output.shape[3]
        per_position = kh * kw * module.in_channels * module.out_channels // module.groups
        total += per_position * positions
        if module.bias is not None:
            total += module.out_channels * positions

    def linear_hook(module: nn.Linear, inputs, output: torch.Tensor) -> None:
        nonlocal total
        batch = inputs[0].shape[0]
        total += batch * module.in_features * module.out_features
        if module.bias is not None:
            total += batch * module.out_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            device = next(model.parameters()).device  # "meta" counts shapes without computing
            model(torch.zeros(1, channels, resolution, resolution, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return total / 1e6
