"""GreenMachine: the formula language, evolution on cached statistics, ``zeronas proxy evolve`` and ``evolved:FILE``."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pyarrow.dataset as ds
import pytest
import torch

from zeronas.cli import build_parser, main
from zeronas.cli._proxy import run_evolve
from zeronas.errors import UnknownNameError, ZeronasError
from zeronas.evolve import StatsCache, StatsProtocol, sample_archs
from zeronas.evolve._search import evolve, fitness_subsets, rank_quality, split_cells
from zeronas.pipeline._objective import Objective
from zeronas.proxies import ArchScorer, get_proxy, resolve_proxy
from zeronas.proxies._formula import evaluate_formula, formula_in_words, parse_formula
from zeronas.proxies._layer_stats import LAYER_STATS, layer_statistics
from zeronas.spaces import get_space
from zeronas.testing import check_proxy

PLANTED = "sum(vmul(snip, eig_min))"
BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def _synthetic(n: int = 300, layers: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = np.arange(layers)[None, :] < rng.integers(4, layers + 1, n)[:, None]
    return rng.lognormal(size=(n, len(LAYER_STATS), layers)) * mask[:, None, :], mask


def test_formulas_are_vectorised_over_archs_and_reduce_only_real_layers():
    values, mask = _synthetic(5)
    expected = (values[:, LAYER_STATS.index("snip")] * values[:, LAYER_STATS.index("eig_min")] * mask).sum(axis=1)
    np.testing.assert_allclose(evaluate_formula(PLANTED, values, mask), expected)
    w = values[:, LAYER_STATS.index("w_l2")]
    maxima = np.array([w[k][mask[k]].max() for k in range(5)])
    np.testing.assert_allclose(
        evaluate_formula("max(vsub(w_l2, vscale(w_l2, 2.0)))", values, mask),
        -np.array([w[k][mask[k]].min() for k in range(5)]),
    )
    np.testing.assert_allclose(evaluate_formula("div(max(w_l2), 0.0)", values, mask), np.ones(5))  # protected
    assert np.all(evaluate_formula("log(max(w_l2))", values, mask) == np.log(maxima))
    assert formula_in_words(PLANTED) == "sum_layers((snip * eig_min))"
    with pytest.raises(ValueError, match="not a formula"):
        parse_formula("sum(nonsense)")


def test_evolution_recovers_a_planted_combination_of_two_statistics():
    values, mask = _synthetic()
    accuracy = evaluate_formula(PLANTED, values, mask)
    train, held = split_cells(len(accuracy), 0.5, seed=0)
    history = []
    result = evolve(
        values[train], mask[train], accuracy[train], population=60, generations=15, seed=1, progress=history.append
    )
    assert [row["generation"] for row in history] == list(range(16))
    assert all(b >= a for a, b in zip([r["best"] for r in history], [r["best"] for r in history[1:]]))  # elitism
    held_tau = rank_quality(evaluate_formula(result.formula, values[held], mask[held]), accuracy[held])["kendall_tau"]
    assert held_tau > 0.99, result.formula
    assert "snip" in result.formula and "eig_min" in result.formula
    # a single statistic alone is far from it: the evolution found the combination
    alone = rank_quality(evaluate_formula("sum(snip)", values[held], mask[held]), accuracy[held])["kendall_tau"]
    assert alone < 0.9


def test_fitness_subsets_are_random_and_stratified_over_accuracy_deciles():
    accuracy = np.arange(1000.0)
    subsets = fitness_subsets(accuracy, subsets=2, size=100, seed=0)
    assert len(subsets) == 4 and all(len(s) == 100 and len(set(s)) == 100 for s in subsets)
    for stratified in subsets[2:]:
        assert np.array_equal(np.bincount(accuracy[stratified].astype(int) // 100, minlength=10), [10] * 10)


def test_split_and_sample_are_seeded_and_a_smaller_sample_is_a_prefix():
    archs = [f"a{i}" for i in range(50)]
    assert sample_archs(archs, 10, 3) == sample_archs(archs, 30, 3)[:10]
    train, held = split_cells(40, 0.25, seed=2)
    assert len(held) == 10 and not set(train) & set(held) and len(train) + len(held) == 40
    with pytest.raises(ZeronasError, match="too few"):
        split_cells(12, 0.5, seed=0)


def test_layer_statistics_leave_the_network_clean():
    space = get_space("tss")
    scorer = ArchScorer(space="tss", proxies=["params"], seed=0, batch_size=4)
    model = scorer.build(space.sample(np.random.default_rng(0)))
    # weights unchanged (BatchNorm's running statistics move in any train-mode pass; the scorer restores them)
    before = {k: v.clone() for k, v in model.state_dict().items() if not k.endswith(BN_BUFFERS)}
    x, y = scorer.batches[0]
    stats = layer_statistics(model, x, y)
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert stats.shape == (len(LAYER_STATS), len(layers)) and np.isfinite(stats).all()
    assert all(p.grad is None for p in model.parameters())
    assert all((model.state_dict()[k] == v).all() for k, v in before.items())
    assert stats[LAYER_STATS.index("g_l2")].max() > 0  # the backward pass reached the weights


def _write(path, formula=PLANTED):
    path.write_text(json.dumps({"formula": formula}))
    return path


@pytest.mark.parametrize("space", ["tss", "sss"])
def test_an_evolved_file_passes_the_proxy_checks(tmp_path, space):
    name = f"evolved:{_write(tmp_path / 'f.json')}"
    failures = [c for c in check_proxy(name, spaces=(space,)) if not _passes(c)]
    assert not failures, failures


def _passes(check) -> bool:
    try:
        check()
    except AssertionError as err:
        print(err)
        return False
    return True


def test_evolved_names_resolve_to_absolute_paths_and_parse_as_objectives(tmp_path, monkeypatch):
    _write(tmp_path / "Best.json")
    monkeypatch.chdir(tmp_path)
    key = resolve_proxy("Evolved:Best.json")
    assert key == f"evolved:{tmp_path / 'Best.json'}"
    assert get_proxy("evolved:Best.json").name == key
    assert Objective.parse("evolved:Best.json").weights == {key: 1.0}
    assert Objective.parse("evolved:Best.json:0.5,meco").weights == {key: 0.5, "meco": 1.0}
    with pytest.raises(ZeronasError, match="bad weight"):
        Objective.parse("meco:heavy")
    with pytest.raises(UnknownNameError, match="needs a parameter"):
        resolve_proxy("evolved:")
    with pytest.raises(ZeronasError, match="does not exist"):
        get_proxy("evolved:missing.json")
    with pytest.raises(ZeronasError, match="not a formula"):
        get_proxy(f"evolved:{_write(tmp_path / 'bad.json', 'sum(bogus)')}")


def _table(tmp_path, space: str, n: int, column: str) -> tuple:
    """A synthetic ground-truth table (SSS has none offline): an arbitrary fixed accuracy per arch."""
    rng = np.random.default_rng(0)
    archs = list(dict.fromkeys(get_space(space).sample(rng) for _ in range(n * 2)))[:n]
    path = tmp_path / f"{space}.csv"
    path.write_text("arch," + column + "\n" + "".join(f'"{a}",{zlib.crc32(a.encode()) % 900 / 10}\n' for a in archs))
    return path, archs


@pytest.mark.parametrize(("space", "column"), [("tss", "cifar10_test_acc_200ep"), ("sss", "cifar10_test_acc_90ep")])
@pytest.mark.slow
def test_proxy_evolve_end_to_end_then_scores_with_the_result(tmp_path, capsys, space, column):
    table, archs = _table(tmp_path, space, 20, column)
    out = tmp_path / "evolved.json"
    common = ["proxy", "evolve", "--space", space, "--benchmark", str(table), "--sample", "20", "--input", "noise"]
    common += ["--batch-size", "4", "--baselines", "params", "--subset-size", "10", "--out", str(out)]
    assert main([*common, "--generations", "3", "--population", "12"]) == 0
    text = capsys.readouterr().out
    assert "generation 3/3: best τ" in text and "held-out (10 cells) evolved" in text
    record = json.loads(out.read_text())
    assert record["protocol"]["space"] == space and record["protocol"]["input_kind"] == "noise"
    assert record["protocol"]["batch_size"] == 4 and record["protocol"]["seed"] == 0
    assert [h["generation"] for h in record["history"]] == [0, 1, 2, 3]
    assert record["evolution"]["held_out_cells"] == 10 and record["evolution"]["evolution_cells"] == 10
    assert set(record["held_out"]) == {"evolved", "params"}
    cache = StatsCache.load(out.with_suffix(".stats.npz"))
    assert sorted(cache.archs) == sorted(archs) and cache.protocol.space == space
    # a rerun reuses the cache: nothing is measured again
    assert main([*common, "--generations", "1", "--population", "8"]) == 0
    assert "cells measured" not in capsys.readouterr().out
    # the result scores like any proxy, with the value its formula gives on the statistics
    record = json.loads(out.read_text())
    scorer = ArchScorer(space=space, proxies=[f"evolved:{out}"], seed=0, batch_size=4)
    score = scorer.score(archs[0])
    stats = cache.stats[cache.archs.index(archs[0])]
    expected = evaluate_formula(record["formula"], stats[None], np.ones((1, stats.shape[1]), bool))[0]
    assert score.values[f"evolved:{out}"] == pytest.approx(expected, rel=1e-6)


def test_proxy_evolve_refuses_a_cache_measured_another_way(tmp_path):
    StatsCache(StatsProtocol("tss", "cifar10", "real", "/x", 64, 0, LAYER_STATS)).save(tmp_path / "c.npz")
    table, _ = _table(tmp_path, "tss", 20, "cifar10_test_acc_200ep")
    args = ["proxy", "evolve", "--benchmark", str(table), "--sample", "20", "--input", "noise"]
    args += ["--cache", str(tmp_path / "c.npz"), "--out", str(tmp_path / "o.json")]
    with pytest.raises(ZeronasError, match="measured another way"):
        run_evolve(build_parser().parse_args(args))


def test_an_evolved_proxy_scores_through_the_ray_pool_in_a_search(ray_session, tmp_path):
    from zeronas.pipeline import ExperimentSpec, run_experiment

    name = f"evolved:{_write(tmp_path / 'f.json')}"
    out = tmp_path / "run"
    spec = ExperimentSpec(
        proxy=name, budget=4, top_k=1, batch_size=4, out=str(out), quiet=True, device="cpu", workers=1
    )
    run_experiment(spec)
    rows = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pylist()
    proxy = [r for r in rows if r["stage"] == "proxy"]
    assert len(proxy) == 4 and all(r["worker_id"] for r in proxy)  # scored by the pool's actors
    local = ArchScorer(space="tss", proxies=[name], seed=0, batch_size=4)
    for r in proxy:
        assert r["score"] == r[f"proxy_{name}"] == pytest.approx(local.score(r["arch"]).values[name], rel=1e-6)
