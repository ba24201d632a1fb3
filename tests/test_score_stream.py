"""``zeronas score`` streams rows into part files, is readable while it runs and resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from zeronas.cli import main

KEEP = ("arch", "index", "meco", "meco_error", "params", "params_error")


def _rows(out: Path) -> list[dict]:
    table = pq.read_table(out)
    return sorted(({k: r[k] for k in KEEP} for r in table.to_pylist()), key=lambda r: r["index"])


def test_resume_skips_the_archs_already_scored_and_ends_as_a_fresh_run(tmp_path: Path, capsys):
    common = ["score", "--proxies", "meco,params", "--sample", "8", "--seed", "4"]
    fresh, capped = tmp_path / "fresh.parquet", tmp_path / "capped.parquet"
    assert main([*common, "--out", str(fresh)]) == 0
    assert main([*common, "--limit", "3", "--flush-rows", "2", "--out", str(capped)]) == 0
    assert len(list(capped.glob("part-*.parquet"))) == 2  # 2 + 1 rows
    assert len(_rows(capped)) == 3
    capsys.readouterr()

    assert main([*common, "--out", str(capped)]) == 2  # not without --resume
    assert "already holds scores; pass --resume" in capsys.readouterr().err
    assert main([*common, "--proxies", "meco", "--resume", "--out", str(capped)]) == 2
    assert "other settings (proxies" in capsys.readouterr().err

    assert main([*common, "--resume", "--limit", "2", "--out", str(capped)]) == 0
    assert "wrote 2 architectures x 2 proxies" in capsys.readouterr().out
    assert main([*common, "--resume", "--out", str(capped)]) == 0
    assert "wrote 3 architectures x 2 proxies to" in capsys.readouterr().out
    got = _rows(capped)
    assert len({r["arch"] for r in got}) == 8
    assert got == _rows(fresh)
    assert main([*common, "--resume", "--out", str(capped)]) == 0  # nothing left: writes nothing
    assert "wrote 0 architectures" in capsys.readouterr().out


@pytest.mark.slow
def test_rows_are_readable_while_the_run_goes_on_and_a_killed_run_resumes(tmp_path: Path):
    out = tmp_path / "s.parquet"
    cmd = [
        sys.executable,
        "-m",
        "zeronas",
        "score",
        "--proxies",
        "meco",
        "--sample",
        "120",
        "--flush-rows",
        "3",
        "--out",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        mid_run = pq.read_table(out).num_rows
        running = proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert running, "the run finished before its first part file could be read"
    assert mid_run > 0 and mid_run % 3 == 0
    killed = pq.read_table(out)
    assert killed.num_rows % 3 == 0 and len(set(killed.column("arch").to_pylist())) == killed.num_rows
    assert main(["score", "--proxies", "meco", "--sample", "120", "--out", str(out), "--resume", "--limit", "4"]) == 0
    final = pq.read_table(out)
    assert final.num_rows == killed.num_rows + 4 and len(set(final.column("arch").to_pylist())) == final.num_rows
    assert set(killed.column("arch").to_pylist()) <= set(final.column("arch").to_pylist())
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temp file left behind"
