"""benchmarks/ensemble.py chooses its feature set on a validation split of the labelled cells only."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

from zeronas.predictors import ProxyProtocol
from zeronas.spaces import get_space

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ensemble.py"


def _script():
    spec = importlib.util.spec_from_file_location("ensemble_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_selected_row_is_chosen_on_validation_and_reports_sample_std():
    ensemble = _script()
    rng = np.random.default_rng(0)
    archs = list(dict.fromkeys(get_space("tss").sample(rng) for _ in range(200)))[:150]
    acc = rng.normal(size=len(archs))
    rows = [{"signal": a + 0.1 * rng.normal(), "noise": rng.normal()} for a in acc]
    args = argparse.Namespace(repeats=3, learner="gbt")
    protocol = ProxyProtocol("tss", "cifar10", "real", 64)
    sets = {"noise": ["noise"], "signal": ["signal"]}
    result = ensemble.split_scores(args, sets, archs, rows, acc, 100, protocol)
    selected = result[ensemble.SELECTED]
    assert selected["chosen"] == ["signal"] * 3
    assert selected["kendall_tau"] == result["signal"]["kendall_tau"] > 0.6 > result["noise"]["kendall_tau"]
    assert selected["n_test"] == 50 and selected["repeats"] == 3
    records = ensemble.evaluate(args, archs, rows, acc, ["signal", "noise"], "proxies", protocol)
    assert {r["input"] for r in records} == {"real"}
    assert {"dataset", "train_size", "features", "kendall_tau", "spearman"} <= set(records[0])


def test_std_is_the_sample_std():
    ensemble = _script()
    out = ensemble.summary(
        argparse.Namespace(repeats=3, learner="rf"), {"tau": [1, 2, 3], "rho": [1, 1, 1], "val": [0]}, 5
    )
    assert out["kendall_tau_std"] == 1.0  # ddof=1 (the population std would be 0.816)


def test_the_labels_curve_never_fits_or_chooses_on_its_held_out_pool(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from zeronas.predictors import score_file_metadata

    ensemble = _script()
    space = get_space("tss")
    order = ensemble.sample_indices(space.size)[:160]
    archs = [space.arch_at(int(i)) for i in order]
    rng = np.random.default_rng(0)
    acc = rng.normal(size=len(archs))

    def write(name: str, seed: int, columns: dict) -> Path:
        table = pa.table({"arch": archs[::-1], **{k: v[::-1] for k, v in columns.items()}})  # order must not matter
        protocol = ProxyProtocol("tss", "cifar10", "real", 64, seed=seed)
        pq.write_table(table.replace_schema_metadata(score_file_metadata(protocol)), tmp_path / name)
        return tmp_path / name

    table = write("t.parquet", 0, {"signal": acc + rng.normal(size=160), "noise": rng.normal(size=160)})
    batch = write("b.parquet", 0, {"batch": acc + 0.3 * rng.normal(size=160)})
    seed1 = write("s1.parquet", 1, {"signal": acc + rng.normal(size=160), "noise": rng.normal(size=160)})
    truth = tmp_path / "truth.csv"
    pacsv.write_csv(pa.table({"arch": archs, "cifar10_test_acc_200ep": acc}), truth)
    fitted = []
    real_fit = ensemble.fit

    def spying_fit(args, protocol, features, archs_, rows, acc_, train, seed, learner=None):
        fitted.append({archs_[i] for i in train})
        return real_fit(args, protocol, features, archs_, rows, acc_, train, seed, learner)

    monkeypatch.setattr(ensemble, "fit", spying_fit)
    args = argparse.Namespace(
        scores=[table, batch], seed_scores=[seed1], truth=truth, held_out=60, labels="40,100,200", repeats=1,
        learners="rf", learner="rf", importance=0,
    )  # fmt: skip
    records = ensemble.label_curve(args)
    assert {r["train_size"] for r in records} == {40, 100}  # 200 > the 100-cell label pool: skipped
    held = set(archs[:60])  # the first 60 cells of the permutation
    assert fitted and all(not (cells & held) for cells in fitted)
    rows = {(r["train_size"], r["features"]): r for r in records}
    assert set(rows) >= {(100, "proxies"), (100, "proxies+paths+batch"), (100, "all+inits")}
    assert all(r["n_test"] == 60 for r in records)
    for size in (40, 100):
        chosen = rows[(size, ensemble.SELECTED)]
        best = max(
            (r for r in records if r["train_size"] == size and r is not chosen), key=lambda r: r["validation_tau"]
        )
        assert chosen["chosen"] == [f"{best['features']}/rf"] and chosen["kendall_tau"] == best["kendall_tau"]
    assert rows[(100, "proxies+paths+batch")]["kendall_tau"] > rows[(100, "proxies")]["kendall_tau"]
