"""The interface every search space implements.

Architectures travel through the public API as *strings* in the space's own
NATS-Bench format (``|op~0|+|op~0|op~1|+...|`` for TSS, ``"8:16:24:32:40"`` for
SSS). Codes are tuples of category indices, one per decision (``choices``),
which is what Optuna and evolution work on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported only where networks are built: search trials stay light
    import torch.nn as nn

#: ``SearchSpace.flops`` conventions (see ``zeronas.spaces._costs``)
FLOP_CONVENTIONS = ("nats-bench", "all-ops")


def check_flop_convention(convention: str) -> str:
    if convention not in FLOP_CONVENTIONS:
        raise ValueError(f"unknown FLOP convention {convention!r}: use one of {', '.join(FLOP_CONVENTIONS)}")
    return convention


class SearchSpace(ABC):
    #: registry name, e.g. "tss"
    name: str
    #: number of architectures
    size: int
    #: input shape of one sample (C, H, W)
    input_shape: tuple[int, int, int] = (3, 32, 32)
    #: the ops an edge of a plain architecture may hold (cell spaces; empty for others)
    ops: tuple[str, ...] = ()

    # -- decisions -----------------------------------------------------------
    @property
    @abstractmethod
    def choices(self) -> list[tuple[str, list]]:
        """One ``(decision_name, options)`` per decision, in code order."""

    # -- strings <-> codes <-> indices --------------------------------------
    @abstractmethod
    def parse(self, arch: str) -> tuple[int, ...]:
        """Arch string -> code. Malformed input raises ValueError naming the bad part."""

    @abstractmethod
    def format(self, code: Sequence[int]) -> str:
        """Code -> arch string (inverse of ``parse``)."""

    def validate(self, arch: str) -> str:
        """Return the normalised arch string, or raise ValueError."""
        return self.format(self.parse(arch))

    @abstractmethod
    def index_of(self, arch: str) -> int:
        """NATS-Bench index of an arch."""

    @abstractmethod
    def arch_at(self, index: int) -> str:
        """Arch string at a NATS-Bench index."""

    def enumerate(self) -> Iterator[str]:
        """All architectures in NATS-Bench index order."""
        for i in range(self.size):
            yield self.arch_at(i)

    # -- search moves ------------------------------------------------------
    @abstractmethod
    def sample(self, rng: np.random.Generator) -> str: ...

    @abstractmethod
    def mutate(self, arch: str, rng: np.random.Generator) -> str:
        """A uniformly chosen one-edit neighbour (always different from ``arch``)."""

    @abstractmethod
    def neighbours(self, arch: str) -> list[str]:
        """All one-edit neighbours."""

    @abstractmethod
    def crossover(self, a: str, b: str, rng: np.random.Generator) -> str:
        """Uniform crossover of the two codes."""

    def canonical(self, arch: str) -> str:
        """Isomorphism-canonical form; spaces without isomorphisms return the arch."""
        return self.validate(arch)

    def num_unique(self) -> int:
        """Number of distinct ``canonical`` forms (the size for spaces without isomorphisms)."""
        return self.size

    def in_space(self, arch: str) -> bool:
        """True when ``arch`` is one of the space's ``size`` architectures (it has a code and an index).
        False for a supernet, and for an architecture the space builds but its searches never propose
        (DARTS: a ``none`` edge, or a node reading one state twice)."""
        return self.outside_reason(arch) is None

    def outside_reason(self, arch: str) -> str | None:
        """Why ``arch`` is not one of the space's ``size`` architectures, or None when it is."""
        return "a supernet" if self.is_supernet(arch) else None

    def is_degenerate(self, arch: str) -> bool:
        """True if the network's output does not depend on its input."""
        return False

    # -- supernets (MeCo-PT) ----------------------------------------------------
    # A supernet is an architecture string of the space whose edges may hold a *set* of ops (and, where
    # nodes choose their inputs, whose nodes may read any earlier states); it is built as a DARTS
    # supernet at initialisation. An edge of a plain architecture holds one op of ``ops``.
    # Spaces without supernets keep these defaults.
    def is_supernet(self, arch: str) -> bool:
        """True when some edge of ``arch`` holds more than one op."""
        return False

    def supernet(self) -> str:
        """The full supernet: every candidate op on every edge."""
        raise ValueError(f"the {self.name} space has no supernets (its edges cannot hold a set of ops)")

    def edge_op_sets(self, arch: str) -> list[tuple[str, ...]]:
        """The ops each edge of ``arch`` (plain or supernet) holds, in edge order."""
        raise ValueError(f"the {self.name} space has no supernets (its edges cannot hold a set of ops)")

    def with_edge_ops(self, arch: str, edge: int, ops: Sequence[str]) -> str:
        """``arch`` with edge ``edge`` (an index into ``edge_op_sets``) holding exactly ``ops`` (none: the
        edge is removed, in spaces whose nodes choose their inputs)."""
        raise ValueError(f"the {self.name} space has no supernets (its edges cannot hold a set of ops)")

    def node_input_edges(self) -> list[tuple[tuple[int, ...], int]]:
        """Per node that chooses its inputs, its possible incoming edges (indices into ``edge_op_sets``) and
        how many a plain architecture keeps; empty where every edge stays (TSS)."""
        return []

    # -- networks and costs --------------------------------------------------
    @abstractmethod
    def build(self, arch: str, num_classes: int = 10) -> nn.Module:
        """The NATS-Bench network; ``forward`` returns logits and the module has
        ``forward_features(x)`` returning the pre-pooling 4-D feature map."""

    @abstractmethod
    def params(self, arch: str, num_classes: int = 10) -> int: ...

    @abstractmethod
    def flops(self, arch: str, num_classes: int = 10, resolution: int = 32, convention: str = "nats-bench") -> float:
        """Forward FLOPs in millions: ``"nats-bench"`` (conv and linear multiply-adds, what
        NATS-Bench records) or ``"all-ops"`` (also BatchNorm, ReLU, pooling); see ``_costs``."""
