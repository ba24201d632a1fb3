"""NATS-Bench topology search space (TSS = NAS-Bench-201 cells)."""

from __future__ import annotations

import functools
from typing import Sequence

import torch.nn as nn

from zeronas.spaces import _tss_cell as cell
from zeronas.spaces._api import register_space
from zeronas.spaces._categorical import CategoricalSpace
from zeronas.spaces._costs import count_flops, count_params
from zeronas.spaces._networks import TinyNetwork
from zeronas.spaces._ops import TSS_OPS

#: NATS-Bench TSS macro skeleton: 16 initial channels, 5 cells per stage
TSS_CHANNELS = 16
TSS_CELLS_PER_STAGE = 5


@register_space("tss", aliases=("topology", "nasbench201", "nas-bench-201"))
class TopologySpace(CategoricalSpace):
    """15,625 NAS-Bench-201 cells in NATS-Bench's index order."""

    name = "tss"
    size = cell.NUM_ARCHS
    ops = TSS_OPS
    edges = cell.EDGES

    @property
    def choices(self) -> list[tuple[str, list]]:
        return [(f"edge_{dst}_{src}", list(TSS_OPS)) for dst, src in cell.EDGES]

    # -- strings <-> codes <-> indices --------------------------------------
    def parse(self, arch: str) -> tuple[int, ...]:
        return cell.parse_cell(arch)

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

    # -- isomorphisms ----------------------------------------------------------
    def canonical(self, arch: str) -> str:
        """The member with the smallest NATS-Bench index of the arch's NATS-Bench isomorphism class."""
        return self.arch_at(int(cell.canonical_indices()[self.index_of(arch)]))

    def unique_key(self, arch: str) -> str:
        """NATS-Bench's own isomorphism key (``Structure.to_unique_str(consider_zero=True)``)."""
        return cell.nats_unique_key(self.parse(arch))

    def num_unique(self) -> int:
        """Number of isomorphism classes (6,466)."""
        return int(len(set(cell.canonical_indices().tolist())))

    def is_degenerate(self, arch: str) -> bool:
        return cell.is_degenerate_code(self.parse(arch))

    # -- networks and costs --------------------------------------------------
    def genotype(self, arch: str) -> list[list[tuple[str, int]]]:
        return cell.genotype(self.parse(arch))

    def build(self, arch: str, num_classes: int = 10) -> nn.Module:
        return TinyNetwork(TSS_CHANNELS, TSS_CELLS_PER_STAGE, self.genotype(arch), int(num_classes))

    def params(self, arch: str, num_classes: int = 10) -> int:
        return _params(self.validate(arch), int(num_classes))

    def flops(self, arch: str, num_classes: int = 10, resolution: int = 32) -> float:
        return _flops(self.validate(arch), int(num_classes), int(resolution))


@functools.lru_cache(maxsize=4096)
def _params(arch: str, num_classes: int) -> int:
    return count_params(TopologySpace().build(arch, num_classes))


@functools.lru_cache(maxsize=4096)
def _flops(arch: str, num_classes: int, resolution: int) -> float:
    return count_flops(TopologySpace().build(arch, num_classes), resolution)
