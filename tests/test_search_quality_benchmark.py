"""benchmarks/search_quality.py in a tiny mode: the real pipeline, its figures read back from the log."""

from __future__ import annotations

import importlib.util
import json
import statistics
from pathlib import Path

import pyarrow.dataset as ds
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "search_quality.py"


@pytest.mark.slow
def test_search_quality_reports_the_returned_archs_test_accuracy(ray_session, tss_csv, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("search_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out, report = tmp_path / "runs", tmp_path / "quality.json"
    argv = [
        "--benchmark",
        str(tss_csv),
        "--algos",
        "random",
        "--seeds",
        "2",
        "--budget",
        "8",
        "--top-k",
        "3",
        "--workers",
        "1",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--json",
        str(report),
        "--objectives",
        "proxy,predictor",
        "--label-budget",
        "2",
        "--input",
        "noise",
    ]
    assert module.main(argv) == 0
    record, with_predictor = json.loads(report.read_text())
    assert set(record) == {
        "algorithm",
        "seeds",
        "test_acc_mean",
        "test_acc_std",
        "lookups_mean",
        "proxy_evals_mean",
        "wall_s_mean",
    }
    tests = [
        r["accuracy"]
        for r in ds.dataset(out / "proxy" / "random", format="parquet", partitioning="hive").to_table().to_pylist()
        if r["stage"] == "test"
    ]
    assert len(tests) == 2
    assert record["test_acc_mean"] == statistics.fmean(tests) and record["test_acc_std"] == statistics.stdev(tests)
    assert (record["algorithm"], record["seeds"], record["lookups_mean"], record["proxy_evals_mean"]) == (
        "random",
        2,
        3,
        8,
    )
    assert record["wall_s_mean"] > 0
    # the predictor spends the same lookups per search: 2 labels, then 1 validation of its top
    predictor_log = ds.dataset(out / "predictor" / "random", format="parquet", partitioning="hive")
    predictor_rows = predictor_log.to_table().to_pylist()
    stages = sorted(r["stage"] for r in predictor_rows if r["stage"] != "proxy")
    assert stages == ["label"] * 4 + ["test"] * 2 + ["validate"] * 2
    assert (with_predictor["algorithm"], with_predictor["lookups_mean"], with_predictor["proxy_evals_mean"]) == (
        "random+predictor",
        3,
        8,
    )
    printed = capsys.readouterr().out
    assert "94.36 ± 0.00" in printed and "noise input" in printed and f"{record['test_acc_mean']:.2f}" in printed
