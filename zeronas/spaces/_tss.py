"""NATS-Bench topology search space (TSS = NAS-Bench-201 cells)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from zeronas.spaces import _tss_cell as cell
from zeronas.spaces._api import register_space
from zeronas.spaces._base import check_flop_convention
from zeronas.spaces._categorical import CategoricalSpace
from zeronas.spaces._tss_cell import TSS_OPS

if TYPE_CHECKING:
    import torch.nn as nn

#: NATS-Bench TSS macro skeleton: 16 initial channels, 5 cells per stage
TSS_CHANNELS = 16
TSS_CELLS_PER_STAGE = 5


@register_space("tss", aliases=("topology", "nasbench201", "nas-bench-201"))
class TopologySpace(CategoricalSpace):
    """15,625 NAS-Bench-201 cells in NATS-Bench's index order."""

    size = cell.NUM_ARCHS
    ops = TSS_OPS
    edges = cell.EDGES

    @property
    def choices(self) -> list[tuple[str, list]]:
        return [(f"edge_{dst}_{src}", list(TSS_OPS)) for dst, src in cell.EDGES]

    def path_names(self) -> list[str]:
        """Names of the :meth:`path_encoding` entries, e.g. ``path=nor_conv_3x3>skip_connect``."""
        return ["path=" + ">".join(seq) for seq in cell.PATH_OPS]

    def path_encoding(self, arch: str) -> np.ndarray:
        """Counts of the cell's input-to-output paths per op sequence (see ``_tss_cell.path_encoding``)."""
        return cell.path_encoding(cell.parse_cell(arch))

    # -- strings <-> codes <-> indices --------------------------------------
    def parse(self, arch: str) -> tuple[int, ...]:
        return cell.parse_cell(arch)

    def validate(self, arch: str) -> str:
        """The normalised arch string (a supernet's op sets spelled in ``TSS_OPS`` order), or ValueError."""
        return cell.format_cell_sets(cell.parse_cell_sets(arch))

    def format(self, code: Sequence[int]) -> str:
        return cell.format_cell(self.check_code(code))

    def index_of(self, arch: str) -> int:
        _, by_code = cell.index_tables()
        return int(by_code[cell.code_to_int(self.parse(arch))])

    def arch_at(self, index: int) -> str:
        if not 0 <= int(index) < self.size:
            raise ValueError(f"TSS index {index} is outside 0..{self.size - 1}")
        by_index, _ = cell.index_tables()
        return cell.format_cell(cell.int_to_code(int(by_index[int(index)])))

    def enumerate(self):
        by_index, _ = cell.index_tables()
        for value in by_index:
            yield cell.format_cell(cell.int_to_code(int(value)))

    # -- supernets ------------------------------------------------------------
    def is_supernet(self, arch: str) -> bool:
        return any(len(ops) > 1 for ops in cell.parse_cell_sets(arch))

    def supernet(self) -> str:
        return cell.format_cell_sets([range(len(TSS_OPS))] * len(cell.EDGES))

    def edge_op_sets(self, arch: str) -> list[tuple[str, ...]]:
        return [tuple(TSS_OPS[i] for i in ops) for ops in cell.parse_cell_sets(arch)]

    def with_edge_ops(self, arch: str, edge: int, ops: Sequence[str]) -> str:
        sets = list(cell.parse_cell_sets(arch))
        if not 0 <= int(edge) < len(sets):
            raise ValueError(f"TSS edge {edge} is outside 0..{len(sets) - 1}")
        unknown = [op for op in ops if op not in TSS_OPS]
        if unknown or not ops:
            raise ValueError(f"edge ops {list(ops)!r} must be a non-empty subset of: {', '.join(TSS_OPS)}")
        sets[int(edge)] = tuple(TSS_OPS.index(op) for op in ops)
        return cell.format_cell_sets(sets)

    # -- isomorphisms ----------------------------------------------------------
    def canonical(self, arch: str) -> str:
        """The member with the smallest NATS-Bench index of the arch's NATS-Bench isomorphism class;
        a supernet is its own canonical form (no isomorphism classes are defined for supernets)."""
        if self.is_supernet(arch):
            return self.validate(arch)
        return self.arch_at(int(cell.canonical_indices()[self.index_of(arch)]))

    def unique_key(self, arch: str) -> str:
        """NATS-Bench's own isomorphism key (``Structure.to_unique_str(consider_zero=True)``)."""
        return cell.nats_unique_key(self.parse(arch))

    def num_unique(self) -> int:
        """Number of isomorphism classes (6,466)."""
        return int(len(set(cell.canonical_indices().tolist())))

    def is_degenerate(self, arch: str) -> bool:
        return cell.is_degenerate_sets(cell.parse_cell_sets(arch))

    # -- networks and costs --------------------------------------------------
    def genotype(self, arch: str) -> list[list[tuple[str | tuple[str, ...], int]]]:
        """Per node, its (op, source) inputs; a supernet edge gives the tuple of its ops instead of one op."""
        return cell.genotype_sets(cell.parse_cell_sets(arch))

    def build(
        self, arch: str, num_classes: int = 10, *, channels: int | None = None, cells_per_stage: int | None = None
    ) -> nn.Module:
        """The NATS-Bench network (16 channels, 5 cells per stage unless given; a supernet search trains smaller
        ones on CPU); a supernet edge is a :class:`~zeronas.spaces._networks.MixedOp`."""
        from zeronas.spaces._networks import TinyNetwork

        return TinyNetwork(
            channels or TSS_CHANNELS, cells_per_stage or TSS_CELLS_PER_STAGE, self.genotype(arch), int(num_classes)
        )

    def params(self, arch: str, num_classes: int = 10) -> int:
        return _params(self.validate(arch), int(num_classes))

    def flops(self, arch: str, num_classes: int = 10, resolution: int = 32, convention: str = "nats-bench") -> float:
        return _flops(self.validate(arch), int(num_classes), int(resolution), check_flop_convention(convention))


