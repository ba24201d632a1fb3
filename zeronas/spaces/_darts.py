"""The DARTS CNN search space (the NAS-Bench-301 space): a normal and a reduction cell.

Architectures are written in the DARTS ``Genotype(...)`` form (see ``_darts_genotype``). The code
has, per cell and node, the node's input pair (one decision: node 2 always reads states 0 and 1,
node 3 picks 2 of 3 states, node 4 2 of 4, node 5 2 of 5) and one op per edge (7 ops, ``op0`` on the
smaller input): 22 decisions, 180² · 7¹⁶ ≈ 1.08·10¹⁸ genotypes. Every code is a valid genotype, so
random search, evolution and Optuna work on it unchanged; the index is the code read as a
mixed-radix number (first decision most significant), so ``index_of``/``arch_at`` are exact.

Given architectures may also be any genotype DARTS' ``NetworkCIFAR`` builds: ``none`` edges (a zero
op) and nodes reading one state twice. Those are outside the NAS-Bench-301 space (``in_space`` is
False): they validate, build, cost and score like the others but have no code and no index, and the
search moves never produce them.

Network size: the space's own ``channels``/``layers`` (default: the proxy size MeCo-based NAS
scores, 16 initial channels and 8 cells) apply to ``build``, ``params`` and ``flops``; each takes
``channels=``/``layers=`` to override them (the DARTS evaluation size is 36 / 20, with the
auxiliary head for training). ``DartsSpace(channels=36, layers=20)`` is a space at that size.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from zeronas.spaces import _darts_supernet as supernets
from zeronas.spaces._api import register_space
from zeronas.spaces._base import check_flop_convention
from zeronas.spaces._categorical import CategoricalSpace
from zeronas.spaces._darts_genotype import (
    CELL_INPUTS,
    CELL_KINDS,
    DARTS_OPS,
    NODES,
    Genotype,
    canonical_cell,
    count_cell_classes,
    format_compact,
    format_genotype,
    outside_search_space,
    parse_genotype,
)
from zeronas.spaces._darts_supernet import Supernet

if TYPE_CHECKING:
    import torch.nn as nn

#: the size MeCo-based NAS (and zero-cost proxies on DARTS in general) scores
PROXY_CHANNELS, PROXY_LAYERS = 16, 8
#: the DARTS evaluation network (600 epochs on CIFAR-10)
EVAL_CHANNELS, EVAL_LAYERS = 36, 20

_NODE_RANGE = range(CELL_INPUTS, CELL_INPUTS + NODES)
#: per node, its possible input pairs in lexicographic order
_INPUT_PAIRS = {node: list(itertools.combinations(range(node), 2)) for node in _NODE_RANGE}


def _decisions() -> list[tuple[str, list]]:
    result: list[tuple[str, list]] = []
    for kind in CELL_KINDS:
        for node in _NODE_RANGE:
            if len(_INPUT_PAIRS[node]) > 1:
                result.append((f"{kind}_node{node}_inputs", [f"{a},{b}" for a, b in _INPUT_PAIRS[node]]))
            result.append((f"{kind}_node{node}_op0", list(DARTS_OPS)))
            result.append((f"{kind}_node{node}_op1", list(DARTS_OPS)))
    return result


_DECISIONS = _decisions()
_OP_INDEX = {op: i for i, op in enumerate(DARTS_OPS)}


@register_space("darts", aliases=("nb301", "nas-bench-301", "darts-cnn"))
class DartsSpace(CategoricalSpace):
    """DARTS CNN cells (normal + reduction), networks built like DARTS' ``NetworkCIFAR``."""

    name = "darts"
    size = functools.reduce(lambda a, b: a * b, (len(options) for _, options in _DECISIONS))
    ops = DARTS_OPS

    def __init__(self, channels: int = PROXY_CHANNELS, layers: int = PROXY_LAYERS) -> None:
        if channels < 2 or channels % 2 or layers < 3:
            raise ValueError(f"a DARTS network needs an even channel count and >= 3 cells, got {channels}/{layers}")
        self.channels = int(channels)
        self.layers = int(layers)

    @property
    def choices(self) -> list[tuple[str, list]]:
        return [(name, list(options)) for name, options in _DECISIONS]

    # -- strings <-> codes <-> indices --------------------------------------
    def parse(self, arch: str) -> tuple[int, ...]:
        return _code(arch)

    def format(self, code: Sequence[int]) -> str:
        return format_genotype(self.genotype_of_code(self.check_code(code)))

    def validate(self, arch: str) -> str:
        """The DARTS form of a genotype (in the search space or not), or the one spelling of a supernet
        (see ``_darts_supernet``)."""
        structure = _read(arch)
        if isinstance(structure, Supernet):
            return supernets.format_supernet(structure)
        return format_genotype(structure)

    def genotype(self, arch: str) -> Genotype:
        """The genotype of ``arch``, in the search space or not; ValueError for a supernet."""
        structure = _read(arch)
        if isinstance(structure, Supernet):
            raise ValueError(f"{arch[:60]!r}... is a supernet, not a genotype")
        return structure

    def outside_reason(self, arch: str) -> str | None:
        """Why ``arch`` is not in the NAS-Bench-301 space (``"a supernet"``, or e.g. ``"outside the NAS-Bench-301
        space: normal node 3 has a 'none' edge"``), or None."""
        structure = _read(arch)
        if isinstance(structure, Supernet):
            return "a supernet"
        reason = outside_search_space(structure)
        return None if reason is None else f"outside the NAS-Bench-301 space: {reason}"

    @staticmethod
    def genotype_of_code(code: Sequence[int]) -> Genotype:
        values = iter(code)
        cells = []
        for _ in CELL_KINDS:
            edges = []
            for node in _NODE_RANGE:
                pairs = _INPUT_PAIRS[node]
                low, high = pairs[next(values)] if len(pairs) > 1 else pairs[0]
                edges += [(DARTS_OPS[next(values)], low), (DARTS_OPS[next(values)], high)]
            cells.append(tuple(edges))
        return Genotype(*cells)

    def compact(self, arch: str) -> str:
        """NASLib's compact form of ``arch`` (ValueError for a ``none`` edge, which that form cannot hold)."""
        return format_compact(self.genotype(arch))

    def index_of(self, arch: str) -> int:
        index = 0
        for value, (_, options) in zip(self.parse(arch), _DECISIONS, strict=True):
            index = index * len(options) + value
        return index

    def arch_at(self, index: int) -> str:
        index = int(index)
        if not 0 <= index < self.size:
            raise ValueError(f"DARTS index {index} is outside 0..{self.size - 1}")
        code = []
        for _, options in reversed(_DECISIONS):
            index, digit = divmod(index, len(options))
            code.append(digit)
        return self.format(code[::-1])

    # -- supernets ------------------------------------------------------------
    def is_supernet(self, arch: str) -> bool:
        return isinstance(_read(arch), Supernet)

    def supernet(self) -> str:
        """The DARTS supernet: all 8 ops (``none`` included) on each of the 14 possible edges of both cells."""
        return supernets.format_supernet(supernets.full_supernet())

    def is_degenerate(self, arch: str) -> bool:
        """True when no path of edges other than ``none`` leads from the input to the output (at the space's
        number of cells): the logits are then the same for every image."""
        live = [True, True]  # the two states the next cell reads: the stem's output at first
        for kind, *_ in _cell_shapes(self.layers, 32):
            states = list(live)
            for node in _nodes(_read(arch), kind):
                states.append(any(states[source] and any(op != "none" for op in ops) for ops, source in node))
            live = [live[1], any(states[CELL_INPUTS:])]
        return not live[1]

    def edge_op_sets(self, arch: str) -> list[tuple[str, ...]]:
        """The ops on each of the 28 possible edges (``_darts_supernet.EDGE_SLOTS``; absent edges hold none)."""
        return supernets.edge_op_sets(_structure(arch))

    def with_edge_ops(self, arch: str, edge: int, ops: Sequence[str]) -> str:
        """``arch`` with edge ``edge`` holding exactly ``ops``; empty ``ops`` removes the edge."""
        return self.validate(supernets.format_supernet(supernets.with_edge_ops(_structure(arch), edge, ops)))

    def node_input_edges(self) -> list[tuple[tuple[int, ...], int]]:
        """Nodes 3, 4, 5 of each cell choose 2 of their 3, 4, 5 possible inputs."""
        return supernets.node_input_edges()

    # -- isomorphisms ----------------------------------------------------------
    def canonical(self, arch: str) -> str:
        """Each cell's intermediate nodes renumbered to the smallest valid order (see
        ``_darts_genotype.relabelings``): renumberings only permute channels of the same network.
        A supernet is its own canonical form."""
        if self.is_supernet(arch):
            return self.validate(arch)
        return format_genotype(Genotype(*(canonical_cell(cell) for cell in self.genotype(arch))))

    def num_unique(self) -> int:
        """Genotypes up to node renumbering in each cell (382,128,166 cells of each kind)."""
        return count_cell_classes() ** len(CELL_KINDS)

    # -- networks and costs --------------------------------------------------
    def build(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        channels: int | None = None,
        layers: int | None = None,
        auxiliary: bool = False,
        drop_path_prob: float = 0.0,
    ) -> nn.Module:
        """DARTS' ``NetworkCIFAR`` at the space's size unless ``channels``/``layers`` are given; a supernet's
        edges are :func:`~zeronas.spaces._darts_network.supernet_edge` modules (the mean of their ops)."""
        from zeronas.spaces._darts_network import NetworkCIFAR, supernet_edge
        from zeronas.spaces._darts_ops import build_op

        structure = _read(arch)
        return NetworkCIFAR(
            channels or self.channels,
            int(num_classes),
            layers or self.layers,
            structure,
            auxiliary=auxiliary,
            drop_path_prob=drop_path_prob,
            make_edge=supernet_edge if isinstance(structure, Supernet) else build_op,
        )

    def params(
        self,
        arch: str,
        num_classes: int = 10,
        *,
        channels: int | None = None,
        layers: int | None = None,
        auxiliary: bool = False,
    ) -> int:
        """Parameters of the network, the auxiliary head's included when it is on; a supernet counts every
        op on every edge."""
        size = (channels or self.channels, layers or self.layers)
        return _cost(self.validate(arch), int(num_classes), *size, 32, "nats-bench", auxiliary)[0]

    def flops(
        self,
        arch: str,
        num_classes: int = 10,
        resolution: int = 32,
        convention: str = "nats-bench",
        *,
        channels: int | None = None,
        layers: int | None = None,
    ) -> float:
        """Inference MFLOPs (the auxiliary head does not run at inference)."""
        check_flop_convention(convention)
        size = (channels or self.channels, layers or self.layers)
        return _cost(self.validate(arch), int(num_classes), *size, int(resolution), convention, False)[1]


