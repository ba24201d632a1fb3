"""DARTS supernets: cells whose nodes may read any earlier states, each edge holding a *set* of ops.

Form: ``Supernet(normal=[node2, node3, node4, node5], reduce=[...])``, a node being a list of
``('op+op+...', input)`` edges, ops from :data:`SUPERNET_OPS` (``none`` included). The one spelling
(``format_supernet``) lists an edge's ops in ``SUPERNET_OPS`` order and a node's edges by input. The
full DARTS supernet (``full_supernet``) has every op on all 14 possible edges of a cell (node ``n``
reads states ``0..n-1``). A supernet whose every node has exactly two edges, each holding one op
other than ``none``, *is* a plain genotype (``to_genotype``) and is written as one.

Edges are numbered the same way in every supernet (``EDGE_SLOTS``: normal then reduce, node by node,
input by input; 28 in all), so an edge absent from a supernet is an empty op set.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import NamedTuple

from zeronas.spaces._darts_genotype import CELL_INPUTS, CELL_KINDS, DARTS_OPS, NODES, SUPERNET_OPS, Genotype

#: joins the ops of one supernet edge, as in TSS supernets: ``'sep_conv_3x3+skip_connect'``
OP_JOIN = "+"
_NODE_RANGE = range(CELL_INPUTS, CELL_INPUTS + NODES)
#: every possible edge, as (cell kind, node, input): the index into ``edge_op_sets``
EDGE_SLOTS: tuple[tuple[str, int, int], ...] = tuple(
    (kind, node, source) for kind in CELL_KINDS for node in _NODE_RANGE for source in range(node)
)
_SLOT_INDEX = {slot: i for i, slot in enumerate(EDGE_SLOTS)}

#: one node's incoming edges: (ops, input), by input
NodeInputs = tuple[tuple[tuple[str, ...], int], ...]


class Supernet(NamedTuple):
    """Per cell kind, the incoming edges of nodes 2..5."""

    normal: tuple[NodeInputs, ...]
    reduce: tuple[NodeInputs, ...]


def is_supernet_form(text: str) -> bool:
    return text.lstrip().startswith("Supernet(")


def parse_supernet(text: str) -> Supernet:
    """A supernet from its ``Supernet(normal=..., reduce=...)`` form; ValueError names the bad part."""
    try:
        call = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{_short(text)} is not a Supernet(normal=[...], reduce=[...]) expression") from None
    if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "Supernet") or call.args:
        raise ValueError("write a supernet as Supernet(normal=[...], reduce=[...]) with keyword fields")
    fields = {k.arg: k.value for k in call.keywords}
    if set(fields) != set(CELL_KINDS):
        raise ValueError(f"Supernet fields are normal= and reduce=, got {sorted(map(str, fields))}")
    cells = []
    for kind in CELL_KINDS:
        try:
            nodes = ast.literal_eval(fields[kind])
        except ValueError:
            raise ValueError(f"the {kind} cell is not a literal: {_short(ast.unparse(fields[kind]))}") from None
        if not isinstance(nodes, list | tuple) or len(nodes) != NODES:
            count = len(nodes) if isinstance(nodes, list | tuple) else type(nodes).__name__
            raise ValueError(f"the {kind} cell needs {NODES} nodes (lists of ('op+op', input) edges), got {count}")
        cells.append(tuple(_check_node(kind, node, edges) for node, edges in zip(_NODE_RANGE, nodes)))
    return Supernet(*cells)


def _check_node(kind: str, node: int, edges: object) -> NodeInputs:
    if not isinstance(edges, list | tuple) or not edges:
        raise ValueError(f"{kind} node {node} has no incoming edge; give it a list of ('op+op', input) edges")
    result = {}
    for edge in edges:
        if not (isinstance(edge, list | tuple) and len(edge) == 2 and isinstance(edge[0], str)):
            raise ValueError(f"{kind} node {node}: edge {edge!r} is not an ('op+op', input) pair")
        spec, source = edge
        if not isinstance(source, int) or isinstance(source, bool) or not 0 <= source < node:
            raise ValueError(f"{kind} node {node}: input {source!r} must be an earlier state 0..{node - 1}")
        if source in result:
            raise ValueError(f"{kind} node {node}: two edges read state {source}; give each input one edge")
        result[source] = _check_ops(f"{kind} node {node}, the edge from state {source}", spec.split(OP_JOIN))
    return tuple((result[source], source) for source in sorted(result))


def _check_ops(where: str, ops: Sequence[str]) -> tuple[str, ...]:
    for op in ops:
        if op not in SUPERNET_OPS:
            raise ValueError(f"{where}: unknown op {op!r}; use one of {', '.join(SUPERNET_OPS)}")
        if list(ops).count(op) > 1:
            raise ValueError(f"{where}: {op!r} appears twice")
    return tuple(op for op in SUPERNET_OPS if op in ops)


def format_supernet(supernet: Supernet) -> str:
    cells = [
        "[" + ", ".join(str([(OP_JOIN.join(ops), source) for ops, source in node]) for node in cell) + "]"
        for cell in supernet
    ]
    return f"Supernet(normal={cells[0]}, reduce={cells[1]})"


def full_supernet() -> Supernet:
    cell = tuple(tuple((SUPERNET_OPS, source) for source in range(node)) for node in _NODE_RANGE)
    return Supernet(cell, cell)


def from_genotype(genotype: Genotype) -> Supernet:
    return Supernet(
        *(
            tuple(tuple(((op,), source) for op, source in cell[2 * k : 2 * k + 2]) for k in range(NODES))
            for cell in genotype
        )
    )


def to_genotype(supernet: Supernet) -> Genotype | None:
    """The plain genotype a supernet equals, or None when some node has other than two one-op inputs."""
    cells = []
    for cell in supernet:
        edges = []
        for node in cell:
            if len(node) != 2 or any(len(ops) != 1 or ops[0] not in DARTS_OPS for ops, _ in node):
                return None
            edges += [(ops[0], source) for ops, source in node]
        cells.append(tuple(edges))
    return Genotype(*cells)


def edge_op_sets(supernet: Supernet) -> list[tuple[str, ...]]:
    """The ops on each of the 28 possible edges (``EDGE_SLOTS`` order); an absent edge has none."""
    present = {
        (kind, node, source): ops
        for kind, cell in zip(CELL_KINDS, supernet)
        for node, inputs in zip(_NODE_RANGE, cell)
        for ops, source in inputs
    }
    return [present.get(slot, ()) for slot in EDGE_SLOTS]


def with_edge_ops(supernet: Supernet, edge: int, ops: Sequence[str]) -> Supernet:
    """``supernet`` with edge ``edge`` (an ``EDGE_SLOTS`` index) holding exactly ``ops``; no ops removes it."""
    if not 0 <= int(edge) < len(EDGE_SLOTS):
        raise ValueError(f"DARTS supernet edge {edge} is outside 0..{len(EDGE_SLOTS) - 1}")
    kind, node, source = EDGE_SLOTS[int(edge)]
    new_ops = _check_ops(f"{kind} node {node}, the edge from state {source}", list(ops))
    cells = list(supernet)
    cell = list(cells[CELL_KINDS.index(kind)])
    inputs = {s: o for o, s in cell[node - CELL_INPUTS]}
    inputs[source] = new_ops
    kept = tuple((o, s) for s, o in sorted(inputs.items()) if o)
    if not kept:
        raise ValueError(f"removing the edge {source}→{node} leaves {kind} node {node} without an input")
    cell[node - CELL_INPUTS] = kept
    cells[CELL_KINDS.index(kind)] = tuple(cell)
    return Supernet(*cells)


def node_input_edges(keep: int = 2) -> list[tuple[tuple[int, ...], int]]:
    """Per node with a choice of inputs (nodes 3..5 of each cell): its possible edges and how many it keeps."""
    return [
        (tuple(_SLOT_INDEX[(kind, node, source)] for source in range(node)), keep)
        for kind in CELL_KINDS
        for node in _NODE_RANGE
        if node > keep
    ]


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