def _params(arch: str, num_classes: int) -> int:
    base, per_edge = _edge_costs(num_classes, 32, "nats-bench")
    return base[0] + sum(per_edge[op][0] for op in _edge_ops(arch))


def _flops(arch: str, num_classes: int, resolution: int, convention: str) -> float:
    base, per_edge = _edge_costs(num_classes, resolution, convention)
    return (base[1] + sum(per_edge[op][1] for op in _edge_ops(arch))) / 1e6


@functools.lru_cache(maxsize=16_384)
def _edge_ops(arch: str) -> tuple[str, ...]:
    """Every op instance of the cell; a supernet edge contributes each op it holds (its MixedOp runs them all)."""
    return tuple(TSS_OPS[i] for ops in cell.parse_cell_sets(arch) for i in ops)


@functools.lru_cache(maxsize=64)
def _edge_costs(
    num_classes: int, resolution: int, convention: str
) -> tuple[tuple[int, int], dict[str, tuple[int, int]]]:
    """Exact (params, FLOPs) of the cell-free skeleton and of one op on one edge position.

    Every TSS edge maps C→C at stride 1 inside its stage, so a network's cost is the
    skeleton's plus, per edge, that op's cost summed over the 15 cells. Measuring the six
    uniform networks (one per op) once gives every arch's cost without building it
    (building costs ~40 ms, the sum ~1 µs; the tests check both agree).
    """
    from zeronas.spaces._costs import count_flops, count_params, counting_build

    space = TopologySpace()

    def measure(op: str) -> tuple[int, int]:
        with counting_build():
            model = space.build(space.format([TSS_OPS.index(op)] * len(space.edges)), num_classes)
        return count_params(model), round(count_flops(model, resolution, convention=convention) * 1e6)

    base = measure("none")
    per_edge = {}
    for op in TSS_OPS:
        params, flops = measure(op)
        per_edge[op] = ((params - base[0]) // len(space.edges), (flops - base[1]) // len(space.edges))
    return base, per_edge
