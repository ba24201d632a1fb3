"""The DARTS CIFAR network (quark0/darts ``cnn/model.py``: ``Cell``, ``AuxiliaryHeadCIFAR``, ``NetworkCIFAR``).

Differences from the reference, none of which changes the architecture or its parameters:
``forward`` returns logits only (the auxiliary logits come from ``forward_with_aux``),
``forward_features`` exposes the last cell's output, and drop-path is applied out of place.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
import torch.nn as nn

from zeronas.spaces._darts_genotype import Genotype
from zeronas.spaces._darts_ops import FactorizedReduce, Identity, ReLUConvBN, build_op, build_search_op
from zeronas.spaces._darts_supernet import Supernet
from zeronas.spaces._networks import MixedOp

#: builds the module of one edge from (op spec, channels, stride); the op spec is what the
#: genotype holds on that edge (an op name for a derived cell, a tuple of op names for a supernet)
EdgeBuilder = Callable[..., nn.Module]


def supernet_edge(ops: Sequence[str], C: int, stride: int) -> nn.Module:
    """A DARTS supernet edge at initialisation: the mean of its ops' outputs (softmax of zero
    architecture weights), each op made as in DARTS' search network."""
    return MixedOp([build_search_op(op, C, stride) for op in ops])


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob`` and rescale the rest (training only)."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class Cell(nn.Module):
    """Preprocess the two previous outputs to C channels, then 4 nodes, each the sum of its incoming edges
    (two in a derived cell, any number in a supernet)."""

    def __init__(
        self,
        nodes: Sequence[Sequence[tuple[object, int]]],
        C_prev_prev: int,
        C_prev: int,
        C: int,
        reduction: bool,
        reduction_prev: bool,
        make_edge: EdgeBuilder = build_op,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0: nn.Module = FactorizedReduce(C_prev_prev, C)
        else:
            self.preprocess0 = ReLUConvBN(C_prev_prev, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_prev, C, 1, 1, 0)
        self._steps = len(nodes)
        edges = [edge for node in nodes for edge in node]
        self._indices = [source for _, source in edges]
        sizes = [len(node) for node in nodes]
        self._node_edges = [range(start, start + n) for start, n in zip(itertools.accumulate([0, *sizes]), sizes)]
        self._ops = nn.ModuleList(make_edge(op, C, 2 if reduction and source < 2 else 1) for op, source in edges)
        self._concat = list(range(2, 2 + self._steps))
        self.multiplier = len(self._concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for edges in self._node_edges:
            total = 0
            for k in edges:
                op = self._ops[k]
                h = op(states[self._indices[k]])
                if self.training and drop_prob > 0.0 and not isinstance(op, Identity):
                    h = drop_path(h, drop_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in self._concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """Classifier on the 8x8 output of the cell at 2/3 depth (trained with a 0.4 weight in DARTS)."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class NetworkCIFAR(nn.Module):
    """Stem (3x3 conv to 3C, BN), ``layers`` cells with reductions at 1/3 and 2/3 depth, pooling, linear."""

    def __init__(
        self,
        C: int,
        num_classes: int,
        layers: int,
        genotype: Genotype | Supernet,
        auxiliary: bool = False,
        drop_path_prob: float = 0.0,
        make_edge: EdgeBuilder = build_op,
    ) -> None:
        super().__init__()
        self._layers = layers
        self._auxiliary = auxiliary
        self.drop_path_prob = drop_path_prob
        stem_multiplier = 3
        C_curr = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_curr, 3, padding=1, bias=False), nn.BatchNorm2d(C_curr))
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        C_aux = C_prev
        for i in range(layers):
            reduction = i in self.reduction_layers(layers)
            if reduction:
                C_curr *= 2
            nodes = genotype.reduce if reduction else genotype.normal
            if isinstance(genotype, Genotype):  # a derived cell: edges 2k, 2k+1 feed node k + 2
                nodes = [nodes[k : k + 2] for k in range(0, len(nodes), 2)]
            cell = Cell(nodes, C_prev_prev, C_prev, C_curr, reduction, reduction_prev, make_edge)
            self.cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == self.aux_layer(layers):
                C_aux = C_prev
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(C_aux, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_prev, num_classes)

    @staticmethod
    def reduction_layers(layers: int) -> tuple[int, int]:
        return layers // 3, 2 * layers // 3

    @staticmethod
    def aux_layer(layers: int) -> int:
        return 2 * layers // 3

    def _run(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits_aux = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_layer(self._layers) and self._auxiliary and self.training:
                logits_aux = self.auxiliary_head(s1)
        return s1, logits_aux

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last cell's output (the 4-D map the global pooling reads)."""
        return self._run(x)[0]

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(logits, auxiliary logits); the latter only in training mode with the auxiliary head."""
        features, logits_aux = self._run(x)
        out = self.global_pooling(features)
        return self.classifier(out.view(out.size(0), -1)), logits_aux

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]
