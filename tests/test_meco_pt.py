"""Supernets in the TSS and DARTS spaces (op sets on edges, DARTS mixed edges; DARTS nodes reading any
earlier state) and the meco-pt search (MeCo paper, Algorithm 1, with the DARTS pruning step): in-process
ask/tell, tell order, resume by replay, and the pipeline."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow.dataset as ds
import pytest
import torch

from zeronas.errors import ZeronasError
from zeronas.search_algos import MecoPT, get_algorithm
from zeronas.spaces import TSS_OPS, DartsSpace, get_space
from zeronas.spaces._costs import count_flops, count_params
from zeronas.spaces._darts_genotype import CELL_KINDS, DARTS_OPS, SUPERNET_OPS
from zeronas.spaces._darts_supernet import EDGE_SLOTS
from zeronas.spaces._networks import MixedOp, edge_module
from zeronas.spaces._ops import OPS

TSS = get_space("tss")
PLAIN = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
TWO_OPS = "|skip_connect+nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


# -- TSS supernets ---------------------------------------------------------------------
def test_tss_op_sets_parse_to_one_spelling_and_plain_archs_are_unchanged():
    assert TSS.validate(TWO_OPS.replace("skip_connect+nor_conv_3x3", "nor_conv_3x3+skip_connect")) == TWO_OPS
    assert TSS.is_supernet(TWO_OPS) and not TSS.is_supernet(PLAIN)
    assert TSS.validate(PLAIN) == PLAIN and TSS.parse(PLAIN) == (3, 3, 4, 1, 3, 1)
    assert TSS.canonical(TWO_OPS) == TWO_OPS  # supernets have no isomorphism classes
    assert TSS.edge_op_sets(TWO_OPS)[0] == ("skip_connect", "nor_conv_3x3")
    assert TSS.with_edge_ops(TWO_OPS, 0, ["nor_conv_3x3"]) == PLAIN
    full = TSS.supernet()
    assert all(ops == TSS_OPS for ops in TSS.edge_op_sets(full))
    assert full.count("~") == 6 and not TSS.is_degenerate(full)
    with pytest.raises(ValueError, match="edge 1←0 .* holds 2 ops: a supernet"):
        TSS.parse(TWO_OPS)  # a supernet has no code ...
    with pytest.raises(ValueError):
        TSS.index_of(TWO_OPS)  # ... and no NATS-Bench index


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        (TWO_OPS.replace("nor_conv_3x3~0|+|nor", "conv~0|+|nor", 1), r"unknown op 'conv' on edge 1←0"),
        (TWO_OPS.replace("skip_connect+", "skip_connect+skip_connect+", 1), "'skip_connect' appears twice on edge 1←0"),
        (TWO_OPS.replace("skip_connect+", "+", 1), r"unknown op '' on edge 1←0"),
    ],
)
def test_tss_bad_op_sets_name_the_bad_part(arch, message):
    with pytest.raises(ValueError, match=message):
        TSS.validate(arch)


def test_mixed_edge_outputs_the_mean_of_its_ops():
    ops = ("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none")
    torch.manual_seed(0)
    mixed = edge_module(ops, 8, 8, 1)
    torch.manual_seed(0)  # the same draws, op by op
    singles = [OPS[op](8, 8, 1) for op in ops]
    x = torch.randn(2, 8, 6, 6)
    assert isinstance(mixed, MixedOp)
    expected = sum(op(x) for op in singles) / len(ops)
    assert torch.allclose(mixed(x), expected, atol=1e-6)
    assert not torch.allclose(mixed(x), singles[0](x))


def test_supernet_costs_count_every_op_it_runs():
    full = TSS.supernet()
    with torch.device("meta"):
        assert count_params(TSS.build(full)) == TSS.params(full)
        assert count_params(TSS.build(TWO_OPS)) == TSS.params(TWO_OPS)
    assert TSS.params(PLAIN) == TSS.params(TWO_OPS) < TSS.params(full)  # skip_connect has no weights
    assert TSS.flops(PLAIN) == TSS.flops(TWO_OPS) < TSS.flops(full)


# -- meco-pt through ask/tell --------------------------------------------------------------
WEIGHTS = np.random.default_rng(7).random((6, len(TSS_OPS)))


def additive_score(arch: str) -> float:
    """Each op on an edge adds its weight: removing op k from edge e lowers the score by w[e, k]."""
    return float(sum(WEIGHTS[e, TSS_OPS.index(op)] for e, ops in enumerate(TSS.edge_op_sets(arch)) for op in ops))


BEST_BY_EDGE = TSS.format(WEIGHTS.argmax(axis=1).tolist())


def drive(algo, score=additive_score, batch=7, shuffle: np.random.Generator | None = None) -> list[str]:
    """Ask until finished, telling each batch (shuffled if asked to); returns every proposal in order."""
    proposals: list[str] = []
    while not algo.finished:
        archs = algo.ask(batch)
        assert archs, "meco-pt returned nothing with no result outstanding"
        proposals += archs
        told = list(archs) if shuffle is None else [archs[i] for i in shuffle.permutation(len(archs))]
        for arch in told:
            algo.tell(arch, score(arch))
    assert algo.ask(batch) == []
    return proposals


def test_meco_pt_keeps_on_each_edge_the_op_whose_removal_lowers_the_score_most():
    algo = get_algorithm("meco-pt", space="tss", seed=0, candidates=3)
    proposals = drive(algo)
    assert len(proposals) == len(set(proposals))  # never asks an arch twice
    assert [arch for arch, _ in algo.candidates] == [BEST_BY_EDGE] * 3
    assert algo.best == (BEST_BY_EDGE, additive_score(BEST_BY_EDGE))
    supernets = [a for a in proposals if TSS.is_supernet(a)]
    assert len(proposals) - len(supernets) == 1  # the three candidates coincide: one plain arch asked
    assert len(supernets) < 3 * 6 * 5  # and they share the variants of the full supernet


def test_meco_pt_edge_order_is_seeded_and_matters_only_for_what_is_asked():
    def steps(seed):
        algo = get_algorithm("meco-pt", space="tss", seed=seed, candidates=1)
        return drive(algo)

    assert steps(1) == steps(1)
    assert steps(1) != steps(2)  # another edge order
    assert len(steps(1)) == 6 * 5 + 1  # every edge starts with 5 ops; then the plain candidate


def test_meco_pt_result_does_not_depend_on_tell_order():
    """Non-additive score: decisions must be keyed by arch, not by which result came last."""

    def score(arch):
        sets = TSS.edge_op_sets(arch)
        return additive_score(arch) + 0.3 * len(sets[0]) * len(sets[5]) - 0.2 * ("none" in sets[3])

    runs = []
    for k in range(3):
        algo = get_algorithm("meco-pt", space="tss", seed=4, candidates=4)
        proposals = drive(algo, score, batch=3 + 5 * k, shuffle=np.random.default_rng(k))
        runs.append((sorted(proposals), algo.candidates))
    assert runs[0] == runs[1] == runs[2]


def test_meco_pt_resumes_by_replay_with_identical_future_proposals():
    first = get_algorithm("meco-pt", space="tss", seed=3, candidates=2)
    logged = []
    for _ in range(4):  # part of the search, every ask answered
        for arch in first.ask(6):
            logged.append((arch, additive_score(arch)))
            first.tell(arch, logged[-1][1])
    resumed = get_algorithm("meco-pt", space="tss", seed=3, candidates=2)
    for i in np.random.default_rng(0).permutation(len(logged)):  # a log comes back in any order
        resumed.tell(*logged[int(i)])
    clone = pickle.loads(pickle.dumps(first))
    assert drive(resumed) == drive(first) == drive(clone)
    assert resumed.candidates == first.candidates


def test_meco_pt_waits_while_its_step_is_being_scored_and_skips_failed_variants():
    algo = get_algorithm("meco-pt", space="tss", seed=0, candidates=1)
    variants = algo.ask(100)
    assert len(variants) == 5 and all(TSS.is_supernet(v) for v in variants)
    assert algo.ask(100) == [] and not algo.finished  # nothing to propose until they are told
    edge = next(e for e, ops in enumerate(TSS.edge_op_sets(variants[0])) if len(ops) == 4)
    for k, arch in enumerate(variants):
        algo.tell(arch, None if k == 0 else float(k))  # removing op 0 'failed'; op 1's removal scores lowest
    nxt = algo.ask(100)
    assert len(nxt) == 5 and all(TSS.edge_op_sets(a)[edge] == (TSS_OPS[1],) for a in nxt)


def test_meco_pt_options_and_spaces_without_supernets():
    assert isinstance(get_algorithm("zero-cost-pt", space="tss"), MecoPT)
    with pytest.raises(ZeronasError, match="meco-pt cannot search the sss space: .* no supernets"):
        get_algorithm("meco-pt", space="sss")
    with pytest.raises(ZeronasError, match="candidates must be a positive integer"):
        get_algorithm("meco-pt", space="tss", candidates=0)


# -- the pipeline ------------------------------------------------------------------------------
def csv_accuracy(path, arch: str) -> float:
    table = ds.dataset(path, format="csv").to_table(filter=ds.field("arch") == arch)
    return table.column("cifar10_test_acc_200ep")[0].as_py()


def test_meco_pt_search_logs_marked_supernets_and_validates_only_its_candidate(ray_session, tss_csv, tmp_path):
    """``params`` as the proxy (a cost model: cheap, and its answer is known): removing the op with the most
    parameters lowers it most, so meco-pt keeps nor_conv_3x3 on every edge."""
    from zeronas.analysis import analyze
    from zeronas.pipeline import ExperimentSpec, run_experiment

    spec = ExperimentSpec(
        algos=["meco-pt"],
        proxy="params",
        algo_options={"candidates": 1},
        budget=100,
        top_k=3,
        benchmark=str(tss_csv),
        out=str(tmp_path),
        quiet=True,
        workers=1,
        device="cpu",
    )
    result = run_experiment(spec)
    rows = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table().to_pylist()
    proxy = [r for r in rows if r["stage"] == "proxy"]
    assert len(proxy) == 6 * 5 + 1  # the search finished before its budget
    assert all(r["supernet"] == TSS.is_supernet(r["arch"]) for r in proxy)
    assert all(r["index"] is None and r["canonical"] == r["arch"] for r in proxy if r["supernet"])
    all_conv = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    assert [r["arch"] for r in proxy if not r["supernet"]] == [all_conv]
    validated = [r for r in rows if r["stage"] == "validate"]
    assert [r["arch"] for r in validated] == [all_conv] == [r["arch"] for r in result.top["meco-pt-s0"]]

    report = analyze([tmp_path], benchmark=tss_csv, space="tss")
    assert any("30 supernet evaluation(s)" in note for note in report.notes)
    budget = next(t for t in report.tables if t.title == "Search budget")
    assert budget.column("evals") == [31] and budget.column("proposed") == [31]  # supernets count in the budget
    anytime = next(t for t in report.tables if t.title.startswith("Anytime oracle"))
    assert max(anytime.column("evaluations")) == 31
    assert anytime.column("accuracy")[-1] == pytest.approx(csv_accuracy(tss_csv, all_conv))


# -- DARTS supernets -----------------------------------------------------------------------------
DARTS = get_space("darts")
SMALL = DartsSpace(channels=8, layers=5)
EDGE = "('none+skip_connect+sep_conv_3x3', 0), ('sep_conv_5x5', 1)"
CELL = (
    f"[[{EDGE}], [('max_pool_3x3', 0), ('skip_connect', 1), ('dil_conv_5x5', 2)], "
    "[('avg_pool_3x3', 1), ('dil_conv_3x3', 2)], [('sep_conv_3x3', 0), ('sep_conv_3x3', 4)]]"
)
SUPER = f"Supernet(normal={CELL}, reduce={CELL})"


def test_darts_supernet_form_has_one_spelling_and_plain_genotypes_keep_theirs():
    assert DARTS.validate(SUPER) == SUPER and DARTS.is_supernet(SUPER)
    shuffled = SUPER.replace(
        "('none+skip_connect+sep_conv_3x3', 0), ('sep_conv_5x5', 1)",
        "('sep_conv_5x5', 1), ('sep_conv_3x3+none+skip_connect', 0)",
    )
    assert shuffled != SUPER and DARTS.validate(shuffled) == SUPER
    assert DARTS.canonical(SUPER) == SUPER and DARTS.validate(DARTS.supernet()) == DARTS.supernet()
    with pytest.raises(ValueError, match="a supernet .* which has no code"):
        DARTS.index_of(SUPER)
    plain = DARTS.validate("DARTS_V2")
    assert plain.startswith("Genotype(normal=[") and not DARTS.is_supernet(plain)
    # a supernet of two one-op inputs per node is that genotype, written as one
    as_supernet = (
        "Supernet("
        + ", ".join(
            f"{kind}=" + str([list(cell[k : k + 2]) for k in range(0, 8, 2)])
            for kind, cell in zip(CELL_KINDS, DARTS.genotype(plain))
        )
        + ")"
    )
    assert DARTS.validate(as_supernet) == plain and not DARTS.is_supernet(as_supernet)
    sets = DARTS.edge_op_sets(plain)
    assert len(sets) == len(EDGE_SLOTS) == 28 and sum(map(len, sets)) == 16
    full = DARTS.supernet()
    assert all(ops == SUPERNET_OPS for ops in DARTS.edge_op_sets(full))
    assert DARTS.with_edge_ops(SUPER, 0, ["sep_conv_3x3"]).startswith("Supernet(normal=[[('sep_conv_3x3', 0)")


def test_spaces_cli_shows_supernets(capsys):
    from zeronas.cli import main

    assert main(["spaces", "darts", "--show", SUPER]) == 0
    shown = capsys.readouterr().out
    assert "index      none (a supernet)" in shown and f"params     {DARTS.params(SUPER):,} " in shown
    assert main(["spaces", "tss", "--show", TWO_OPS]) == 0
    assert "index      none (a supernet)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SUPER.replace("none+skip", "nothing+skip", 1), "normal node 2, the edge from state 0: unknown op 'nothing'"),
        (SUPER.replace("none+skip", "none+none+skip", 1), "normal node 2, the edge from state 0: 'none' appears twice"),
        (SUPER.replace("('sep_conv_3x3', 4)", "('sep_conv_3x3', 5)", 1), "normal node 5: input 5 must be .* 0..4"),
        (SUPER.replace("('dil_conv_5x5', 2)", "('dil_conv_5x5', 1)", 1), "normal node 3: two edges read state 1"),
        (SUPER.replace(f"[[{EDGE}],", "[[],", 1), "normal node 2 has no incoming edge"),
        (SUPER.replace(f"[[{EDGE}], ", "[", 1), "the normal cell needs 4 nodes"),
        (SUPER.replace("reduce=", "reduction=", 1), "Supernet fields are normal= and reduce="),
    ],
)
def test_darts_bad_supernets_name_the_bad_part(text, message):
    with pytest.raises(ValueError, match=message):
        DARTS.validate(text)


def test_darts_supernet_edge_removal_and_its_errors():
    node5 = [e for e, (kind, node, _) in enumerate(EDGE_SLOTS) if (kind, node) == ("normal", 5)]
    removed = DARTS.with_edge_ops(SUPER, node5[4], [])
    assert DARTS.edge_op_sets(removed)[node5[4]] == () and DARTS.edge_op_sets(removed)[node5[0]] == ("sep_conv_3x3",)
    with pytest.raises(ValueError, match="leaves normal node 5 without an input"):
        DARTS.with_edge_ops(removed, node5[0], [])
    with pytest.raises(ValueError, match="edge 28 is outside 0..27"):
        DARTS.with_edge_ops(SUPER, 28, ["none"])


def test_darts_supernet_network_is_the_mean_of_search_ops_and_its_costs_are_exact():
    torch.manual_seed(0)
    for arch in (SMALL.supernet(), SUPER):
        network = SMALL.build(arch)
        assert network(torch.randn(2, 3, 32, 32)).shape == (2, 10)
        assert count_params(network) == SMALL.params(arch)
        assert count_flops(network, 32) == pytest.approx(SMALL.flops(arch), rel=1e-9)
    cell = SMALL.build(SMALL.supernet()).cells[0]
    assert len(cell._ops) == 14 and all(len(edge._ops) == 8 for edge in cell._ops)  # 14 edges of 8 ops
    pool = cell._ops[0]._ops[SUPERNET_OPS.index("max_pool_3x3")]
    assert isinstance(pool[1], torch.nn.BatchNorm2d) and not pool[1].affine  # as DARTS' search network
    assert SMALL.params(SMALL.supernet()) > SMALL.params(SUPER) > SMALL.params("DARTS_V2")


# -- meco-pt on DARTS ----------------------------------------------------------------------------
DARTS_WEIGHTS = np.random.default_rng(11).random((len(EDGE_SLOTS), len(SUPERNET_OPS)))


def darts_additive_score(arch: str) -> float:
    """Each op on an edge adds its weight: removing op k lowers the score by w[e, k], removing an edge by
    the weights of its ops."""
    sets = DARTS.edge_op_sets(arch)
    return float(sum(DARTS_WEIGHTS[e, SUPERNET_OPS.index(op)] for e, ops in enumerate(sets) for op in ops))


def darts_best_by_edge() -> str:
    """Per edge the heaviest op but ``none``; per node the two inputs whose kept op is heaviest."""
    best = {}
    for e, (kind, node, source) in enumerate(EDGE_SLOTS):
        op = max(DARTS_OPS, key=lambda o: DARTS_WEIGHTS[e, SUPERNET_OPS.index(o)])
        best.setdefault((kind, node), []).append((DARTS_WEIGHTS[e, SUPERNET_OPS.index(op)], op, source))
    cells = {kind: [] for kind in CELL_KINDS}
    for (kind, _), edges in best.items():
        cells[kind] += [(op, source) for _, op, source in sorted(sorted(edges, reverse=True)[:2], key=lambda x: x[2])]
    return DARTS.validate(
        f"Genotype(normal={cells['normal']}, normal_concat=[2, 3, 4, 5], "
        f"reduce={cells['reduce']}, reduce_concat=[2, 3, 4, 5])"
    )


def test_meco_pt_on_darts_selects_ops_then_prunes_to_two_inputs_per_node():
    algo = get_algorithm("meco-pt", space="darts", seed=0, candidates=1)
    proposals = drive(algo, darts_additive_score, batch=8)
    # 28 edges x 7 removals (`none` is never kept, so never removed alone), 3 + 4 + 5 edge removals
    # per cell, then the plain candidate
    assert len(proposals) == len(set(proposals)) == 28 * 7 + 2 * 12 + 1
    assert all(DARTS.is_supernet(a) for a in proposals[:-1])
    ((arch, score),) = algo.candidates
    assert arch == proposals[-1] == darts_best_by_edge() and algo.best == (arch, score)
    assert all(len(node) == 2 for cell in DARTS.genotype(arch) for node in zip(cell[::2], cell[1::2]))
    first_edge = proposals[:7]
    assert all(sum(map(len, DARTS.edge_op_sets(a))) == 28 * 8 - 1 for a in first_edge)


def test_meco_pt_on_darts_is_seeded_and_resumes_by_replay():
    def run(seed, candidates=2):
        algo = get_algorithm("meco-pt", space="darts", seed=seed, candidates=candidates)
        return algo, drive(algo, darts_additive_score, batch=8)

    (a, first), (b, again), (c, other) = run(5), run(5), run(6)
    assert first == again and a.candidates == b.candidates
    assert first != other  # another edge and node order (the answer of an additive score is the same)
    assert c.best == a.best == (darts_best_by_edge(), darts_additive_score(darts_best_by_edge()))

    resumed = get_algorithm("meco-pt", space="darts", seed=5, candidates=2)
    replayed = first[: len(first) // 2]
    for i in np.random.default_rng(0).permutation(len(replayed)):  # a log comes back in any order
        resumed.tell(replayed[int(i)], darts_additive_score(replayed[int(i)]))
    assert sorted(replayed + drive(resumed, darts_additive_score, batch=8)) == sorted(first)
    assert resumed.candidates == a.candidates