@functools.lru_cache(maxsize=65_536)
def _read(arch: str) -> Genotype | Supernet:
    """A genotype, or a supernet that is not a plain genotype; ValueError names the bad part."""
    if isinstance(arch, str) and supernets.is_supernet_form(arch):
        supernet = supernets.parse_supernet(arch)
        return supernets.to_genotype(supernet) or supernet
    return parse_genotype(arch)


def _structure(arch: str) -> Supernet:
    """Any arch of the search space as a supernet (a genotype's edges each holding its one op)."""
    structure = _read(arch)
    if isinstance(structure, Supernet):
        return structure
    reason = outside_search_space(structure)
    if reason is not None:
        raise ValueError(f"this genotype is outside the NAS-Bench-301 space ({reason}): it has no supernet form")
    return supernets.from_genotype(structure)


def _nodes(structure: Genotype | Supernet, kind: str) -> list[list[tuple[tuple[str, ...], int]]]:
    """The cell ``kind``'s nodes 2..5, each a list of its incoming edges as (ops, input)."""
    cell = getattr(structure, kind)
    if isinstance(structure, Supernet):
        return [list(node) for node in cell]
    return [[((op,), source) for op, source in cell[k : k + 2]] for k in range(0, len(cell), 2)]


@functools.lru_cache(maxsize=65_536)
def _code(arch: str) -> tuple[int, ...]:
    genotype = _read(arch)
    if isinstance(genotype, Supernet):
        raise ValueError(
            f"{arch[:60]!r}... is a supernet (some node has other than two one-op inputs), which has no code; "
            "its edges are read with edge_op_sets"
        )
    reason = outside_search_space(genotype)
    if reason is not None:
        raise ValueError(f"this genotype is outside the NAS-Bench-301 search space ({reason}), so it has no code")
    code = []
    for cell in genotype:
        for node in _NODE_RANGE:
            (op0, low), (op1, high) = cell[2 * (node - CELL_INPUTS) : 2 * (node - CELL_INPUTS) + 2]
            if len(_INPUT_PAIRS[node]) > 1:
                code.append(_INPUT_PAIRS[node].index((low, high)))
            code += [_OP_INDEX[op0], _OP_INDEX[op1]]
    return tuple(code)


