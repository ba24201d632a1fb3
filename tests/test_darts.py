"""The DARTS CNN space: genotype forms, networks against the reference parameter counts, costs,
isomorphisms, the NAS-Bench-301 table and search moves. The conformance test covers the rest."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
import torch

from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.groundtruth import open_ground_truth
from zeronas.proxies import ArchScorer
from zeronas.search_algos import get_algorithm
from zeronas.spaces import KNOWN_GENOTYPES, DartsSpace, get_space
from zeronas.spaces._costs import count_flops, count_params
from zeronas.spaces._darts_genotype import DARTS_OPS, canonical_cell, count_cell_classes, parse_genotype
from zeronas.spaces._darts_network import drop_path

DARTS = get_space("darts")
DARTS_V2 = KNOWN_GENOTYPES["DARTS_V2"]
PDARTS = KNOWN_GENOTYPES["PDARTS"]


# -- forms ------------------------------------------------------------------------------------
def test_darts_range_and_naslib_forms_print_the_same_normalised_string():
    arch = DARTS.validate(DARTS_V2)
    with_range = DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)")
    compact = DARTS.compact(arch)
    assert DARTS.validate(with_range) == DARTS.validate(compact) == DARTS.validate("DARTS_V2") == arch
    # each node's two edges are ordered by input: DARTS-V2's node 4 reads (sep_conv 1, skip 0)
    assert "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('dil_conv_3x3', 2)]" in arch
    assert compact.startswith("[[(0, 3), (1, 3), (0, 3), (1, 3), (0, 2), (1, 3), (0, 2), (2, 5)], [(0, 0)")
    assert DARTS.parse(arch) == DARTS.parse(compact) and DARTS.arch_at(DARTS.index_of(arch)) == arch


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('conv_9x9', 2)"), "normal node 5: unknown op 'conv_9x9'"),
        # NetworkCIFAR builds these, but they have no code in the NAS-Bench-301 space
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('none', 2)"), "(normal node 5 has a 'none' edge), so it has"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "normal node 5: input 5 must be"),
        (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 0)"), "(normal node 5 reads state 0 twice), so"),
        (DARTS_V2.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[4, 5]"), "reduce_concat is [4, 5]"),
        (DARTS_V2.replace(", ('dil_conv_3x3', 2)]", "]"), "normal cell needs 8 (op, input) edges"),
        (DARTS_V2.replace("normal_concat=[2, 3, 4, 5], ", ""), "missing ['normal_concat']"),
        ("[[(0, 7)] * 8, []]", "not a literal"),
        ("[[(0, 1), (1, 0)], [(0, 0), (1, 0)]]", "normal cell needs 8"),
        (str([[(0, 7), (1, 0)] * 4, [(0, 0), (1, 0)] * 4]), "op index 7 is outside 0..6"),
        ("Genotype(normal=", "neither a DARTS Genotype"),
        ("__import__('os')", "got a call to __import__"),
        ("DARTS_V3", "nor one of DARTS_V2, PDARTS"),
    ],
)
def test_darts_bad_genotypes_name_the_bad_part(text, message):
    with pytest.raises(ValueError) as info:
        DARTS.parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_darts_index_is_the_mixed_radix_code():
    assert DARTS.size == 180**2 * 7**16 and len(DARTS.choices) == 22
    assert DARTS.index_of(DARTS.arch_at(0)) == 0 and DARTS.parse(DARTS.arch_at(0)) == (0,) * 22
    last = DARTS.arch_at(DARTS.size - 1)
    assert DARTS.parse(last) == tuple(len(options) - 1 for _, options in DARTS.choices)
    assert "('dil_conv_5x5', 3), ('dil_conv_5x5', 4)]" in last  # node 5's last input pair is (3, 4)


# -- networks and costs ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "proxy_size", "eval_size", "eval_with_aux"),
    # DARTS' own log ("param size = 3.349342MB"), chenxin061/pdarts issue #7; auxiliary head counted
    # only where stated (DARTS' count_parameters_in_MB leaves it out)
    [("DARTS_V2", 246_106, 3_349_342, 3_825_768), ("PDARTS", 292_026, 3_433_798, 3_910_224)],
)
def test_darts_parameter_counts_match_the_reference_code(name, proxy_size, eval_size, eval_with_aux):
    assert DARTS.params(name) == proxy_size
    assert DARTS.params(name, channels=36, layers=20) == eval_size
    assert DARTS.params(name, channels=36, layers=20, auxiliary=True) == eval_with_aux
    with torch.device("meta"):
        network = DARTS.build(name, channels=36, layers=20, auxiliary=True)
    assert count_params(network) == eval_with_aux
    assert count_params(network) - count_params(network.auxiliary_head) == eval_size


def test_darts_costs_per_edge_equal_whole_network_counts():
    rng = np.random.default_rng(3)
    small = DartsSpace(channels=8, layers=5)
    for arch in (PDARTS, small.sample(rng), small.sample(rng)):
        network = small.build(arch, num_classes=100)
        assert small.params(arch, 100) == count_params(network)
        for resolution, convention in itertools.product((32, 16), ("nats-bench", "all-ops")):
            expected = count_flops(network, resolution, convention=convention)
            assert small.flops(arch, 100, resolution, convention) == pytest.approx(expected, rel=1e-12)
    assert DARTS.flops("DARTS_V2") == pytest.approx(43.444746)


def test_darts_network_shapes_auxiliary_head_and_drop_path():
    torch.manual_seed(0)
    network = DartsSpace(channels=8, layers=5).build(PDARTS, num_classes=7, auxiliary=True, drop_path_prob=0.5)
    x = torch.randn(4, 3, 32, 32)
    network.eval()
    assert network.forward_with_aux(x)[1] is None
    assert torch.equal(network(x), network(x))  # no drop-path outside training
    assert network.forward_features(x).shape == (4, 4 * 4 * 8, 8, 8)
    network.train()
    logits, logits_aux = network.forward_with_aux(x)
    assert logits.shape == logits_aux.shape == (4, 7)
    kept = drop_path(torch.ones(4000, 1, 1, 1), 0.25)
    assert kept.unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    assert 0.2 < (kept == 0).float().mean().item() < 0.3


def test_darts_proxies_score_the_proxy_size_network():
    scorer = ArchScorer(space="darts", proxies=["meco", "nwot", "synflow", "params", "flops"], seed=0, batch_size=4)
    score = scorer.score(DARTS.validate(DARTS_V2))
    assert all(error is None for error in score.errors.values()), score.errors
    assert score.values["params"] == 246_106 and score.values["flops"] == pytest.approx(43.444746)
    assert all(np.isfinite(value) and value > 0 for value in score.values.values())


# -- isomorphisms -------------------------------------------------------------------------------
def test_darts_canonical_merges_node_renumberings():
    # PDARTS' normal cell with nodes 2 and 3 swapped (node 3 reads only states 0 and 1)
    cell = parse_genotype(PDARTS).normal
    swapped = (cell[2], cell[3], cell[0], cell[1], *[(op, {2: 3, 3: 2}.get(s, s)) for op, s in cell[4:]])
    text = PDARTS.replace(str(list(cell))[1:-1], str(list(swapped))[1:-1]).replace("range(2, 6)", "[2, 3, 4, 5]")
    pdarts = DARTS.validate(PDARTS)
    assert DARTS.validate(text) != pdarts
    assert DARTS.canonical(text) == DARTS.canonical(pdarts) == DARTS.canonical(DARTS.canonical(text))
    assert DARTS.params(text) == DARTS.params(pdarts)


def test_darts_class_count_matches_brute_force_with_two_ops():
    nodes = [itertools.combinations(range(node), 2) for node in range(2, 6)]
    wirings = [sum(pairs, ()) for pairs in itertools.product(*map(list, nodes))]
    assert len(wirings) == 180
    two_ops = DARTS_OPS[:2]
    cells = {
        canonical_cell(tuple(zip(ops, wiring, strict=True)))
        for wiring in wirings
        for ops in itertools.product(two_ops, repeat=8)
    }
    assert len(cells) == count_cell_classes(num_ops=2)
    assert count_cell_classes() == 382_128_166 and DARTS.num_unique() == 382_128_166**2


# -- ground truth ------------------------------------------------------------------------------
def test_darts_nb301_table_opens_as_benchmark(darts_csv):
    truth = open_ground_truth(darts_csv, "darts")
    assert truth.available() == ["cifar10_valid_acc_nb301"]
    values = truth.column("cifar10", "valid")
    assert len(values) == 725
    assert 91.2 < min(values.values()) < max(values.values()) == truth.best("cifar10", "valid") < 94.5
    with open(darts_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows[:50]:
        assert DARTS.validate(row["genotype"]) == DARTS.validate(row["naslib_compact"])
        # a lookup in the table's own (unnormalised) form finds the normalised row
        assert truth.lookup(row["genotype"], "cifar10", "valid") == pytest.approx(float(row["cifar10_valid_acc_nb301"]))
    with pytest.raises(ZeronasError, match="has no column cifar10_test_acc_nb301; it has: cifar10_valid_acc_nb301"):
        truth.lookup(rows[0]["genotype"], "cifar10")


# -- CLI and search ------------------------------------------------------------------------------
def test_darts_cli_lists_and_shows(capsys):
    assert main(["spaces"]) == 0
    assert "darts" in capsys.readouterr().out
    assert main(["spaces", "darts", "--show", "PDARTS"]) == 0
    out = capsys.readouterr().out
    assert "params     292,026" in out and DARTS.validate(PDARTS) in out
    assert main(["score", "--space", "darts", "--all", "--proxies", "params", "--out", "unused.parquet"]) == 2
    assert "use --sample N or --archs FILE" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["random", "rea"])
def test_darts_ask_tell(name):
    algo = get_algorithm(name, space="darts", seed=0)
    seen = []
    for round_ in range(4):
        for arch in algo.ask(5):
            assert DARTS.validate(arch) == arch
            seen.append(arch)
            algo.tell(arch, float(DARTS.params(arch)) + round_)
    assert len(set(seen)) == len(seen) == 20
