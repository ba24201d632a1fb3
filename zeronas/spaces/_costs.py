"""Parameter and FLOP counts.

Two FLOP conventions:

``"nats-bench"`` (the default, and what NATS-Bench records; xautodl ``utils/flop_benchmark.py``)
    multiply-adds counted once for ``Conv2d`` (k·k·C_in/groups·C_out per output position, plus
    C_out per position for a bias) and ``Linear`` (in·out, plus out for a bias); BatchNorm,
    ReLU, pooling and additions count nothing.
``"all-ops"`` (the convention of per-module counters such as ptflops)
    the above, plus BatchNorm (2 per element when affine, else 1), ReLU (1 per element) and
    pooling (1 per input element). The all-``nor_conv_3x3`` TSS cell: 220.12 M vs 222.86 M.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn as nn

from zeronas.spaces._base import check_flop_convention


@contextlib.contextmanager
def counting_build() -> Iterator[None]:
    """Build a network whose costs are to be counted: on the CPU, leaving the caller's RNG as it was. Not on the
    meta device: there BatchNorm runs through torch's Python decompositions, 3-7x slower than the CPU kernels
    at batch 1, after ~2 CPU-s of imports in a fresh process (every scorer actor counts costs)."""
    with torch.random.fork_rng(devices=[]), torch.device("cpu"):
        yield


def count_params(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def count_flops(model: nn.Module, resolution: int, channels: int = 3, convention: str = "nats-bench") -> float:
    """Forward FLOPs of one ``channels``×``resolution``×``resolution`` image, in millions."""
    check_flop_convention(convention)
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

    def elementwise_hook(module: nn.Module, inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.BatchNorm2d):
            total += output.numel() * (2 if module.affine else 1)
        elif isinstance(module, nn.ReLU):
            total += output.numel()
        else:  # pooling reads every input element once
            total += inputs[0].numel()

    elementwise = (nn.BatchNorm2d, nn.ReLU, nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)
    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
        elif convention == "all-ops" and isinstance(module, elementwise):
            handles.append(module.register_forward_hook(elementwise_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            weight = next(model.parameters(), None)  # the input goes where the model is
            device = weight.device if weight is not None else torch.device("cpu")
            model(torch.zeros(1, channels, resolution, resolution, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return total / 1e6
