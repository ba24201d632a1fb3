"""DARTS genotypes that DARTS' ``NetworkCIFAR`` builds but the NAS-Bench-301 space leaves out: ``none`` edges
(DARTS' ``Zero``) and nodes whose two edges read the same state. They are read, built, costed and scored like any
genotype, marked outside the space (index null, ``in_space`` false), and searches never propose them.

Expected parameter and FLOP counts are derived here from the published DARTS-V2 figures and the closed-form size
of each DARTS op, not from the space's own cost code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from zeronas.cli import main
from zeronas.groundtruth import open_ground_truth
from zeronas.logs import LogWriter, log_schema, open_log
from zeronas.search_algos import get_algorithm
from zeronas.spaces import KNOWN_GENOTYPES, DartsSpace, get_space
from zeronas.spaces._costs import count_flops, count_params
from zeronas.spaces._darts_genotype import SUPERNET_OPS, format_genotype, parse_genotype
from zeronas.spaces._darts_ops import Zero, build_op

DARTS = get_space("darts")
V2_PARAMS, V2_EVAL_PARAMS, V2_MFLOPS = 246_106, 3_349_342, 43.444746  # DARTS' log; test_darts.py


def genotype(normal: list, reduce: list) -> str:
    """DARTS' own form, edges in the order written (not normalised)."""
    return f"Genotype(normal={normal}, normal_concat=range(2, 6), reduce={reduce}, reduce_concat=range(2, 6))"