# Costs: every DARTS cell concatenates 4 nodes, so channel counts and resolutions do not depend on
# the genotype; a network's cost is that of its fixed parts (stem, preprocessing, head) plus one term
# per edge and cell, which depends only on (op, channels, stride, input resolution). Each term is
# measured once on a real module (a network build and forward take ~0.5 s at the proxy size; the
# sum ~50 µs); the tests check the sum against whole-network counts.
@functools.lru_cache(maxsize=256)
def _cell_shapes(layers: int, resolution: int) -> tuple[tuple[str, int, int, int], ...]:
    """Per cell: (kind, channel multiplier, input resolution, output resolution)."""
    from zeronas.spaces._darts_network import NetworkCIFAR

    shapes = []
    multiplier, size = 1, resolution
    for layer in range(layers):
        reduction = layer in NetworkCIFAR.reduction_layers(layers)
        out_size = -(-size // 2) if reduction else size
        multiplier *= 2 if reduction else 1
        shapes.append(("reduce" if reduction else "normal", multiplier, size, out_size))
        size = out_size
    return tuple(shapes)


@functools.lru_cache(maxsize=4096)
def _edge_cost(op: str, channels: int, stride: int, resolution: int, convention: str, search: bool) -> tuple[int, int]:
    """(params, FLOPs) of one op on one edge; ``search``: as a supernet edge makes it."""
    from zeronas.spaces._costs import count_flops, count_params, counting_build
    from zeronas.spaces._darts_ops import build_op, build_search_op

    with counting_build():
        module = build_search_op(op, channels, stride) if search else build_op(op, channels, stride)
    return count_params(module), round(count_flops(module, resolution, channels=channels, convention=convention) * 1e6)


def _cost(
    arch: str, num_classes: int, channels: int, layers: int, resolution: int, convention: str, auxiliary: bool
) -> tuple[int, float]:
    """(params, MFLOPs) of the network of ``arch``."""
    fixed_params, fixed_flops = _fixed_cost(num_classes, channels, layers, resolution, convention, auxiliary)
    edge_params, edge_flops = _edges_cost(arch, channels, layers, resolution, convention)
    return fixed_params + edge_params, (fixed_flops + edge_flops) / 1e6


def _edges_cost(arch: str, channels: int, layers: int, resolution: int, convention: str) -> tuple[int, int]:
    """(params, FLOPs) of all edges (of every op of every supernet edge; a ``none`` edge costs nothing)."""
    structure = _read(arch)
    search = isinstance(structure, Supernet)
    params, flops = 0, 0
    for kind, multiplier, in_size, out_size in _cell_shapes(layers, resolution):
        for node in _nodes(structure, kind):
            for ops, source in node:
                strided = kind == "reduce" and source < CELL_INPUTS  # reads a previous cell's output
                for op in ops:
                    edge_params, edge_flops = _edge_cost(
                        op,
                        channels * multiplier,
                        2 if strided else 1,
                        in_size if strided else out_size,
                        convention,
                        search,
                    )
                    params += edge_params
                    flops += edge_flops
    return params, flops


@functools.lru_cache(maxsize=256)
def _fixed_cost(
    num_classes: int, channels: int, layers: int, resolution: int, convention: str, auxiliary: bool
) -> tuple[int, int]:
    """(params, FLOPs) of everything but the edges, from one real network (arch 0) less its edges."""
    from zeronas.spaces._costs import count_flops, count_params, counting_build

    space = DartsSpace(channels, layers)
    arch = space.arch_at(0)
    with counting_build():
        network = space.build(arch, num_classes, auxiliary=auxiliary)
    edge_params, edge_flops = _edges_cost(arch, channels, layers, resolution, convention)
    total_flops = round(count_flops(network, resolution, convention=convention) * 1e6)
    return count_params(network) - edge_params, total_flops - edge_flops
