"""Ground truth: table backend (shared CSV), NATS-Bench directory backend, export, CLI.

The NATS-Bench directories are built here in the official on-disk fast-mode format with
``nats_bench``'s own ``ArchResults``/``ResultsCount`` classes and ``pickle_save``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from nats_bench import create
from nats_bench.api_utils import ArchResults, ResultsCount, pickle_save

from zeronas.cli import main as cli_main
from zeronas.errors import ZeronasError
from zeronas.groundtruth import (
    NatsBenchGroundTruth,
    TableGroundTruth,
    column_name,
    export,
    locate_ground_truth,
    open_ground_truth,
)
from zeronas.spaces import get_space

TSS_DIR = "NATS-tss-v1_0-3ffb9-simple"
SSS_DIR = "NATS-sss-v1_0-50262-simple"
TSS_INDICES = (0, 6111, 15624)
SSS_INDICES = (0, 32767)
EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": ("ori-test",),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}


def _accuracy(index: int, dataset: str, setname: str, seed: int, hp: str, epoch: int) -> float:
    """A distinct, reproducible number for every cell of the fake benchmark."""
    d = list(EVAL_SETS).index(dataset)
    s = ["x-valid", "x-test", "ori-test", "train"].index(setname)
    return 40.0 + (index % 97) * 0.25 + d * 3.0 + s * 1.5 + (seed % 7) * 0.1 + int(hp) * 0.01 + epoch * 0.001


def _results(index: int, arch: str, hp: str, seeds: dict[str, tuple[int, ...]]) -> ArchResults:
    epochs = int(hp)
    results = ArchResults(index, arch)
    for dataset, sets in EVAL_SETS.items():
        for seed in seeds[dataset]:
            train = {e: _accuracy(index, dataset, "train", seed, hp, e) for e in range(epochs)}
            count = ResultsCount(
                dataset,
                None,
                train,
                {e: 1.0 for e in range(epochs)},
                params=0.1 + index * 1e-6 + list(EVAL_SETS).index(dataset) * 0.01,
                flop=10.0 + index * 1e-4 + list(EVAL_SETS).index(dataset) * 0.5,
                arch_config={"arch_str": arch},
                seed=seed,
                epochs=epochs,
                latency=[0.01 + seed * 1e-5],
            )
            count.reset_pseudo_train_times(2.0)
            accs = {f"{s}@{e}": _accuracy(index, dataset, s, seed, hp, e) for s in sets for e in range(epochs)}
            count.update_eval(accs, {k: 0.5 for k in accs}, {k: 0.1 for k in accs})
            results.update(dataset, seed, count)
    return results


def make_nats_dir(root: Path, space: str) -> Path:
    sp = get_space(space)
    directory = root / (TSS_DIR if space == "tss" else SSS_DIR)
    directory.mkdir(parents=True)
    pickle_save({"meta_archs": list(sp.enumerate())}, directory / "meta.pickle")
    hps = ("12", "200") if space == "tss" else ("01", "12", "90")
    seeds = {"cifar10-valid": (777, 888), "cifar10": (777, 888), "cifar100": (777,), "ImageNet16-120": (777, 999)}
    for index in TSS_INDICES if space == "tss" else SSS_INDICES:
        arch = sp.arch_at(index)
        pickle_save(
            {hp: _results(index, arch, hp, seeds).state_dict() for hp in hps}, directory / f"{index:06d}.pickle"
        )
    return directory


@pytest.fixture(scope="module")
def tss_dir(tmp_path_factory) -> Path:
    return make_nats_dir(tmp_path_factory.mktemp("torch_home"), "tss")


@pytest.fixture(scope="module")
def sss_dir(tmp_path_factory) -> Path:
    return make_nats_dir(tmp_path_factory.mktemp("torch_home_sss"), "sss")


@pytest.fixture(scope="module")
def official(tss_dir):
    return create(str(tss_dir), "tss", fast_mode=True, verbose=False)


# -- NATS-Bench directory backend ---------------------------------------------------------------
def test_nats_dir_columns(tss_dir):
    gt = open_ground_truth(tss_dir, "tss")
    assert isinstance(gt, NatsBenchGroundTruth)
    assert gt.available() == sorted(
        f"{d}_{m}_acc_{e}ep"
        for d in ("cifar10", "cifar100", "imagenet16")
        for m in ("test", "valid")
        for e in (12, 200)
    )
    assert gt.indices() == list(TSS_INDICES)


@pytest.mark.parametrize("hp", ["12", "200"])
@pytest.mark.parametrize(
    ("dataset", "nats_dataset"), [("cifar10", "cifar10"), ("cifar100", "cifar100"), ("imagenet16", "ImageNet16-120")]
)
def test_nats_dir_lookup_matches_official_api(tss_dir, official, hp, dataset, nats_dataset):
    gt = open_ground_truth(tss_dir, "tss")
    tss = get_space("tss")
    for index in TSS_INDICES:
        arch = tss.arch_at(index)
        info = official.get_more_info(index, nats_dataset, hp=hp, is_random=False)
        assert gt.lookup(arch, dataset, "test", int(hp)) == pytest.approx(info["test-accuracy"])
        valid_source = "cifar10-valid" if dataset == "cifar10" else nats_dataset
        valid = official.get_more_info(index, valid_source, hp=hp, is_random=False)["valid-accuracy"]
        assert gt.lookup(arch, dataset, "valid", int(hp)) == pytest.approx(valid)


def test_nats_dir_averages_seeds_and_defaults_to_full_training(tss_dir):
    gt = open_ground_truth(tss_dir, "tss")
    arch = get_space("tss").arch_at(6111)
    expected = np.mean([_accuracy(6111, "cifar10", "ori-test", s, "200", 199) for s in (777, 888)])
    assert gt.lookup(arch, "cifar10") == pytest.approx(expected)
    assert gt.lookup(arch, "cifar-10", metric="test", epochs=200) == pytest.approx(expected)
    # validation of cifar10 comes from the cifar10-valid run (train split only)
    expected_valid = np.mean([_accuracy(6111, "cifar10-valid", "x-valid", s, "12", 11) for s in (777, 888)])
    assert gt.lookup(arch, "cifar10", "valid", 12) == pytest.approx(expected_valid)


def test_nats_dir_costs_match_official_api(tss_dir, official):
    gt = open_ground_truth(tss_dir, "tss")
    arch = get_space("tss").arch_at(15624)
    for dataset, nats_dataset in (("cifar10", "cifar10"), ("imagenet16", "ImageNet16-120")):
        cost = official.get_cost_info(15624, nats_dataset, hp="12")
        assert gt.params(arch, dataset) == pytest.approx(cost["params"])
        assert gt.flops(arch, dataset) == pytest.approx(cost["flops"])
        assert gt.latency(arch, dataset) == pytest.approx(cost["latency"])


def test_nats_dir_missing_arch_and_bad_queries(tss_dir):
    gt = open_ground_truth(tss_dir, "tss")
    absent = get_space("tss").arch_at(5)
    assert gt.lookup(absent, "cifar10") is None and gt.params(absent) is None
    with pytest.raises(ZeronasError, match=r"no column cifar10_test_acc_90ep; it has: cifar100_test_acc_12ep"):
        gt.lookup(absent, "cifar10", epochs=90)
    with pytest.raises(ZeronasError, match="unknown metric 'train'"):
        gt.lookup(absent, "cifar10", metric="train")
    with pytest.raises(ZeronasError, match="unknown dataset 'mnist'"):
        gt.lookup(absent, "mnist")


def test_nats_dir_column_and_best(tss_dir):
    gt = open_ground_truth(tss_dir, "tss")
    column = gt.column("cifar100", "valid", 200)
    assert set(column) == {get_space("tss").arch_at(i) for i in TSS_INDICES}
    assert gt.best("cifar100", "valid", 200) == max(column.values())
    best_index = max(TSS_INDICES, key=lambda i: i % 97)
    assert gt.best("cifar100", "test", 200) == pytest.approx(
        _accuracy(best_index, "cifar100", "x-test", 777, "200", 199)
    )


def test_sss_dir_defaults_to_90_epochs(sss_dir):
    gt = open_ground_truth(sss_dir, "sss")
    assert "cifar10_test_acc_1ep" in gt.available() and "imagenet16_valid_acc_90ep" in gt.available()
    expected = np.mean([_accuracy(32767, "cifar10", "ori-test", s, "90", 89) for s in (777, 888)])
    assert gt.lookup("64:64:64:64:64", "cifar10") == pytest.approx(expected)
    assert gt.lookup("64:64:64:64:64", "cifar10", epochs=1) == pytest.approx(
        np.mean([_accuracy(32767, "cifar10", "ori-test", s, "01", 0) for s in (777, 888)])
    )
    assert gt.lookup("8:8:8:8:16", "cifar10") is None


def test_torch_home_lookup(tss_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tss_dir.parent))
    assert isinstance(open_ground_truth(None, "tss"), NatsBenchGroundTruth)
    # the parent folder of the benchmark directory works too
    assert isinstance(open_ground_truth(tss_dir.parent, "tss"), NatsBenchGroundTruth)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ZeronasError, match=rf"no NATS-Bench TSS ground truth found.*\$TORCH_HOME \({tmp_path}\)"):
        open_ground_truth(None, "tss")
    with pytest.raises(ZeronasError, match=r"not found; pass --benchmark PATH"):
        open_ground_truth(tmp_path / "nowhere.parquet", "tss")
    with pytest.raises(ZeronasError, match="no meta.pickle.pbz2"):
        open_ground_truth(tmp_path, "tss")


def test_ground_truth_found_without_flags(tss_dir, monkeypatch, tmp_path, capsys):
    """$TORCH_HOME's directory first, then the table `benchmark export` wrote to the cache, else a hint."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("ZERONAS_HOME", str(tmp_path / "home"))
    table = tmp_path / "home" / "benchmarks" / "tss.parquet"
    missing = locate_ground_truth(None, "tss")
    assert missing.path is None and "\n" not in missing.describe()
    assert missing.describe().startswith("ground truth: none, so accuracies are '-'. No NATS-tss-v1_0-3ffb9-simple")
    assert f"no {table}" in missing.hint and "`zeronas benchmark export --space tss --from DIR`" in missing.hint
    assert cli_main(["benchmark", "export", "--space", "tss", "--from", str(tss_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 3 tss architectures to {table}"
    cached = locate_ground_truth(None, "tss")
    assert (cached.path, cached.found_in) == (table, "found in zeronas's cache, $ZERONAS_HOME")
    assert isinstance(open_ground_truth(None, "tss"), TableGroundTruth)
    monkeypatch.setenv("TORCH_HOME", str(tss_dir.parent))
    assert locate_ground_truth(None, "tss").describe() == f"ground truth: {tss_dir} (found under $TORCH_HOME)"
    given = locate_ground_truth(tmp_path / "x.csv", "tss")
    assert (given.path, given.found_in) == (tmp_path / "x.csv", "--benchmark")
    assert locate_ground_truth(None, "sss").path is None  # the TSS files are no SSS ground truth


# -- export --------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_roundtrips_through_the_table_backend(tss_dir, tmp_path, suffix):
    out = tmp_path / f"tss{suffix}"
    assert export(tss_dir, "tss", out, progress=False) == 3
    table = TableGroundTruth(out, "tss")
    source = open_ground_truth(tss_dir, "tss")
    assert table.available() == source.available()
    tss = get_space("tss")
    for index in TSS_INDICES:
        arch = tss.arch_at(index)
        for column in source.available():
            dataset, metric, _, epochs = column.split("_")
            assert table.lookup(arch, dataset, metric, int(epochs[:-2])) == pytest.approx(
                source.lookup(arch, dataset, metric, int(epochs[:-2]))
            )
        assert table.flops(arch, "cifar100") == pytest.approx(source.flops(arch, "cifar100"))
        assert table.latency(arch) == pytest.approx(source.latency(arch))
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left behind


def test_export_parquet_layout(sss_dir, tmp_path):
    out = tmp_path / "sss.parquet"
    export(sss_dir, "sss", out, progress=False)
    table = pq.read_table(out)
    assert table.column("index").to_pylist() == list(SSS_INDICES)
    assert table.column("arch").to_pylist() == ["8:8:8:8:8", "64:64:64:64:64"]
    assert str(table.schema.field("index").type) == "int64"
    assert {"cifar10_test_acc_90ep", "cifar10_valid_acc_1ep", "imagenet16_params", "cifar100_flops"} <= set(
        table.column_names
    )


def test_export_failure_leaves_nothing(tss_dir, tmp_path, monkeypatch):
    import zeronas.groundtruth as gt_module

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gt_module.pq, "write_table", broken)
    with pytest.raises(OSError):
        export(tss_dir, "tss", tmp_path / "out.parquet", progress=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ZeronasError, match=r"must end in \.parquet or \.csv"):
        export(tss_dir, "tss", tmp_path / "out.json", progress=False)
    with pytest.raises(ZeronasError, match=r"no NATS-Bench TSS directory at .*--from/--benchmark"):
        export(tmp_path / "missing", "tss", tmp_path / "out.parquet", progress=False)


def test_cli_benchmark_export(tss_dir, tmp_path, capsys):
    out = tmp_path / "x" / "tss.parquet"
    assert cli_main(["benchmark", "export", "--space", "tss", "--from", str(tss_dir), "--out", str(out)]) == 0
    assert "wrote 3 tss architectures" in capsys.readouterr().out
    assert pq.read_table(out).num_rows == 3
    assert cli_main(["benchmark", "export", "--space", "tss", "--from", str(tmp_path / "none"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zeronas benchmark: error: no NATS-Bench TSS directory") and "\n" not in err


# -- table backend on the shared CSV ---------------------------------------------------------------
def test_shared_csv_lookups(tss_csv):
    gt = open_ground_truth(tss_csv, "tss")
    assert isinstance(gt, TableGroundTruth)
    assert gt.available() == ["cifar10_test_acc_12ep", "cifar10_test_acc_200ep", "cifar10_valid_acc_12ep"]
    tss = get_space("tss")
    assert gt.best("cifar10") == pytest.approx(94.373, abs=1e-3)
    column = gt.column("cifar10", "test", 200)
    assert len(column) == 15625 and max(column, key=column.get) == tss.arch_at(6111)
    with open(tss_csv, newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["index"] == "1")
    assert gt.lookup(tss.arch_at(1), "cifar10") == pytest.approx(float(row["cifar10_test_acc_200ep"]))
    assert gt.lookup(tss.arch_at(1), "cifar10", "valid", 12) == pytest.approx(float(row["cifar10_valid_acc_12ep"]))
    assert gt.params(tss.arch_at(1)) is None  # the shared table has no cost columns
    with pytest.raises(ZeronasError, match=r"no column cifar100_test_acc_200ep; it has: cifar10_test_acc_12ep"):
        gt.lookup(tss.arch_at(1), "cifar100")
    assert open_ground_truth(tss_csv, "tss") is gt  # opened once per file version


def test_table_errors(tmp_path):
    no_arch = tmp_path / "no_arch.csv"
    no_arch.write_text("index,cifar10_test_acc_200ep\n0,90.0\n")
    with pytest.raises(ZeronasError, match="no 'arch' column; columns: index, cifar10_test_acc_200ep"):
        open_ground_truth(no_arch, "tss")
    wrong_space = tmp_path / "sss.csv"
    wrong_space.write_text("arch,cifar10_test_acc_90ep\n8:8:8:8:8,50.0\n")
    with pytest.raises(ZeronasError, match="not a tss table"):
        open_ground_truth(wrong_space, "tss")
    gt = open_ground_truth(wrong_space, "sss")
    assert gt.lookup("8:8:8:8:8", "cifar10") == 50.0 and gt.lookup("8:8:8:8:16", "cifar10") is None
    other = tmp_path / "table.json"
    other.write_text("{}")
    with pytest.raises(ZeronasError, match=r"must end in \.parquet or \.csv"):
        open_ground_truth(other, "tss")


def test_column_name():
    assert column_name("ImageNet16-120", "valid", 12) == "imagenet16_valid_acc_12ep"
