"""`benchmarks/gpu_check.py --device cpu --small` runs every step, so the GPU check cannot rot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


def test_gpu_check_small_cpu_run_writes_every_figure(ray_session, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    gpu_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_check)
    out = tmp_path / "check.json"
    gpu_check.main(["--device", "cpu", "--small", "--out", str(out)])
    report = json.loads(out.read_text())
    printed = capsys.readouterr().out
    from zeronas.proxies import list_proxies

    assert report["environment"]["device"] == "cpu" and report["environment"]["torch"]
    assert {(r["space"], r["proxy"]) for r in report["agreement"]} == {
        (s, p) for s in ("tss", "sss") for p in list_proxies()
    }
    assert all(r["ok"] and r["null_mismatch"] == 0 for r in report["agreement"])  # CPU vs CPU: equal
    assert all(r["max_rel_error"] == 0.0 for r in report["agreement"] if r["max_rel_error"] == r["max_rel_error"])
    assert [r["actors"] for r in report["meco_actors"]] == [1, 2]
    assert all(r["archs"] == 8 and r["arch_per_s"] > 0 for r in report["meco_actors"])
    assert report["whole_space"]["archs"] == 8 and report["whole_space"]["arch_per_s"] > 0
    assert report["search"]["evaluations"] == 20 and report["search"]["wall_s"] > 0
    assert "arch/s" in printed and "target 260 arch/s" in printed and "all within tolerance" in printed
