"""The NATS-Bench macro networks (xautodl ``TinyNetwork`` and ``DynamicShapeTinyNet``).

Both ``forward`` methods return logits only (xautodl returns ``(features, logits)``) and expose
``forward_features`` for the 4-D map after ``lastact``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from zeronas.spaces._ops import OPS, ResNetBasicblock

#: a cell genotype: for nodes 1..3, the (op, source node) pairs feeding it; a tuple of ops is a supernet edge
Genotype = Sequence[Sequence[tuple[str | tuple[str, ...], int]]]


class MixedOp(nn.Module):
    """A DARTS supernet edge at initialisation: ``sum_k softmax(alpha)_k * op_k(x)`` with ``alpha = 0``.

    With zero architecture weights the softmax is uniform, so the edge outputs the mean of its ops'
    outputs. Zero-cost proxies score the untrained supernet, so ``alpha`` is never trained here and is
    not a parameter (it would otherwise count in parameter totals and gradient-based proxies).
    """

    def __init__(self, ops: Sequence[nn.Module]) -> None:
        super().__init__()
        self._ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(op(x) for op in self._ops) / len(self._ops)


def edge_module(ops: str | Sequence[str], C_in: int, C_out: int, stride: int) -> nn.Module:
    """One op, or a :class:`MixedOp` of several, mapping ``C_in`` to ``C_out`` channels."""
    if isinstance(ops, str):
        return OPS[ops](C_in, C_out, stride)
    return MixedOp([OPS[op](C_in, C_out, stride) for op in ops])


class InferCell(nn.Module):
    """A NAS-Bench-201 cell; edges from the cell input map C_in -> C_out, the others C_out -> C_out.

    An edge given a tuple of ops is a supernet edge (:class:`MixedOp`)."""

    def __init__(self, genotype: Genotype, C_in: int, C_out: int, stride: int = 1) -> None:
        super().__init__()
        self.layers = nn.ModuleList()
        self.node_IN: list[list[int]] = []
        self.node_IX: list[list[int]] = []
        for node_inputs in genotype:
            layer_ids, sources = [], []
            for op_name, source in node_inputs:
                if source == 0:
                    layer = edge_module(op_name, C_in, C_out, stride)
                else:
                    layer = edge_module(op_name, C_out, C_out, 1)
                layer_ids.append(len(self.layers))
                sources.append(source)
                self.layers.append(layer)
            self.node_IX.append(layer_ids)
            self.node_IN.append(sources)
        self.in_dim = C_in
        self.out_dim = C_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for layer_ids, sources in zip(self.node_IX, self.node_IN):
            nodes.append(sum(self.layers[i](nodes[j]) for i, j in zip(layer_ids, sources)))
        return nodes[-1]


class _CellNetwork(nn.Module):
    """stem -> cells -> lastact -> global pooling -> classifier, shared by both spaces."""

    stem: nn.Sequential
    cells: nn.ModuleList

    def _finish(self, channels: int, num_classes: int) -> None:
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        feature = self.stem(x)
        for cell in self.cells:
            feature = cell(feature)
        return self.lastact(feature)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.global_pooling(self.forward_features(x))
        return self.classifier(out.view(out.size(0), -1))


class TinyNetwork(_CellNetwork):
    """NAS-Bench-201 / NATS-Bench TSS network: 3 stages of N cells with C, 2C, 4C channels."""

    def __init__(self, C: int, N: int, genotype: Genotype, num_classes: int) -> None:
        super().__init__()
        self._C = C
        self._layerN = N
        self.stem = nn.Sequential(nn.Conv2d(3, C, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(C))
        layer_channels = [C] * N + [C * 2] + [C * 2] * N + [C * 4] + [C * 4] * N
        layer_reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        c_prev = C
        for c_curr, reduction in zip(layer_channels, layer_reductions):
            cell = ResNetBasicblock(c_prev, c_curr, 2) if reduction else InferCell(genotype, c_prev, c_curr, 1)
            self.cells.append(cell)
            c_prev = cell.out_dim
        self._finish(c_prev, num_classes)


class DynamicShapeTinyNet(_CellNetwork):
    """NATS-Bench SSS network (xautodl ``infer.shape.tiny``): one channel count per layer."""

    def __init__(self, channels: Sequence[int], genotype: Genotype, num_classes: int) -> None:
        super().__init__()
        if len(channels) % 3 != 2:
            raise ValueError(f"DynamicShapeTinyNet needs 3N+2 channel counts, got {len(channels)}")
        self._channels = list(channels)
        self._num_stage = N = len(channels) // 3
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels[0], kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(channels[0])
        )
        layer_reductions = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        c_prev = channels[0]
        for c_curr, reduction in zip(channels, layer_reductions):
            cell = ResNetBasicblock(c_prev, c_curr, 2) if reduction else InferCell(genotype, c_prev, c_curr, 1)
            self.cells.append(cell)
            c_prev = cell.out_dim
        self._finish(c_prev, num_classes)
