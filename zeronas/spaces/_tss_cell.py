"""The NAS-Bench-201 cell: arch strings, codes, NATS-Bench index order, isomorphism classes.

A supernet (for MeCo-PT) is an arch string whose edges may hold a *set* of ops, ``op+op~src``;
it has no code and no NATS-Bench index.

Code = 6 op indices (into ``TSS_OPS``) in edge order 1←0, 2←0, 2←1, 3←0, 3←1, 3←2.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

#: TSS candidate operations, in NATS-Bench's (xautodl ``NAS_BENCH_201``) order.
TSS_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: (destination, source) of each edge, in code order
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_ARCHS = len(TSS_OPS) ** len(EDGES)  # 15,625
_OP_INDEX = {op: i for i, op in enumerate(TSS_OPS)}
_ORDER_FILE = "tss_order.npy"


#: joins the ops of an edge that holds a set of ops (a supernet edge): ``|nor_conv_3x3+skip_connect~0|``
OP_SET_JOIN = "+"
#: a ``+`` between two ``|`` separates node groups; one between op names joins an op set
_GROUP_SPLIT = re.compile(r"(?<=\|)\+(?=\|)")


def parse_cell_sets(arch: str) -> tuple[tuple[int, ...], ...]:
    """``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` -> per edge, the sorted op indices it holds.

    An edge entry is ``op~src`` or, for a supernet edge, ``op+op+...~src`` (each op at most once).
    ValueError names the bad part.
    """
    if not isinstance(arch, str):
        raise ValueError(f"a TSS arch must be a string like '|nor_conv_3x3~0|+|...|', got {type(arch).__name__}")
    groups = _GROUP_SPLIT.split(arch.strip())
    if len(groups) != 3:
        raise ValueError(
            f"TSS arch {arch!r} must have 3 node groups joined by '+', found {len(groups)} "
            "(expected '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|')"
        )
    sets: list[tuple[int, ...]] = []
    for node, group in enumerate(groups, start=1):
        if not (group.startswith("|") and group.endswith("|") and len(group) > 1):
            raise ValueError(f"node {node} group {group!r} of TSS arch must start and end with '|'")
        entries = group[1:-1].split("|")
        if len(entries) != node:
            raise ValueError(f"node {node} group {group!r} needs {node} input edge(s), found {len(entries)}")
        for source, entry in enumerate(entries):
            ops, sep, src = entry.rpartition("~")
            if not sep or not ops:
                raise ValueError(f"edge {node}←{source} entry {entry!r} must look like 'op~{source}'")
            if src != str(source):
                raise ValueError(f"edge {node}←{source} entry {entry!r} names source {src!r}; expected '~{source}'")
            indices: list[int] = []
            for op in ops.split(OP_SET_JOIN):
                if op not in _OP_INDEX:
                    raise ValueError(f"unknown op {op!r} on edge {node}←{source}; choose one of: {', '.join(TSS_OPS)}")
                if _OP_INDEX[op] in indices:
                    raise ValueError(f"op {op!r} appears twice on edge {node}←{source} ({entry!r})")
                indices.append(_OP_INDEX[op])
            sets.append(tuple(sorted(indices)))
    return tuple(sets)


def parse_cell(arch: str) -> tuple[int, ...]:
    """``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` -> code; ValueError names the bad part (a supernet has no code)."""
    sets = parse_cell_sets(arch)
    for (dst, src), ops in zip(EDGES, sets, strict=True):
        if len(ops) > 1:
            raise ValueError(
                f"edge {dst}←{src} of {arch!r} holds {len(ops)} ops: a supernet, which has no code; "
                "give one op per edge"
            )
    return tuple(ops[0] for ops in sets)


def format_cell(code: Sequence[int]) -> str:
    return format_cell_sets([(int(c),) for c in code])


def format_cell_sets(sets: Sequence[Sequence[int]]) -> str:
    """Per-edge op-index sets -> arch string; a set's ops in ``TSS_OPS`` order (the one spelling of a supernet)."""
    entries = [OP_SET_JOIN.join(TSS_OPS[i] for i in sorted({int(c) for c in ops})) for ops in sets]
    groups, k = [], 0
    for node in (1, 2, 3):
        groups.append("|" + "|".join(f"{entries[k + s]}~{s}" for s in range(node)) + "|")
        k += node
    return "+".join(groups)


def genotype_sets(sets: Sequence[Sequence[int]]) -> list[list[tuple[str | tuple[str, ...], int]]]:
    """``genotype`` for op sets: a one-op edge gives its op name, a supernet edge the tuple of its op names."""
    nodes: list[list[tuple[str | tuple[str, ...], int]]] = [[], [], []]
    for (dst, src), ops in zip(EDGES, sets, strict=True):
        names = tuple(TSS_OPS[int(i)] for i in ops)
        nodes[dst - 1].append((names[0] if len(names) == 1 else names, src))
    return nodes


