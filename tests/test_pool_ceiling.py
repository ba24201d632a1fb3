"""`benchmarks/pool_ceiling.py` runs both modes end to end on a Ray of its own (a subprocess) and writes the
issue's JSON keys with figures that add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "pool_ceiling.py"


@pytest.mark.slow
def test_pool_ceiling_measures_score_and_compare_and_names_a_bottleneck(tmp_path):
    out = tmp_path / "pool.json"
    argv = ["--modes", "score,compare", "--workers", "1", "--rows", "200", "--searches", "2", "--settings", "default"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *argv, "--json", str(out)],
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = json.loads(out.read_text())
    assert [(r["mode"], r["workers"]) for r in records] == [("score", 1), ("compare", 1)]
    for r in records:
        assert {"workers", "mode", "rows", "rows_per_s", "bottleneck"} <= set(r)
        assert 0 < r["rows"] <= 200 and r["rows_per_s"] > 0
        # the bottleneck is the single process with the lowest rows per CPU second, and its figure the ceiling
        ceilings = r["single_process_ceilings"]  # rounded to whole rows/s
        assert round(r["ceiling_rows_per_s"]) == min(ceilings.values()) == ceilings[r["bottleneck"]]
    assert "projection, compare default" in proc.stdout and "projection, score default" in proc.stdout
