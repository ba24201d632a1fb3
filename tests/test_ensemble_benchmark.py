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
