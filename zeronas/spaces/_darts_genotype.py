"""DARTS genotypes: parsing the DARTS and NASLib forms, printing the DARTS form, node isomorphisms.

A cell has 4 intermediate nodes (2..5); node ``n`` sums two edges, each an op applied to an earlier
state (0, 1 = the outputs of the two previous cells, 2..n-1 = earlier nodes), and the cell outputs the
concatenation of nodes 2..5. A genotype is a normal and a reduction cell.

DARTS' ``NetworkCIFAR`` builds any such genotype: its edges may use all 8 ``PRIMITIVES`` (``none``,
DARTS' ``Zero``, included) and both edges of a node may read the same state. The NAS-Bench-301 search
space is the part without ``none`` and with two distinct inputs per node (``outside_search_space``
says why a genotype is not in it); genotypes outside it are read, built and costed all the same.

Forms read:

* DARTS: ``Genotype(normal=[(op, input) x 8], normal_concat=[2, 3, 4, 5], reduce=[...],
  reduce_concat=[2, 3, 4, 5])``, the concat also as ``range(2, 6)``;
* NASLib compact: ``[[(input, op_index) x 8], [(input, op_index) x 8]]`` (normal, reduce) with op
  indices into :data:`DARTS_OPS`.

Printed form: the DARTS one with each node's two edges ordered by input, then by op in ``PRIMITIVES``
order (the sum is commutative, so the order carries no meaning). Parsing uses :mod:`ast`, never ``eval``.
"""

from __future__ import annotations

import ast
import functools
import itertools
from collections.abc import Sequence
from typing import NamedTuple

#: ops of a NAS-Bench-301 cell, in DARTS' ``PRIMITIVES`` order without ``none`` (= NASLib's op order)
DARTS_OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
#: DARTS' ``PRIMITIVES``: every op of the DARTS supernet, and every op ``NetworkCIFAR`` builds on an edge
SUPERNET_OPS: tuple[str, ...] = ("none", *DARTS_OPS)
_OP_ORDER = {op: i for i, op in enumerate(SUPERNET_OPS)}
NODES = 4
#: states before the intermediate nodes: the outputs of the two previous cells
CELL_INPUTS = 2
CONCAT = tuple(range(CELL_INPUTS, CELL_INPUTS + NODES))
CELL_KINDS = ("normal", "reduce")

#: an edge: (op name, input state)
Edge = tuple[str, int]


#: published genotypes, readable by name: DARTS (second order) from quark0/darts ``cnn/genotypes.py``,
#: P-DARTS (CIFAR-10) from chenxin061/pdarts ``genotypes.py``
KNOWN_GENOTYPES = {
    "DARTS_V2": "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
    "reduce_concat=[2, 3, 4, 5])",
    "PDARTS": "Genotype(normal=[('skip_connect', 0), ('dil_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3', 0), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), "
    "reduce=[('avg_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 0), "
    "('dil_conv_3x3', 1), ('dil_conv_3x3', 1), ('dil_conv_5x5', 3)], reduce_concat=range(2, 6))",
}


class Genotype(NamedTuple):
    """Two cells of 8 edges each; edges ``2k, 2k+1`` feed node ``k + 2``, ordered by input, then op."""

    normal: tuple[Edge, ...]
    reduce: tuple[Edge, ...]


def parse_genotype(text: str) -> Genotype:
    """A genotype from the DARTS or NASLib compact form, or a name of :data:`KNOWN_GENOTYPES`;
    ValueError names the bad part."""
    if not isinstance(text, str):
        raise ValueError(f"a DARTS genotype must be a string, got {type(text).__name__}")
    source = KNOWN_GENOTYPES.get(text.strip(), text.strip())
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise ValueError(_unknown_form(source)) from None
    if isinstance(tree, ast.Call):
        return _from_darts_call(tree)
    if isinstance(tree, ast.List | ast.Tuple):
        return _from_compact(tree)
    raise ValueError(_unknown_form(source))


def format_genotype(genotype: Genotype) -> str:
    """The DARTS form (what DARTS' ``genotypes.py`` and ``train.py --arch`` read)."""
    concat = list(CONCAT)
    return (
        f"Genotype(normal={list(genotype.normal)}, normal_concat={concat}, "
        f"reduce={list(genotype.reduce)}, reduce_concat={concat})"
    )


