"""`benchmarks/gpu_check.py`: its `--small` run (GPU-sharing sweep included, on Ray's logical GPUs), its
tolerance, and (with CUDA) every proxy on CPU and CUDA."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules["gpu_check"]


@pytest.mark.slow
def test_small_cpu_run_writes_every_figure_and_its_projection(
    gpu_check, ray_session, tss_csv, tmp_path, monkeypatch, capsys
):
    home = tmp_path / "home"  # ground truth the search finds by itself, without --benchmark
    monkeypatch.setenv("ZERONAS_HOME", str(home))
    (home / "benchmarks").mkdir(parents=True)
    shutil.copy(tss_csv, home / "benchmarks" / "tss.csv")
    out = tmp_path / "check.json"
    gpu_check.main(["--device", "cpu", "--small", "--proxies", "meco", "--batch-size", "2", "--out", str(out)])
    report = json.loads(out.read_text())
    printed = capsys.readouterr().out

    assert report["environment"]["device"] == "cpu" and report["environment"]["torch"]
    protocol = report["protocol"]
    assert protocol["input"].startswith("Gaussian noise") and (protocol["batch_size"], protocol["seed"]) == (2, 0)
    assert [(r["space"], r["proxy"], r["archs"]) for r in report["agreement"]] == [
        ("tss", "meco", 2),
        ("sss", "meco", 1),
    ]
    assert all(r["ok"] and r["max_abs_error"] == 0.0 for r in report["agreement"])  # CPU vs itself
    assert [r["actors"] for r in report["meco_actors"]] == [1, 2]
    # the sweep's GPU branch on the session's 2 logical GPUs: k actors ask for 1/k GPU each (they compute on
    # the CPU: torch sees no CUDA device here)
    assert [r["gpus_per_worker"] for r in report["meco_actors"]] == [1.0, 0.5]
    for r in report["meco_actors"]:
        assert len(r["gpu_ids"]) == r["actors"] and all(len(ids) == 1 for ids in r["gpu_ids"])
        assert (r["archs"], r["failed"]) == (8, 0) and r["arch_per_s"] > 0 and r["timed_s"] > 0
    # steps 4-5 run at step 3's best setting, with the same explicit input as steps 2-3
    best = max(report["meco_actors"], key=lambda r: r["arch_per_s"])
    setting = f"--workers {best['actors']} --gpus-per-worker {best['gpus_per_worker']} --device cpu"
    same_input = f"{setting} --input noise --batch-size 2 --seed 0"
    ws, search = report["whole_space"], report["search"]
    assert same_input in ws["command"] and same_input in search["command"]
    assert (ws["archs"], ws["sized_to_fit"]) == (8, False) and ws["arch_per_s"] > 0
    assert (search["evaluations"], search["sized_to_fit"]) == (20, False) and search["wall_s"] > 0
    assert "--benchmark" not in search["command"]
    assert search["validated"] and search["ground_truth"] == str(home / "benchmarks" / "tss.csv")
    assert search["ground_truth_from"] == "found by zeronas search" and 0 < search["top1_accuracy"] < 100
    boss = report["bossnas"]  # step 7: a tiny BossNAS supernet, one epoch per block, then its rating
    assert boss["rating_s"] > 0 and boss["seconds"] > boss["rating_s"]
    assert boss["images"] == 16 and len(boss["images_per_s"]) == 3 and boss["protocol_hours"] > 0
    assert "the paper protocol (30 epochs per block)" in printed
    projected = report["projected_full_s"]
    assert projected["total"] == pytest.approx(sum(v for k, v in projected.items() if k != "total"))
    assert projected["agreement"] == pytest.approx(report["agreement_s"] * 70 / 3)
    assert "target 260 arch/s" in printed and "all within tolerance" in printed
    assert f"projected full run on this machine: {projected['total']:.0f} s" in printed
    (rarts,) = report["rarts"]  # step 6, small: the tiny TSS supernet's code path
    assert (rarts["space"], rarts["channels"], rarts["layers"], rarts["batch"]) == ("tss", 4, 1, 4)
    assert rarts["s_per_round"] > 0 and rarts["projected_search_h"] == pytest.approx(
        rarts["s_per_round"] * (25_000 // 4) * 100 / 3600
    )
    assert "RARTS tss supernet 4x1, batch 4" in printed


def test_the_tolerance_flags_real_disagreements_and_forgives_rounding_near_zero(gpu_check):
    compare, tolerance = gpu_check.compare, gpu_check.TOLERANCE
    meco = [(10.0, 10.0), (20.0, 20.0005), (30.0, 30.0)]
    assert compare("tss", "meco", meco, tolerance["meco"])["ok"]  # 2.5e-5 relative: rounding
    planted = [(10.0, 10.0), (20.0, 20.2), (30.0, 30.0)]  # one arch 1 % off
    row = compare("tss", "meco", planted, tolerance["meco"])
    assert not row["ok"] and row["outside_tolerance"] == 1 and row["max_rel_error"] == pytest.approx(0.01)
    # grasp crosses zero: a tiny absolute difference at 0 is rounding, not an infinite relative error
    grasp = [(265.9, 265.9001), (0.0, 2e-5), (-3.2, -3.2), (1e-6, -1e-6)]
    assert compare("tss", "grasp", grasp, tolerance["grasp"])["ok"]
    assert not compare("tss", "grasp", grasp, gpu_check.Tolerance(1e-3, 0.0))["ok"]  # relative alone: flagged
    # ntk, a condition number, amplifies rounding: 0.5 % is within its tolerance, not within the default
    ntk = [(-13.84, -13.91), (-1.389, -1.389), (-13.91, -13.84)]
    assert compare("tss", "ntk", ntk, tolerance["ntk"])["ok"]
    assert not compare("tss", "ntk", ntk, gpu_check.DEFAULT_TOLERANCE)["ok"]
    # a value only one side computes is a disagreement whatever the tolerance
    row = compare("sss", "zen", [(1.0, 1.0), (2.0, None)], gpu_check.Tolerance(1.0, 1.0))
    assert not row["ok"] and row["null_mismatch"] == 1
    assert compare("sss", "params", [(5.0, 5.0), (7.0, 7.0001)], tolerance["params"])["ok"] is False


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device (benchmarks/gpu_check.py compares every proxy on CPU and CUDA there)",
)
def test_every_proxy_agrees_on_cpu_and_cuda(gpu_check):
    from zeronas.proxies import list_proxies

    rows = gpu_check.agreement("cuda", {"tss": 6, "sss": 3}, list_proxies(), batch_size=8, seed=0)
    bad = [f"{r['space']}/{r['proxy']}: abs {r['max_abs_error']:.3g}, rel {r['max_rel_error']:.3g}" for r in rows]
    assert all(r["ok"] for r in rows), "; ".join(b for b, r in zip(bad, rows) if not r["ok"])