V2_NORMAL = [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1)]
V2_NORMAL += [("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)]
V2_REDUCE = [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1)]
V2_REDUCE += [("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)]


def edit(cell: list, position: int, edge: tuple) -> list:
    return [edge if k == position else e for k, e in enumerate(cell)]


# DARTS-V2 with normal node 5's dil_conv_3x3 from state 2 made 'none', and reduce node 4's max_pool from state 0
# made 'none' (a strided Zero)
NONE_EDGES = genotype(edit(V2_NORMAL, 7, ("none", 2)), edit(V2_REDUCE, 4, ("none", 0)))
# normal node 5: dil_conv_3x3 from 2 -> sep_conv_5x5 from 0 (node 5 reads state 0 twice); reduce node 2:
# max_pool from 0 -> skip_connect from 1 (reads state 1 twice, a strided skip: FactorizedReduce)
SAME_INPUT = genotype(edit(V2_NORMAL, 7, ("sep_conv_5x5", 0)), edit(V2_REDUCE, 0, ("skip_connect", 1)))
# normal node 4: skip from 0 -> 'none' from 1 (beside its sep_conv from 1); reduce node 5: max_pool from 1 ->
# skip from 2 (beside its skip from 2): both swap a parameter-free op for another, so the count stays DARTS-V2's
BOTH = genotype(edit(V2_NORMAL, 5, ("none", 1)), edit(V2_REDUCE, 7, ("skip_connect", 2)))
OUTSIDE = [NONE_EDGES, SAME_INPUT, BOTH]
REASONS = ["normal node 5 has a 'none' edge", "normal node 5 reads state 0 twice", "normal node 4 has a 'none' edge"]
REASONS = [f"outside the NAS-Bench-301 space: {reason}" for reason in REASONS]


# -- closed-form op sizes (DARTS cnn/operations.py, affine BatchNorm: 2 parameters per channel) ---------------------
def dil_conv(C: int, k: int) -> int:  # depthwise k x k, pointwise, BN
    return C * k * k + C * C + 2 * C


def sep_conv(C: int, k: int) -> int:  # two dil_conv-like blocks
    return 2 * dil_conv(C, k)


def factorized_reduce(C: int) -> int:  # two 1x1 convs to C/2 channels, BN
    return 2 * C * (C // 2) + 2 * C


def cells(channels: int, layers: int, resolution: int = 32) -> list[tuple[str, int, int]]:
    """(kind, channels, output resolution) per cell of NetworkCIFAR: reductions at 1/3 and 2/3 depth."""
    result, C, size = [], channels, resolution
    for layer in range(layers):
        if layer in (layers // 3, 2 * layers // 3):
            C, size = 2 * C, size // 2
            result.append(("reduce", C, size))
        else:
            result.append(("normal", C, size))
    return result


def per_cell(kind: str, size, channels: int = 16, layers: int = 8) -> int:
    return sum(size(C) for k, C, _ in cells(channels, layers) if k == kind)


# -- forms ---------------------------------------------------------------------------------------------------------
def test_outside_genotypes_round_trip_in_one_normalised_form():
    for text, reason in zip(OUTSIDE, REASONS, strict=True):
        arch = DARTS.validate(text)
        assert DARTS.validate(arch) == arch and format_genotype(parse_genotype(arch)) == arch
        assert DARTS.in_space(arch) is False and DARTS.outside_reason(arch) == reason
        with pytest.raises(ValueError, match="outside the NAS-Bench-301 search space .*no code"):
            DARTS.index_of(arch)
        assert DARTS.canonical(DARTS.canonical(arch)) == DARTS.canonical(arch)
        assert not DARTS.in_space(DARTS.canonical(arch))
    # each node's two edges are ordered by input, then op: node 5 reads state 0 twice
    assert "('skip_connect', 0), ('sep_conv_5x5', 0)]" in DARTS.validate(SAME_INPUT)
    swapped = SAME_INPUT.replace("('skip_connect', 0), ('sep_conv_5x5', 0)", "('sep_conv_5x5', 0), ('skip_connect', 0)")
    assert swapped != SAME_INPUT and DARTS.validate(swapped) == DARTS.validate(SAME_INPUT)
    # reduce node 2 reads state 1 twice: (max_pool_3x3, skip_connect) in PRIMITIVES order
    assert "reduce=[('max_pool_3x3', 1), ('skip_connect', 1)," in DARTS.validate(SAME_INPUT)
    # NASLib's compact form holds same-input pairs, but has no 'none' op
    assert DARTS.validate(DARTS.compact(SAME_INPUT)) == DARTS.validate(SAME_INPUT)
    with pytest.raises(ValueError, match="compact form has no 'none' op"):
        DARTS.compact(NONE_EDGES)
    assert DARTS.in_space(DARTS.validate("DARTS_V2")) and DARTS.outside_reason("DARTS_V2") is None


def test_canonical_merges_node_renumberings_outside_the_space_too():
    # BOTH's normal nodes 2 and 3 both read states 0 and 1 only: swapping them is the same network
    normal = edit(V2_NORMAL, 5, ("none", 1))
    renumbered = normal[2:4] + normal[0:2] + [(op, {2: 3, 3: 2}.get(s, s)) for op, s in normal[4:]]
    other = genotype(renumbered, edit(V2_REDUCE, 7, ("skip_connect", 2)))
    assert DARTS.validate(other) != DARTS.validate(BOTH)
    assert DARTS.canonical(other) == DARTS.canonical(BOTH)


# -- networks and costs ----------------------------------------------------------------------------------------------
def test_parameter_counts_follow_the_ops_that_changed():
    dil3 = per_cell("normal", lambda C: dil_conv(C, 3))
    sep5 = per_cell("normal", lambda C: sep_conv(C, 5))
    strided_skip = per_cell("reduce", factorized_reduce)
    # max_pool and none have no parameters
    assert DARTS.params(NONE_EDGES) == V2_PARAMS - dil3 == 232_890
    assert DARTS.params(SAME_INPUT) == V2_PARAMS - dil3 + sep5 + strided_skip == 271_802
    assert DARTS.params(BOTH) == V2_PARAMS
    # the DARTS evaluation network (36 channels, 20 cells), from DARTS' own logged 3,349,342
    eval_dil3 = sum(dil_conv(C, 3) for k, C, _ in cells(36, 20) if k == "normal")
    assert DARTS.params(NONE_EDGES, channels=36, layers=20) == V2_EVAL_PARAMS - eval_dil3
    assert DARTS.params(BOTH, channels=36, layers=20) == V2_EVAL_PARAMS
    for arch in OUTSIDE:
        with torch.device("meta"):
            assert count_params(DARTS.build(arch)) == DARTS.params(arch)


def test_flops_of_a_none_edge_are_zero():
    # the removed dil_conv_3x3 (depthwise 3x3 + pointwise per output position) of each normal cell
    removed = sum((9 * C + C * C) * size * size for k, C, size in cells(16, 8) if k == "normal") / 1e6
    assert DARTS.flops(NONE_EDGES) == pytest.approx(V2_MFLOPS - removed, abs=1e-9)
    small = DartsSpace(channels=8, layers=5)
    for arch in OUTSIDE:
        network = small.build(arch, num_classes=100)
        for convention in ("nats-bench", "all-ops"):
            expected = count_flops(network, 32, convention=convention)
            assert small.flops(arch, 100, 32, convention) == pytest.approx(expected, rel=1e-12)
    zero = build_op("none", 8, 2)
    assert count_params(zero) == 0 and count_flops(zero, 16, channels=8, convention="all-ops") == 0


def test_networks_sum_same_input_pairs_and_zero_none_edges():
    torch.manual_seed(0)
    small = DartsSpace(channels=8, layers=5)
    network = small.build(SAME_INPUT).eval()
    cell = network.cells[0]  # a normal cell: node 5 = skip_connect(state 0) + sep_conv_5x5(state 0)
    x = network.stem(torch.randn(2, 3, 32, 32))
    with torch.no_grad():
        state0 = cell.preprocess0(x)
        expected = cell._ops[6](state0) + cell._ops[7](state0)
        assert torch.allclose(cell(x, x)[:, 3 * 8 :], expected)

    network = small.build(NONE_EDGES)
    reduce_cell = next(c for c in network.cells if c.reduction)
    zeros = [op for op in reduce_cell._ops if isinstance(op, Zero)]
    assert len(zeros) == 1 and zeros[0].stride == 2  # reduce node 4's 'none' from state 0
    out = zeros[0](torch.randn(2, 16, 16, 16))
    assert out.shape == (2, 16, 8, 8) and not out.any()
    assert network(torch.randn(3, 3, 32, 32)).shape == (3, 10)


def test_a_network_cut_off_by_none_edges_is_degenerate():
    all_none = genotype([("none", 0), ("none", 1)] * 4, V2_REDUCE)
    assert DARTS.is_degenerate(all_none) and not any(DARTS.is_degenerate(a) for a in OUTSIDE)
    network = DartsSpace(channels=8, layers=5).build(all_none).eval()
    with torch.no_grad():
        assert torch.equal(network(torch.randn(2, 3, 32, 32)), network(torch.randn(2, 3, 32, 32)))


# -- searches never propose them -------------------------------------------------------------------------------------
def any_genotype() -> st.SearchStrategy[str]:
    """Any genotype NetworkCIFAR builds: each edge one of the 8 PRIMITIVES on any earlier state."""
    edge = {node: st.tuples(st.sampled_from(SUPERNET_OPS), st.integers(0, node - 1)) for node in range(2, 6)}
    cell = st.tuples(*(edge[node] for node in range(2, 6) for _ in range(2))).map(list)
    return st.builds(genotype, cell, cell)


@settings(max_examples=15, deadline=None)
@given(text=any_genotype())
def test_every_genotype_round_trips_and_is_in_the_space_exactly_without_none_or_repeats(text):
    arch = DARTS.validate(text)
    assert DARTS.validate(arch) == arch
    edges = [edge for cell in parse_genotype(arch) for edge in cell]
    no_none = all(op != "none" for op, _ in edges)
    distinct_inputs = all(edges[k][1] != edges[k + 1][1] for k in range(0, len(edges), 2))
    inside = no_none and distinct_inputs
    assert DARTS.in_space(arch) is inside
    if inside:
        assert DARTS.arch_at(DARTS.index_of(arch)) == arch
    with torch.device("meta"):
        assert count_params(DARTS.build(arch)) == DARTS.params(arch)


@settings(max_examples=30, deadline=None)
@given(code=st.tuples(*(st.integers(0, len(o) - 1) for _, o in DARTS.choices)), seed=st.integers(0, 2**32 - 1))
def test_search_moves_stay_in_the_space(code, seed):
    rng = np.random.default_rng(seed)
    a, b = DARTS.format(code), DARTS.sample(rng)
    moved = [b, DARTS.mutate(a, rng), DARTS.crossover(a, b, rng)]
    assert all(DARTS.in_space(arch) and DARTS.arch_at(DARTS.index_of(arch)) == arch for arch in [a, *moved])
    assert all(DARTS.in_space(arch) for arch in DARTS.neighbours(a))


def test_moves_from_a_genotype_outside_the_space_are_refused():
    with pytest.raises(ValueError, match="no code"):
        DARTS.mutate(DARTS.validate(NONE_EDGES), np.random.default_rng(0))


@pytest.mark.parametrize("name", ["random", "rea", "tpe"])
def test_a_warm_start_outside_the_space_is_told_but_never_proposed(name):
    algo = get_algorithm(name, space="darts", seed=0)
    for k, arch in enumerate(OUTSIDE):
        algo.tell(arch, 100.0 + k)
    assert algo.n_told == 3 and algo.best == (DARTS.validate(BOTH), 102.0)
    for round_ in range(3):
        archs = algo.ask(6)
        assert len(archs) == 6 and all(DARTS.in_space(a) for a in archs)
        for arch in archs:
            algo.tell(arch, float(round_))


# -- through the CLI, the ground truth and the log ----------------------------------------------------------------
def _arch_file(path: Path) -> Path:
    path.write_text("# three genotypes outside the NB301 space and DARTS-V2\n" + "\n".join([*OUTSIDE, "DARTS_V2"]))
    return path


def _score_rows(out: Path) -> dict[str, dict]:
    return {r["arch"]: r for r in pq.read_table(out).to_pylist()}


def test_score_cli_scores_and_resumes_genotypes_outside_the_space(tmp_path, capsys):
    archs = _arch_file(tmp_path / "archs.txt")
    common = ["score", "--space", "darts", "--archs", str(archs), "--proxies", "params,meco", "--batch-size", "4"]
    fresh, resumed = tmp_path / "fresh.parquet", tmp_path / "resumed.parquet"
    assert main([*common, "--out", str(fresh)]) == 0
    assert main([*common, "--limit", "2", "--flush-rows", "1", "--out", str(resumed)]) == 0
    assert len(_score_rows(resumed)) == 2
    capsys.readouterr()
    assert main([*common, "--resume", "--out", str(resumed)]) == 0
    assert "wrote 2 architectures x 2 proxies to" in capsys.readouterr().out
    assert main([*common, "--resume", "--out", str(resumed)]) == 0
    assert "wrote 0 architectures" in capsys.readouterr().out

    rows = _score_rows(resumed)
    keep = ("index", "in_space", "params", "meco")
    assert {a: [r[k] for k in keep] for a, r in rows.items()} == {
        a: [r[k] for k in keep] for a, r in _score_rows(fresh).items()
    }
    v2 = DARTS.validate("DARTS_V2")
    assert set(rows) == {*map(DARTS.validate, OUTSIDE), v2}
    for arch, row in rows.items():
        inside = arch == v2
        assert row["in_space"] is inside and (row["index"] == DARTS.index_of(arch) if inside else row["index"] is None)
        assert row["params"] == DARTS.params(arch) and row["meco_error"] is None and np.isfinite(row["meco"])


def test_score_cli_samples_and_resumes_darts(tmp_path, capsys):
    common = ["score", "--space", "darts", "--sample", "3", "--seed", "5", "--proxies", "params"]
    out = tmp_path / "sample.parquet"
    assert main([*common, "--limit", "2", "--out", str(out)]) == 0
    assert main([*common, "--resume", "--out", str(out)]) == 0
    assert "wrote 1 architectures x 1 proxies" in capsys.readouterr().out
    rows = pq.read_table(out).to_pylist()
    assert len({r["arch"] for r in rows}) == 3 and all(r["in_space"] for r in rows)
    assert all(DARTS.arch_at(r["index"]) == r["arch"] and r["params"] == DARTS.params(r["arch"]) for r in rows)


def test_spaces_show_prints_the_flag(capsys):
    assert main(["spaces", "darts", "--show", NONE_EDGES]) == 0
    out = capsys.readouterr().out
    assert "index      none (outside the NAS-Bench-301 space: normal node 5 has a 'none' edge)\n" in out
    assert "in_space   no\n" in out
    assert "params     232,890" in out and "degenerate no" in out
    assert main(["spaces", "darts", "--show", "DARTS_V2"]) == 0
    out = capsys.readouterr().out
    assert f"index      {DARTS.index_of(DARTS.validate('DARTS_V2'))}\n" in out and "in_space   yes" in out


def test_a_benchmark_table_of_such_genotypes_opens_and_looks_up(tmp_path):
    path = tmp_path / "trained.csv"
    accuracies = dict(zip([*OUTSIDE, KNOWN_GENOTYPES["PDARTS"]], [91.5, 92.25, 93.0, 94.5], strict=True))
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["genotype", "cifar10_valid_acc_nb301"])
        writer.writerows(accuracies.items())
    truth = open_ground_truth(path, "darts")
    for arch, acc in accuracies.items():
        assert truth.lookup(DARTS.validate(arch), "cifar10", "valid") == acc
    assert truth.best("cifar10", "valid") == 94.5


def test_the_log_has_an_in_space_column_null_in_older_logs(tmp_path):
    assert log_schema(["meco"]).field("in_space").type == pa.bool_()
    row = {"search_id": "rea-s0", "stage": "proxy", "space": "darts", "index": None}
    with LogWriter(tmp_path, "new", ["meco"]) as writer:
        writer.append({**row, "arch": DARTS.validate(NONE_EDGES), "in_space": False})
    old = tmp_path / "run=old"
    old.mkdir()
    older = log_schema(["meco"]).remove(log_schema(["meco"]).get_field_index("in_space"))
    pq.write_table(
        pa.Table.from_pylist([{**row, "schema_version": 1, "run_id": "old", "arch": "x"}], older),
        old / "part-000000-0123abcd.parquet",
    )
    flags = {r["run"]: r["in_space"] for r in open_log(tmp_path).to_table().to_pylist()}
    assert flags == {"new": False, "old": None}


def test_predict_fits_and_evaluates_on_genotypes_outside_the_space(tmp_path, capsys):
    rng = np.random.default_rng(1)
    archs = []
    for k in range(12):  # sampled cells with node 5 of the normal cell given a 'none' edge or a repeated input
        normal = list(DARTS.genotype(DARTS.sample(rng)).normal)
        normal[7] = ("none", normal[7][1]) if k % 2 else (normal[7][0], normal[6][1])
        archs.append(genotype(normal, V2_REDUCE))
    assert not any(DARTS.in_space(a) for a in archs)
    (tmp_path / "archs.txt").write_text("\n".join(archs))
    scores, table, model = tmp_path / "s.parquet", tmp_path / "truth.csv", tmp_path / "model"
    argv = ["score", "--space", "darts", "--archs", str(tmp_path / "archs.txt"), "--proxies", "params,flops"]
    assert main([*argv, "--out", str(scores)]) == 0
    with open(table, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["genotype", "cifar10_valid_acc_nb301"])
        writer.writerows((a, 90 + DARTS.params(a) / 1e5) for a in archs)
    data = ["--scores", str(scores), "--benchmark", str(table), "--metric", "valid"]
    assert main(["predict", "fit", *data, "--train-size", "6", "--out", str(model)]) == 0
    assert "fitted rf on 6 archs" in capsys.readouterr().out
    assert main(["predict", "eval", str(model), *data, "--format", "json"]) == 0
    (table,) = json.loads(capsys.readouterr().out)["tables"]
    rows = {row[0]: dict(zip(table["columns"], row, strict=True)) for row in table["rows"]}
    assert rows["params"]["spearman"] == pytest.approx(1.0)  # the made-up accuracy grows with params
    assert rows["predicted_acc"]["spearman"] > 0.5