def genotype(code: Sequence[int]) -> list[list[tuple[str, int]]]:
    """Code -> per-node list of (op, source), the form ``InferCell`` takes."""
    return genotype_sets([(int(op),) for op in code])  # type: ignore[return-value]


def code_to_int(code: Sequence[int]) -> int:
    value = 0
    for op in code:
        value = value * len(TSS_OPS) + int(op)
    return value


def int_to_code(value: int) -> tuple[int, ...]:
    digits = []
    for _ in EDGES:
        value, digit = divmod(value, len(TSS_OPS))
        digits.append(digit)
    return tuple(reversed(digits))


# -- NATS-Bench index order -------------------------------------------------------------
def order_from_archs(archs: Iterable[str]) -> np.ndarray:
    """Arch strings in NATS-Bench index order -> uint16 base-5 codes (the package-data table)."""
    table = np.array([code_to_int(parse_cell(a)) for a in archs], dtype=np.uint16)
    if len(table) != NUM_ARCHS or len(np.unique(table)) != NUM_ARCHS:
        raise ValueError(
            f"expected {NUM_ARCHS} distinct TSS archs, got {len(table)} ({len(np.unique(table))} distinct)"
        )
    return table


@functools.lru_cache(maxsize=1)
def index_tables() -> tuple[np.ndarray, np.ndarray]:
    """``(code_int by index, index by code_int)``, loaded from the package data."""
    with resources.files("zeronas.spaces").joinpath("data", _ORDER_FILE).open("rb") as fh:
        by_index = np.load(fh)
    by_code = np.empty(NUM_ARCHS, dtype=np.int64)
    by_code[by_index.astype(np.int64)] = np.arange(NUM_ARCHS)
    return by_index, by_code


def order_file_path() -> Path:
    return Path(__file__).resolve().parent / "data" / _ORDER_FILE


# -- isomorphism classes ------------------------------------------------------------------
def nats_unique_key(code: Sequence[int]) -> str:
    """NATS-Bench's isomorphism key (xautodl ``Structure.to_unique_str(consider_zero=True)``).

    ``skip_connect`` passes its source's expression through, ``none`` (or an edge leaving a
    node that is exactly zero) contributes a zero term ``#``, other ops wrap their source, and
    each node's terms are sorted (sums commute). Over the 15,625 cells this gives the 6,466
    unique cells NATS-Bench reports; it keeps ``#`` terms in sums, so it is a little finer than
    functional equivalence (e.g. it does not identify the two intermediate nodes when swapped).
    """
    nodes = ["0"]
    for inputs in genotype(code):
        terms = []
        for op, source in inputs:
            if op == "none" or nodes[source] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(nodes[source])
            else:
                terms.append(f"({nodes[source]})@{op}")
        nodes.append("+".join(sorted(terms)))
    return nodes[-1]


def is_degenerate_code(code: Sequence[int]) -> bool:
    """True when no chain of non-``none`` edges leads from the cell input to its output."""
    return is_degenerate_sets([(int(op),) for op in code])


def is_degenerate_sets(sets: Sequence[Sequence[int]]) -> bool:
    """``is_degenerate_code`` for op sets: an edge carries signal when any of its ops is not ``none``."""
    reached = {0}
    for (dst, src), ops in zip(EDGES, sets, strict=True):
        if any(TSS_OPS[int(op)] != "none" for op in ops) and src in reached:
            reached.add(dst)
    return 3 not in reached


@functools.lru_cache(maxsize=1)
def canonical_indices() -> np.ndarray:
    """For every NATS index, the smallest NATS index of its isomorphism class."""
    by_index, _ = index_tables()
    first: dict[str, int] = {}
    result = np.empty(NUM_ARCHS, dtype=np.int64)
    for index, value in enumerate(by_index):
        key = nats_unique_key(int_to_code(int(value)))
        result[index] = first.setdefault(key, index)
    return result


#: the input-to-output paths of the cell as edge lists (edges as indices into EDGES)
_PATHS = tuple(
    tuple(EDGES.index((dst, src)) for src, dst in zip(nodes, nodes[1:]))
    for nodes in ((0, 3), (0, 1, 3), (0, 2, 3), (0, 1, 2, 3))
)
#: op sequences a path may carry (no ``none``: a path through ``none`` carries nothing), shortest first
PATH_OPS = tuple(seq for n in (1, 2, 3) for seq in itertools.product(TSS_OPS[1:], repeat=n))


def path_encoding(code: Sequence[int]) -> np.ndarray:
    """How many input-to-output paths of the cell carry each op sequence of :data:`PATH_OPS` (BANANAS' path
    encoding, White et al. 2021): a path through a ``none`` edge counts for nothing."""
    where = {seq: i for i, seq in enumerate(PATH_OPS)}
    counts = np.zeros(len(PATH_OPS))
    for path in _PATHS:
        ops = tuple(TSS_OPS[code[e]] for e in path)
        if "none" not in ops:
            counts[where[ops]] += 1
    return counts
