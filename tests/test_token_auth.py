"""A search against a cluster with Ray's token auth on (Ray's default), through --address, in its own Ray."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "token_auth_search.py"


def test_a_search_reaches_a_token_auth_cluster_with_the_token_and_is_refused_without_it():
    base = Path(tempfile.mkdtemp(prefix="zr-tok-"))  # short: Ray's socket paths must stay below 107 bytes
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(base)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # killing its process group ends the cluster it started and nothing else
    )
    try:
        stdout, stderr = proc.communicate(timeout=480)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(base, ignore_errors=True)
    assert proc.returncode == 0, stderr[-3000:]
    report = json.loads(stdout.strip().splitlines()[-1])
    ok = report["with_token"]
    assert ok["rc"] == 0 and ok["parts"] >= 1, ok
    refused = report["without_token"]
    assert refused["rc"] != 0 and refused["parts"] == 0, refused
    assert "Unauthenticated" in refused["stderr"], refused  # Ray's refusal, and zeronas's line saying what to do
    assert "needs RAY_AUTH_MODE=token and its token" in refused["stderr"].splitlines()[-1], refused
    print({k: v["seconds"] for k, v in report.items() if isinstance(v, dict)}, report["ray_start_seconds"])