def format_compact(genotype: Genotype) -> str:
    """NASLib's compact form ``[[(input, op_index) x 8], [...]]``; ValueError for a ``none`` edge (it has no
    op index there)."""
    if any(op not in DARTS_OPS for cell in genotype for op, _ in cell):
        raise ValueError("NASLib's compact form has no 'none' op; write this genotype in the DARTS form")
    cells = [[(source, DARTS_OPS.index(op)) for op, source in cell] for cell in genotype]
    return str(cells)


def outside_search_space(genotype: Genotype) -> str | None:
    """Why ``genotype`` is outside the NAS-Bench-301 search space (the first reason), or None when inside."""
    for kind, cell in zip(CELL_KINDS, genotype, strict=True):
        for node in range(CELL_INPUTS, CELL_INPUTS + NODES):
            (op0, source0), (op1, source1) = cell[2 * (node - CELL_INPUTS) : 2 * (node - CELL_INPUTS) + 2]
            if "none" in (op0, op1):
                return f"{kind} node {node} has a 'none' edge"
            if source0 == source1:
                return f"{kind} node {node} reads state {source0} twice"
    return None


def _ordered_node(pair: Sequence[Edge]) -> list[Edge]:
    return sorted(pair, key=lambda edge: (edge[1], _OP_ORDER[edge[0]]))


def check_cell(kind: str, edges: Sequence) -> tuple[Edge, ...]:
    """The cell's edges with ops checked and each node's two edges ordered by input, then op."""
    if not isinstance(edges, list | tuple) or len(edges) != 2 * NODES:
        count = len(edges) if isinstance(edges, list | tuple) else type(edges).__name__
        raise ValueError(f"the {kind} cell needs {2 * NODES} (op, input) edges, 2 per node, got {count}")
    result: list[Edge] = []
    for node in range(CELL_INPUTS, CELL_INPUTS + NODES):
        pair = []
        for edge in edges[2 * (node - CELL_INPUTS) : 2 * (node - CELL_INPUTS) + 2]:
            if not (isinstance(edge, list | tuple) and len(edge) == 2):
                raise ValueError(f"{kind} node {node}: edge {edge!r} is not an (op, input) pair")
            op, source = edge
            if op not in SUPERNET_OPS:
                raise ValueError(f"{kind} node {node}: unknown op {op!r}; use one of {', '.join(SUPERNET_OPS)}")
            if not isinstance(source, int) or isinstance(source, bool) or not 0 <= source < node:
                raise ValueError(f"{kind} node {node}: input {source!r} must be an earlier state 0..{node - 1}")
            pair.append((op, source))
        result.extend(_ordered_node(pair))
    return tuple(result)


# -- isomorphisms -----------------------------------------------------------------------------
def relabelings(cell: Sequence[Edge]) -> list[tuple[Edge, ...]]:
    """The cell under every renumbering of its intermediate nodes that keeps it a valid cell.

    Renumbering nodes 2..5 permutes the concatenated output channels, which the next layer's
    1x1 convolution (or the classifier) absorbs with the same initial weight distribution: all
    renumberings are the same network up to a channel permutation.
    """
    result = []
    for wiring, edge_map in _relabeling_maps(tuple(source for _, source in cell)):
        edges: list[Edge] = [cell[0]] * len(cell)
        for k, (op, _) in enumerate(cell):
            edges[edge_map[k]] = (op, wiring[edge_map[k]])
        # two edges reading one state come out in edge order: put them back in op order
        result.append(tuple(edge for k in range(0, len(edges), 2) for edge in _ordered_node(edges[k : k + 2])))
    return result


def canonical_cell(cell: Sequence[Edge]) -> tuple[Edge, ...]:
    """The smallest renumbering (by input then op index of each edge, node by node)."""
    return min(relabelings(cell), key=lambda edges: [(source, _OP_ORDER[op]) for op, source in edges])


def count_cell_classes(num_ops: int = len(DARTS_OPS)) -> int:
    """Number of cells up to node renumbering with ``num_ops`` ops per edge (Burnside-style count).

    A labelled cell's class has ``#valid relabelings / #automorphisms`` members, so the number of
    classes is the sum over labelled cells of ``|Aut| / #valid``. ``#valid`` depends on the wiring
    only, and summing ``|Aut|`` over the op assignments of one wiring counts, for every renumbering
    that maps the wiring to itself, the op assignments constant on its edge cycles.
    """
    from fractions import Fraction

    total = Fraction(0)
    for wiring in _wirings():
        images = _relabeling_maps(wiring)
        fixed = sum(num_ops ** _edge_cycles(edge_map) for image, edge_map in images if image == wiring)
        total += Fraction(fixed, len(images))
    assert total.denominator == 1
    return int(total)


