"""The slimmable SSS supernet: weights of the widest network, a candidate uses the first ``c`` channels.

Split by spatial size into the three BossNAS blocks of the NATS SSS skeleton (stem, cell, resblock, cell,
resblock, cell). A block's *key* is the channel counts that shape it, its input width included:

- block 0 (full resolution): stem and first cell, key ``(c0,)``;
- block 1 (1/2): first resblock and second cell, key ``(c0, c1, c2)``;
- block 2 (1/4): second resblock, third cell and the final BN-ReLU, key ``(c2, c3, c4)``.

BatchNorm always normalises with the batch's statistics (no running statistics): one set of running
statistics cannot serve every width, and the rating then depends only on its fixed batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from zeronas.spaces import _tss_cell as tss_cell
from zeronas.spaces._sss import SSS_CELL, SSS_CHANNELS

WIDEST = max(SSS_CHANNELS)
NUM_BLOCKS = 3
#: which of the 5 SSS channel counts form each block's key
BLOCK_LAYERS: tuple[tuple[int, ...], ...] = ((0,), (0, 1, 2), (2, 3, 4))


def block_keys(channels: Sequence[int]) -> list[tuple[int, ...]]:
    """Each block's key for an SSS architecture's 5 channel counts."""
    return [tuple(int(channels[i]) for i in layers) for layers in BLOCK_LAYERS]


def block_population(block: int) -> list[tuple[int, ...]]:
    """Every key of ``block``: 8 for block 0, 512 for blocks 1 and 2."""
    return list(itertools.product(SSS_CHANNELS, repeat=len(BLOCK_LAYERS[block])))


class SlimConv(nn.Conv2d):
    """A convolution of the widest shape; a call uses its first ``out`` filters over the input's channels."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)

    def forward(self, x: torch.Tensor, out: int) -> torch.Tensor:  # type: ignore[override]
        weight = self.weight[:out, : x.shape[1]]
        return F.conv2d(x, weight, None, self.stride, self.padding)


class SlimBN(nn.Module):
    """Batch-statistics BatchNorm whose affine parameters are sliced to the input's width."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        return F.batch_norm(x, None, None, self.weight[:c], self.bias[:c], training=True)


class SlimReLUConvBN(nn.Module):
    def __init__(self, kernel: int, stride: int = 1, c_in: int = WIDEST) -> None:
        super().__init__()
        self.conv = SlimConv(c_in, WIDEST, kernel, stride)
        self.bn = SlimBN(WIDEST)

    def forward(self, x: torch.Tensor, out: int) -> torch.Tensor:
        return self.bn(self.conv(F.relu(x), out))


class SlimCell(nn.Module):
    """The fixed SSS cell (3x3 convolutions and one skip); a skip between two widths is a 1x1 conv + BN,
    as NATS' ``FactorizedReduce`` at stride 1."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes = tss_cell.genotype(tss_cell.parse_cell(SSS_CELL))
        self.edges = nn.ModuleList()
        for node in self.nodes:
            for op, _ in node:
                if op == "nor_conv_3x3":
                    self.edges.append(SlimReLUConvBN(3))
                elif op == "skip_connect":
                    self.edges.append(nn.ModuleList([SlimConv(WIDEST, WIDEST, 1), SlimBN(WIDEST)]))
                else:
                    raise ValueError(f"the slimmable SSS cell has no {op} edge")

    def forward(self, x: torch.Tensor, out: int) -> torch.Tensor:
        states = [x]
        edges = iter(self.edges)
        for node in self.nodes:
            total = 0
            for _, source in node:
                edge, inp = next(edges), states[source]
                if isinstance(edge, SlimReLUConvBN):
                    total = total + edge(inp, out)
                elif inp.shape[1] == out:
                    total = total + inp
                else:
                    total = total + edge[1](edge[0](inp, out))
            states.append(total)
        return states[-1]


class SlimResBlock(nn.Module):
    """NATS' stride-2 ``ResNetBasicblock``: two ReLU-conv-BN plus an avg-pool 1x1-conv shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_a = SlimReLUConvBN(3, stride=2)
        self.conv_b = SlimReLUConvBN(3)
        self.shortcut = SlimConv(WIDEST, WIDEST, 1)

    def forward(self, x: torch.Tensor, out: int) -> torch.Tensor:
        residual = self.shortcut(F.avg_pool2d(x, 2), out)
        return residual + self.conv_b(self.conv_a(x, out), out)


class Block(nn.Module):
    """One BossNAS block: ``forward(x, key)`` with ``x`` already ``key[0]`` channels wide (block 0: the image)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        if index == 0:
            self.stem = SlimConv(3, WIDEST, 3)
            self.stem_bn = SlimBN(WIDEST)
            self.layers = nn.ModuleList([SlimCell()])
        else:
            self.layers = nn.ModuleList([SlimResBlock(), SlimCell()])
        self.final_bn = SlimBN(WIDEST) if index == NUM_BLOCKS - 1 else None

    def forward(self, x: torch.Tensor, key: Sequence[int]) -> torch.Tensor:
        if self.index == 0:
            x = self.stem_bn(self.stem(x, key[0]))
            return self.layers[0](x, key[0])
        for layer, out in zip(self.layers, key[1:], strict=True):
            x = layer(x, out)
        return F.relu(self.final_bn(x)) if self.final_bn is not None else x


class Head(nn.Module):
    """BYOL's MLP (linear, BN, ReLU, linear) on a block's pooled output, zero-padded to the widest width
    so that every path shares it (a narrow path uses the first columns of its first layer)."""

    def __init__(self, c_in: int, hidden: int, out: int) -> None:
        super().__init__()
        norm = nn.BatchNorm1d(hidden, track_running_stats=False)
        self.net = nn.Sequential(nn.Linear(c_in, hidden), norm, nn.ReLU(), nn.Linear(hidden, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def pooled(features: torch.Tensor) -> torch.Tensor:
    """Global average pooling, zero-padded to ``WIDEST`` channels."""
    x = features.mean(dim=(2, 3))
    return F.pad(x, (0, WIDEST - x.shape[1]))


class Supernet(nn.Module):
    """The three blocks and, per block, a projector and a predictor (the predictor only serves the online net)."""

    def __init__(self, hidden: int, dim: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(i) for i in range(NUM_BLOCKS)])
        self.projectors = nn.ModuleList([Head(WIDEST, hidden, dim) for _ in range(NUM_BLOCKS)])
        self.predictors = nn.ModuleList([Head(dim, hidden, dim) for _ in range(NUM_BLOCKS)])

    def block_parameters(self, block: int) -> list[nn.Parameter]:
        modules = (self.blocks[block], self.projectors[block], self.predictors[block])
        return [p for m in modules for p in m.parameters()]

    def widest_input(self, images: torch.Tensor, block: int) -> torch.Tensor:
        """The input of ``block``: the earlier blocks at their widest path (a path reads its first channels)."""
        x = images
        for earlier in range(block):
            x = self.blocks[earlier](x, (WIDEST,) * len(BLOCK_LAYERS[earlier]))
        return x

    def project(self, x: torch.Tensor, block: int, key: Sequence[int]) -> torch.Tensor:
        """The block's projection of its input ``x`` (the widest width) along the path ``key``."""
        if block > 0:
            x = x[:, : key[0]]
        return self.projectors[block](pooled(self.blocks[block](x, key)))
