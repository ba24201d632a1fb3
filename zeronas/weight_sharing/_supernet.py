"""α-weighted supernets built from a space's own supernet network, and the cells derived from α.

A space's supernet (``space.supernet()``, built by ``space.build``) has a ``MixedOp`` on every edge: the
mean of its ops. Here each one becomes an :class:`AlphaMixedOp`, ``Σ_k softmax(α_e)_k · op_k(x)`` with the
ops, their order and the cell wiring unchanged, and α passed to :meth:`RelaxedSupernet.forward`, so that
two networks (RARTS's ``w`` and ``y``) share one α without either owning it.

α has one matrix per cell kind, edges × ops, ops in the space's supernet order:

* TSS: one 6 × 5 matrix (``TSS_OPS``, ``none`` included), edges in code order, shared by every cell.
* DARTS: 14 × 8 for normal cells and 14 × 8 for reduction cells (``none`` first, then DARTS' 7 ops), edges
  node by node, input by input (``_darts_supernet.EDGE_SLOTS``).

Derivation as DARTS does it: on TSS the argmax op of each edge (``none`` included, as NAS-Bench-201's
DARTS); on DARTS each node keeps the two inputs whose strongest op other than ``none`` weighs most, each
with that op. The result is written through the space's supernet interface (``with_edge_ops``), so it is
the arch string the space itself parses.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn

from zeronas.errors import ZeronasError
from zeronas.spaces import SearchSpace

__all__ = ["AlphaMixedOp", "RelaxedSupernet", "alpha_shapes", "build_supernet", "derive"]

#: spaces with an α-weighted supernet: name -> (cell kinds, edges per cell, ops per edge)
_SHAPES = {"tss": (1, 6, 5), "darts": (2, 14, 8)}


class AlphaMixedOp(nn.Module):
    """A supernet edge weighted by ``softmax(α_e)``, set by the network before each forward."""

    def __init__(self, ops: nn.ModuleList) -> None:
        super().__init__()
        self._ops = ops
        self.weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(self.weights, self._ops))


class RelaxedSupernet(nn.Module):
    """A space's supernet network whose edges are :class:`AlphaMixedOp`; ``forward(x, alpha)``."""

    def __init__(self, network: nn.Module, edges: list[tuple[AlphaMixedOp, int, int]]) -> None:
        super().__init__()
        self.network = network
        self._edges = edges  # (op, cell kind, edge) in module order; the ops are the network's own modules

    def forward(self, x: torch.Tensor, alpha: Sequence[torch.Tensor]) -> torch.Tensor:
        probs = [torch.softmax(a, dim=-1) for a in alpha]
        for op, kind, edge in self._edges:
            op.weights = probs[kind][edge]
        try:
            return self.network(x)
        finally:
            for op, _, _ in self._edges:
                op.weights = None


def _check_space(space: SearchSpace) -> tuple[int, int, int]:
    if space.name not in _SHAPES:
        raise ZeronasError(
            f"no relaxed supernet for the {space.name} space; supernet-training searches run on: {', '.join(_SHAPES)}"
        )
    return _SHAPES[space.name]


def alpha_shapes(space: SearchSpace) -> list[tuple[int, int]]:
    """One (edges, ops) shape per cell kind."""
    kinds, edges, ops = _check_space(space)
    return [(edges, ops)] * kinds


def build_supernet(space: SearchSpace, num_classes: int, channels: int, layers: int) -> RelaxedSupernet:
    """The space's supernet at ``channels`` and ``layers`` (TSS: cells per stage; DARTS: cells), α-weighted."""
    from zeronas.spaces._networks import MixedOp

    _check_space(space)
    if space.name == "tss":
        network = space.build(space.supernet(), num_classes, channels=channels, cells_per_stage=layers)
        cells = [(cell.layers, 0) for cell in network.cells if hasattr(cell, "layers")]
    else:
        network = space.build(space.supernet(), num_classes, channels=channels, layers=layers)
        cells = [(cell._ops, int(cell.reduction)) for cell in network.cells]
    edges = []
    for modules, kind in cells:
        for e, mixed in enumerate(modules):
            if not isinstance(mixed, MixedOp):
                raise ZeronasError(f"the {space.name} supernet has a {type(mixed).__name__} edge, not a MixedOp")
            modules[e] = weighted = AlphaMixedOp(mixed._ops)
            edges.append((weighted, kind, e))
    return RelaxedSupernet(network, edges)


def derive(space: SearchSpace, alpha: Sequence[torch.Tensor]) -> str:
    """The plain architecture α stands for (see the module docstring), as the space's arch string."""
    _check_space(space)
    arch = space.supernet()
    ops = space.edge_op_sets(arch)
    probs = torch.cat([torch.softmax(a.detach().float().cpu(), dim=-1) for a in alpha])
    if space.name == "tss":
        for e, row in enumerate(probs):
            arch = space.with_edge_ops(arch, e, [ops[e][int(row.argmax())]])
        return space.validate(arch)
    real = [k for k, op in enumerate(ops[0]) if op in space.ops]  # every op but `none`
    best = [real[int(row[real].argmax())] for row in probs]
    strength = [float(row[k]) for row, k in zip(probs, best)]
    for e in range(len(probs)):
        arch = space.with_edge_ops(arch, e, [ops[e][best[e]]])
    for possible, keep in space.node_input_edges():
        ranked = sorted(possible, key=lambda e: -strength[e])
        for e in ranked[keep:]:
            arch = space.with_edge_ops(arch, e, [])
    return space.validate(arch)