def _wirings() -> list[tuple[int, ...]]:
    """Every valid choice of the 8 inputs (two distinct, ascending, per node)."""
    per_node = [list(itertools.combinations(range(node), 2)) for node in range(CELL_INPUTS, CELL_INPUTS + NODES)]
    return [tuple(s for pair in pairs for s in pair) for pairs in itertools.product(*per_node)]


@functools.lru_cache(maxsize=4096)  # one entry per wiring (180 in the search space, 2,700 in all)
def _relabeling_maps(wiring: tuple[int, ...]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """For each valid renumbering of a wiring (the 8 inputs): the new wiring and where each edge goes."""
    result = []
    for order in itertools.permutations(range(CELL_INPUTS, CELL_INPUTS + NODES)):
        label = list(range(CELL_INPUTS)) + list(order)  # old state number -> new one
        placed = sorted((label[CELL_INPUTS + k // 2], label[source], k) for k, source in enumerate(wiring))
        if all(source < node for node, source, _ in placed):
            edge_map = [0] * len(wiring)
            for position, (_, _, k) in enumerate(placed):
                edge_map[k] = position
            result.append((tuple(source for _, source, _ in placed), tuple(edge_map)))
    return result


def _edge_cycles(edge_map: Sequence[int]) -> int:
    seen, cycles = set(), 0
    for start in range(len(edge_map)):
        if start not in seen:
            cycles += 1
            k = start
            while k not in seen:
                seen.add(k)
                k = edge_map[k]
    return cycles


# -- parsing helpers ------------------------------------------------------------------------
def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _unknown_form(source: str) -> str:
    names = ", ".join(KNOWN_GENOTYPES)
    return f"{_short(source)} is neither a DARTS Genotype(...), a NASLib [[...], [...]] form nor one of {names}"


def _literal(node: ast.AST, what: str):
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(f"{what} is not a literal: {_short(ast.unparse(node))}") from None


def _concat(node: ast.AST, what: str) -> None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        value = list(range(*(_literal(a, what) for a in node.args)))
    else:
        value = _literal(node, what)
    if list(value) != list(CONCAT):
        raise ValueError(f"{what} is {list(value)}; the DARTS space concatenates nodes {list(CONCAT)}")


def _from_darts_call(call: ast.Call) -> Genotype:
    if not (isinstance(call.func, ast.Name | ast.Attribute) and ast.unparse(call.func).endswith("Genotype")):
        raise ValueError(f"expected Genotype(normal=..., reduce=...), got a call to {ast.unparse(call.func)}")
    if call.args:
        raise ValueError("write Genotype's fields as keywords: normal=, normal_concat=, reduce=, reduce_concat=")
    fields = {k.arg: k.value for k in call.keywords}
    expected = {"normal", "normal_concat", "reduce", "reduce_concat"}
    if set(fields) != expected:
        missing, extra = expected - set(fields), set(fields) - expected
        parts = [f"missing {sorted(missing)}" if missing else "", f"unknown {sorted(extra)}" if extra else ""]
        raise ValueError(f"Genotype fields: {'; '.join(p for p in parts if p)}")
    for kind in CELL_KINDS:
        _concat(fields[f"{kind}_concat"], f"{kind}_concat")
    cells = [check_cell(kind, _literal(fields[kind], kind)) for kind in CELL_KINDS]
    return Genotype(*cells)


def _from_compact(node: ast.AST) -> Genotype:
    value = _literal(node, "the NASLib compact form")
    if len(value) != len(CELL_KINDS):
        raise ValueError(f"the NASLib compact form needs 2 cells (normal, reduce), got {len(value)}")
    cells = []
    for kind, edges in zip(CELL_KINDS, value, strict=True):
        if not isinstance(edges, list | tuple):
            raise ValueError(f"the {kind} cell of the NASLib compact form is not a list of (input, op_index) pairs")
        converted = []
        for edge in edges:
            if not (isinstance(edge, list | tuple) and len(edge) == 2):
                raise ValueError(f"{kind} cell: edge {edge!r} is not an (input, op_index) pair")
            source, op_index = edge
            if not isinstance(op_index, int) or not 0 <= op_index < len(DARTS_OPS):
                last = len(DARTS_OPS) - 1
                raise ValueError(f"{kind} cell: op index {op_index!r} is outside 0..{last} (NASLib's op order)")
            converted.append((DARTS_OPS[op_index], source))
        cells.append(check_cell(kind, converted))
    return Genotype(*cells)
