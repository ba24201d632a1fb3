"""RoBoT (BO over proxy weights), the diverse top-k, lookups counted once, and ``--scores-from``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from zeronas import __version__
from zeronas.errors import ZeronasError
from zeronas.pipeline import ExperimentSpec
from zeronas.pipeline._objective import Objective
from zeronas.pipeline._proposal import _as_candidates, select_returned
from zeronas.pipeline._results import EvaluatedArch, top_k
from zeronas.pipeline._spec import validate
from zeronas.search_algos import RoBoT, get_algorithm
from zeronas.spaces import get_space

VALID = "cifar10_valid_acc_12ep"


def _pool(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    space = get_space("tss")
    rng = np.random.default_rng(seed)
    archs = list(dict.fromkeys(space.sample(rng) for _ in range(3 * n)))[:n]
    return archs, rng.normal(size=(n, 3))


def test_robot_finds_the_best_arch_when_accuracy_is_a_known_combination_of_two_proxies():
    archs, x = _pool(400)
    # accuracy = 2 * a - b in percentile space: the weights (2, -1, 0) rank the best arch first, and no
    # single proxy does (the top-10 by a alone misses it)
    q = (np.argsort(np.argsort(x, axis=0), axis=0) + 0.5) / len(archs)
    accuracy = dict(zip(archs, 2 * q[:, 0] - q[:, 1], strict=True))
    pool = [(a, {"a": float(r[0]), "b": float(r[1]), "c": float(r[2])}) for a, r in zip(archs, x, strict=True)]
    best = max(accuracy, key=accuracy.get)
    by_a = [archs[i] for i in np.argsort(-x[:, 0])[:10]]
    assert best not in by_a
    calls: list[str] = []

    def lookup(arch: str) -> float:
        calls.append(arch)
        return accuracy[arch]

    found = 0
    for seed in range(5):
        calls.clear()
        spent = RoBoT("tss", seed=seed, min_weight=-1.0).spend_lookups(pool, lookup, 10)  # b weighs negatively
        assert len(spent) == 10 and len(calls) == 10 and len(set(calls)) == 10  # each lookup once, all counted
        assert [a for a, _, _ in spent] == calls
        assert all(acc == accuracy[a] for a, acc, _ in spent)
        found += max(spent, key=lambda s: s[1])[0] == best
    assert found >= 4, found


def test_robot_spends_no_more_lookups_than_the_pool_holds_and_survives_failed_lookups():
    archs, x = _pool(6)
    pool = [(a, {"a": float(r[0])}) for a, r in zip(archs, x, strict=True)]
    spent = RoBoT("tss", seed=0).spend_lookups(pool, lambda a: None, 10)
    assert sorted(a for a, _, _ in spent) == sorted(archs)
    with pytest.raises(ZeronasError, match="bo_fraction"):
        get_algorithm("robot", space="tss", bo_fraction=2.0)


def _evaluated(space, archs: list[str], scores: list[float]) -> list[EvaluatedArch]:
    return [
        EvaluatedArch(a, space.canonical(a), {"s": s}, s, i) for i, (a, s) in enumerate(zip(archs, scores), start=1)
    ]


def test_diverse_top_k_skips_near_copies_of_what_it_took():
    space = get_space("tss")
    best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    near = [space.format(c) for c in _one_edge_variants(space.parse(best))][:6]
    far = [space.sample(np.random.default_rng(s)) for s in range(20)]
    far = [a for a in far if _distance(space, a, best) >= 3][:4]
    evaluated = _evaluated(space, [best, *near, *far], [100.0] + [90.0 - i for i in range(len(near))] + [1.0] * 4)
    plain = top_k(evaluated, Objective({"s": 1.0}), 5)
    assert [e.arch for e, _ in plain][:5] == [best, *near[:4]]
    diverse = top_k(evaluated, Objective({"s": 1.0}), 5, min_distance=2, space=space)
    chosen = [e.arch for e, _ in diverse]
    assert chosen[0] == best and not set(chosen) & set(near)
    assert all(_distance(space, a, b) >= 2 for i, a in enumerate(chosen) for b in chosen[i + 1 :])
    assert top_k(evaluated, Objective({"s": 1.0}), 3, exclude={best})[0][0].arch == near[0]


def _one_edge_variants(code):
    for i in range(len(code)):
        for v in range(5):
            if v != code[i]:
                yield code[:i] + (v,) + code[i + 1 :]


def _distance(space, a: str, b: str) -> int:
    return sum(x != y for x, y in zip(space.parse(a), space.parse(b), strict=True))


def test_a_predictor_label_is_returnable_and_ranks_after_the_validated():
    validated = [{"arch": "v1", "accuracy": 80.0, "iteration": 1}, {"arch": "v2", "accuracy": 85.0, "iteration": 2}]
    labels = [{"arch": "l1", "accuracy": 90.0, "iteration": 1}, {"arch": "l2", "accuracy": 85.0, "iteration": 2}]
    chosen = select_returned(validated + _as_candidates(labels, len(validated)))
    assert chosen["arch"] == "l1" and chosen["iteration"] == 3
    tie = select_returned(validated + _as_candidates(labels[1:], len(validated)))
    assert tie["arch"] == "v2"  # a tie goes to the better rank: the validated one


# -- --scores-from -------------------------------------------------------------------------------


def write_score_table(path: Path, archs: list[str], values: dict[str, list[float]], **protocol) -> Path:
    """A ``zeronas score``-shaped table (one part file) with the given values and protocol metadata."""
    record = {
        "space": "tss", "dataset": "cifar10", "input_kind": "noise", "batch_size": 64, "seed_policy": "fixed",
        "seed": 0, "zeronas_version": __version__, "proxy_options": {}, **protocol,
    }  # fmt: skip
    space = get_space("tss")
    columns = {"arch": pa.array(archs), "index": pa.array([space.index_of(a) for a in archs], pa.int64())}
    for name, v in values.items():
        columns[name] = pa.array(v, pa.float64())
        columns[f"{name}_seconds"] = pa.array([0.01] * len(archs), pa.float64())
        columns[f"{name}_error"] = pa.array([None] * len(archs), pa.string())
    table = pa.table(columns).replace_schema_metadata({
        b"zeronas.protocol": json.dumps(record).encode(),
        b"zeronas.proxy_input": json.dumps({"input": record["input_kind"], "data": None}).encode(),
    })  # fmt: skip
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path / "part-000000-0123abcd.parquet")
    return path


@pytest.mark.parametrize(
    "protocol, spec, fragment",
    [
        ({"input_kind": "real"}, {}, "input_kind 'real' (this run: 'noise')"),
        ({"batch_size": 32}, {}, "batch_size 32"),
        ({"zeronas_version": "0.0.1"}, {}, "zeronas_version '0.0.1'"),
        ({"proxy_options": {"params": {"x": 1}}}, {}, "params options"),
        ({"seed": 3}, {"proxy_seed": 4}, "proxy seed 3 (this run: --proxy-seed 4)"),
        ({}, {"extra_proxies": ["synflow"]}, "no column for synflow"),
    ],
)
def test_scores_from_refuses_a_table_measured_otherwise(tmp_path, protocol, spec, fragment):
    archs = [get_space("tss").arch_at(i) for i in range(4)]
    table = write_score_table(tmp_path / "t.parquet", archs, {"params": [1.0] * 4, "flops": [1.0] * 4}, **protocol)
    with pytest.raises(ZeronasError, match="--scores-from") as err:
        validate(ExperimentSpec(proxy="params", scores_from=str(table), **{"extra_proxies": ["flops"], **spec}))
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_scores_from_pins_the_proxy_seed_to_the_tables(tmp_path):
    archs = [get_space("tss").arch_at(i) for i in range(4)]
    table = write_score_table(tmp_path / "t.parquet", archs, {"params": [1.0] * 4}, seed=7)
    spec, run = validate(ExperimentSpec(proxy="params", scores_from=str(table)))
    assert spec.proxy_seed == 7 and run.proxy_seed == 7 and run.proxy_protocol["scores_from"] == str(table)


def test_scores_from_cli_refusal_is_one_line_exit_2(tmp_path, capsys):
    from zeronas.cli import main

    archs = [get_space("tss").arch_at(i) for i in range(4)]
    table = write_score_table(tmp_path / "t.parquet", archs, {"params": [1.0] * 4}, batch_size=8)
    code = main(["search", "--proxy", "params", "--input", "noise", "--scores-from", str(table), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "batch_size 8" in err


@pytest.mark.slow
def test_robot_search_takes_cached_values_never_rescores_them_and_counts_every_lookup(ray_session, tss_csv, tmp_path):
    """Half the space in the table, with values no scorer would give (negative params): those are taken as they
    are (``cached``), the others are scored by the pool; robot spends exactly --top-k distinct lookups."""
    from zeronas.pipeline import run_experiment

    space = get_space("tss")
    archs = [space.arch_at(i) for i in range(0, 15625, 2)]  # every other TSS cell
    fake = {"params": [-float(i) for i in range(len(archs))], "flops": [float(i % 97) for i in range(len(archs))]}
    table = write_score_table(tmp_path / "t.parquet", archs, fake)
    spec = ExperimentSpec(
        workers=1, algos=["robot"], proxy="params", extra_proxies=["flops"], budget=40, top_k=6, benchmark=str(tss_csv),
        scores_from=str(table), out=str(tmp_path / "runs"), quiet=True, device="cpu",
    )  # fmt: skip
    result = run_experiment(spec)
    rows = ds.dataset(tmp_path / "runs", format="parquet", partitioning="hive").to_table().to_pylist()
    proxy = [r for r in rows if r["stage"] == "proxy"]
    cached = [r for r in proxy if r["cached"]]
    scored = [r for r in proxy if not r["cached"]]
    in_table = dict(zip(archs, zip(fake["params"], fake["flops"], strict=True), strict=True))
    assert len(proxy) == 40 and cached and scored
    assert all(r["arch"] in in_table for r in cached) and not any(r["arch"] in in_table for r in scored)
    assert all((r["proxy_params"], r["proxy_flops"]) == in_table[r["arch"]] for r in cached)
    assert all(r["worker_id"] is None for r in cached) and all(r["worker_id"] for r in scored)
    assert all(r["proxy_params"] > 0 for r in scored)
    assert result.pool_stats["scored"] == len(scored)  # the pool never saw a cached arch
    validated = [r for r in rows if r["stage"] == "validate"]
    assert len(validated) == 6 == len({r["arch"] for r in validated})
    assert {r["arch"] for r in validated} <= {r["arch"] for r in proxy}
    returned = result.returned["robot-s0"]
    assert returned["lookups"] == 6
    assert returned["validation_accuracy"] == max(r["accuracy"] for r in validated)
    run = json.loads((result.run_dir / "_run.json").read_text())["config"]["run"]
    assert run["proxy_protocol"]["seed"] == 0 and run["scores_from"] == str(table)


def test_robot_lookups_benchmark_compares_the_rules_on_a_table(tss_csv, tmp_path, capsys):
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "robot_lookups.py"
    spec = importlib.util.spec_from_file_location("robot_lookups", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    space = get_space("tss")
    archs = [space.arch_at(i) for i in range(0, 15625, 250)]
    table = write_score_table(tmp_path / "t.parquet", archs, {"a": [float(i) for i in range(len(archs))]})
    argv = ["--table", str(table), "--benchmark", str(tss_csv), "--proxies", "a", "--pool", "30", "--seeds", "2"]
    assert module.main([*argv, "--lookups", "5"]) == 0
    printed = capsys.readouterr().out
    assert "pool 30 drawn per seed, 2 seeds" in printed
    assert printed.count(" ± ") == 4 and "top-5 by a" in printed  # validation and test, per rule
    assert "valid 12ep %" in printed and "test 200ep %" in printed


def test_validate_on_reads_another_datasets_validation_column(tss_csv):
    spec, run = validate(ExperimentSpec(dataset="cifar100", validate_on="CIFAR-10", benchmark=str(tss_csv)))
    assert (spec.validate_on, run.validate_dataset, run.accuracy_source) == ("cifar10", "cifar10", VALID)
    assert run.test_source is None  # the shared table holds no CIFAR-100 test column: cannot be measured here
    assert validate(ExperimentSpec(benchmark=str(tss_csv)))[1].validate_dataset == "cifar10"


@pytest.mark.slow
def test_robot_and_the_diverse_top_k_run_through_the_pool_on_sss(ray_session, tmp_path):
    """A whole-SSS ground truth made up for the test (``write_sss_truth``: 12-epoch validation and 90-epoch test
    grow with the network's total width). Robot and REA with the diverse top-k both look up the table's
    values through their own trials, each arch once, and return the best of what they looked up; robot
    returns an arch with the best validation of all it evaluated."""
    from conftest import write_sss_truth

    from zeronas.pipeline import run_experiment

    space = get_space("sss")
    truth = tmp_path / "sss.parquet"
    accuracy = write_sss_truth(truth)
    spec = ExperimentSpec(
        workers=1, space="sss", algos=["robot", "rea"], proxy="flops", extra_proxies=["params"], budget=30, top_k=5,
        top_k_distance=2, benchmark=str(truth), out=str(tmp_path / "runs"), quiet=True, device="cpu",
    )  # fmt: skip
    result = run_experiment(spec)
    rows = ds.dataset(tmp_path / "runs", format="parquet", partitioning="hive").to_table().to_pylist()
    for sid in ("robot-s0", "rea-s0"):
        mine = [r for r in rows if r["search_id"] == sid]
        evaluated = {r["arch"] for r in mine if r["stage"] == "proxy"}
        validated = [r for r in mine if r["stage"] == "validate"]
        assert len(evaluated) == 30 and len(validated) == 5 == len({r["arch"] for r in validated}), sid
        assert {r["arch"] for r in validated} <= evaluated
        assert all(r["accuracy"] == pytest.approx(accuracy[r["arch"]]) for r in validated)
        returned = result.returned[sid]
        assert returned["lookups"] == 5 and returned["validation_accuracy"] == max(r["accuracy"] for r in validated)
        assert returned["test_accuracy"] == pytest.approx(accuracy[returned["arch"]] - 1)
        if sid == "rea-s0":  # the diverse top-k: no two looked-up archs within one channel choice of each other
            chosen = [r["arch"] for r in validated]
            assert all(_distance(space, a, b) >= 2 for i, a in enumerate(chosen) for b in chosen[i + 1 :])
        else:
            assert returned["validation_accuracy"] == pytest.approx(max(accuracy[a] for a in evaluated))
