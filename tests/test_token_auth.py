"""A search against a cluster with Ray's token auth on (Ray's default), through --address, in its own Ray."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _running import run_cluster_script

SCRIPT = Path(__file__).parent / "scripts" / "token_auth_search.py"


@pytest.mark.slow
@pytest.mark.own_cluster
def test_a_search_reaches_a_token_auth_cluster_with_the_token_and_is_refused_without_it():
    report = run_cluster_script(SCRIPT, "zr-tok-", os.environ, timeout=480)
    ok = report["with_token"]
    assert ok["rc"] == 0 and ok["parts"] >= 1, ok
    refused = report["without_token"]
    assert refused["rc"] != 0 and refused["parts"] == 0, refused
    assert "Unauthenticated" in refused["stderr"], refused  # Ray's refusal, and zeronas's line saying what to do
    assert "needs RAY_AUTH_MODE=token and its token" in refused["stderr"].splitlines()[-1], refused
    print({k: v["seconds"] for k, v in report.items() if isinstance(v, dict)}, report["ray_start_seconds"])
