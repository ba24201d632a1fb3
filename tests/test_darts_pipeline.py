"""The DARTS space through the whole pipeline: searches on the scorer pool, validation against
NAS-Bench-301, resume, analysis, and a tiny real DARTS training run."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.pipeline import ExperimentSpec, run_experiment, validate
from zeronas.spaces import get_space

ALGOS = ["random", "rea", "tpe", "nsga2", "robot"]


def log_rows(out: Path) -> list[dict]:
    return ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pylist()


def nb301_truth(path: Path) -> dict[str, float]:
    space = get_space("darts")
    with open(path) as f:
        return {space.validate(r["genotype"]): float(r["cifar10_valid_acc_nb301"]) for r in csv.DictReader(f)}


def test_darts_validates_on_the_nb301_validation_column_by_default(darts_csv):
    spec, run = validate(ExperimentSpec(space="darts", benchmark=str(darts_csv), budget=4))
    assert (spec.metric, run.epochs, run.accuracy_source) == ("valid", "nb301", "cifar10_valid_acc_nb301")
    with pytest.raises(ZeronasError, match="has no column cifar10_test_acc_nb301"):
        validate(ExperimentSpec(space="darts", benchmark=str(darts_csv), metric="test", select_on_test=True, budget=4))


@pytest.mark.parametrize(
    ("space", "channels", "layers", "fragment"),
    [("tss", 8, None, "the tss space has none"), ("darts", 7, 5, "must be even"), ("darts", 8, 2, "--train-layers")],
)
def test_bad_training_network_size_is_rejected(space, channels, layers, fragment, fake_cifar):
    spec = ExperimentSpec(
        space=space, budget=4, train_epochs=1, data=str(fake_cifar), train_channels=channels, train_layers=layers
    )
    with pytest.raises(ZeronasError, match=fragment):
        validate(spec)


@pytest.mark.slow
def test_darts_searches_log_genotypes_costs_and_truth_then_resume_and_analyze(ray_session, darts_csv, tmp_path, capsys):
    space = get_space("darts")
    spec = ExperimentSpec(
        space="darts",
        algos=ALGOS,
        seeds=[0],
        proxy="params",
        budget=5,
        top_k=2,
        top_k_distance=2,
        benchmark=str(darts_csv),
        out=str(tmp_path),
        quiet=True,
        workers=2,
        device="cpu",
    )
    result = run_experiment(spec)

    rows = log_rows(tmp_path)
    truth = nb301_truth(darts_csv)
    for algo in ALGOS:
        mine = [r for r in rows if r["search_id"] == f"{algo}-s0"]
        proxy = [r for r in mine if r["stage"] == "proxy"]
        assert len(proxy) == 5 and len({r["arch"] for r in proxy}) == 5, algo
        for r in proxy:
            assert r["arch"] == space.validate(r["arch"]) and r["arch"].startswith("Genotype(normal=[")
            assert r["canonical"] == space.canonical(r["arch"])
            assert r["index"] == space.index_of(r["arch"]) and space.arch_at(r["index"]) == r["arch"]
            assert r["in_space"] is True  # searches propose only NAS-Bench-301 cells
            assert r["params"] == space.params(r["arch"])
            assert r["flops"] == pytest.approx(space.flops(r["arch"]))
        validated = [r for r in mine if r["stage"] == "validate"]
        assert len(validated) == 2 and len({r["arch"] for r in validated}) == 2
        if algo != "robot":  # the diverse top-k on DARTS' encoding (robot spends its lookups by its own rule)
            a, b = (space.parse(r["arch"]) for r in validated)
            assert sum(x != y for x, y in zip(a, b, strict=True)) >= 2
        for r in validated:
            assert r["accuracy_source"] == "cifar10_valid_acc_nb301"
            assert r["accuracy"] == truth.get(r["arch"])
            assert (r["error"] == "not in the benchmark") == (r["accuracy"] is None)
    assert set(result.top) == {f"{a}-s0" for a in ALGOS}

    again = run_experiment(spec, resume=result.run_id)
    assert again.run_id == result.run_id and again.pool_stats == {}  # every search had returned: no pool started
    assert sorted((r["search_id"], r["stage"], r["arch"]) for r in log_rows(tmp_path)) == sorted(
        (r["search_id"], r["stage"], r["arch"]) for r in rows
    )

    capsys.readouterr()
    assert main(["analyze", str(tmp_path), "--benchmark", str(darts_csv)]) == 0
    report = capsys.readouterr().out
    assert all(f"{a}-s0" in report for a in ALGOS)
    assert "cifar10_valid_acc_nb301" in report


@pytest.mark.slow
def test_tiny_darts_training_run_end_to_end(ray_session, darts_csv, fake_cifar, tmp_path, capsys):
    out = tmp_path / "runs"
    argv = [
        "search",
        "--space",
        "darts",
        "--algo",
        "rea",
        "--proxy",
        "params",
        "--budget",
        "6",
        "--top-k",
        "2",
        "--train-epochs",
        "1",
        "--train-top-k",
        "1",
        "--train-channels",
        "8",
        "--train-layers",
        "5",
        "--train-samples",
        "64",
        "--data",
        str(fake_cifar),
        "--benchmark",
        str(darts_csv),
        "--out",
        str(out),
        "--quiet",
        "--device",
        "cpu",
        "--workers",
        "1",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    rows = log_rows(out)
    assert len([r for r in rows if r["stage"] == "proxy"]) == 6
    validated = sorted((r for r in rows if r["stage"] == "validate"), key=lambda r: r["iteration"])
    trained = [r for r in rows if r["stage"] == "train"]
    assert [r["arch"] for r in trained] == [validated[0]["arch"]]
    assert all(r["accuracy_source"] == "cifar10_holdout_acc_trained" and r["epochs"] == 1 for r in trained)
    assert all(0 <= r["accuracy"] <= 100 for r in trained)
    (tested,) = [r for r in rows if r["stage"] == "train_test"]  # the trained genotype, tested once
    assert tested["arch"] == trained[0]["arch"] and tested["error"] is None and 0 <= tested["accuracy"] <= 100
    assert "trained by rea-s0 (stage 3)" in printed and "evaluated once" in printed
    found = sum(r["accuracy"] is not None for r in validated)
    if found < 2:
        assert f"ground truth for {found} of 2 archs; the others are not in the benchmark" in printed
    assert main(["analyze", str(out)]) == 0


@pytest.mark.slow
def test_darts_meco_pt_search_end_to_end(ray_session, darts_csv, tmp_path):
    """``zeronas search --algo meco-pt`` on DARTS with ``params`` as the proxy (a cost model: cheap, and its
    answer is known): removing sep_conv_5x5, the op with the most parameters, lowers it most on every edge;
    every input edge then weighs the same, so each node keeps its first two (states 0 and 1)."""
    space = get_space("darts")
    out = tmp_path / "runs"
    argv = ["search", "--space", "darts", "--algo", "meco-pt", "--algo-option", "candidates=1", "--proxy", "params"]
    argv += ["--budget", "1000", "--top-k", "2", "--benchmark", str(darts_csv), "--out", str(out), "--quiet"]
    assert main([*argv, "--device", "cpu", "--workers", "1"]) == 0
    rows = log_rows(out)
    proxy = sorted((r for r in rows if r["stage"] == "proxy"), key=lambda r: r["iteration"])
    assert len(proxy) == len({r["arch"] for r in proxy}) == 28 * 7 + 2 * 12 + 1  # the search finished by itself
    assert all(r["supernet"] == space.is_supernet(r["arch"]) for r in proxy)
    assert all(r["index"] is None and r["params"] == r["proxy_params"] for r in proxy if r["supernet"])
    assert all(r["in_space"] is not r["supernet"] for r in proxy)
    cell = [("sep_conv_5x5", 0), ("sep_conv_5x5", 1)] * 4
    answer = space.validate(
        f"Genotype(normal={cell}, normal_concat=[2, 3, 4, 5], reduce={cell}, reduce_concat=[2, 3, 4, 5])"
    )
    assert [r["arch"] for r in proxy if not r["supernet"]] == [proxy[-1]["arch"]] == [answer]
    assert [r["arch"] for r in rows if r["stage"] == "validate"] == [answer]  # supernets are never validated
    assert main(["analyze", str(out)]) == 0
