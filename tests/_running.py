"""Test helpers: run an experiment in a background thread, reach into its scorer pool, start a pool of one's own."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any


def start_in_thread(spec) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``run_experiment(spec)``; its result lands in ``outcome["result"]``."""
    from zeronas.pipeline import run_experiment

    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("result", run_experiment(spec)))
    thread.start()
    return thread, outcome


def wait_for_pool(min_scored: int, timeout: float = 180) -> Any:
    """The running experiment's broker actor, once it has scored ``min_scored`` archs."""
    import ray

    from zeronas.pipeline._pool import POOL_NAMESPACE

    pool, deadline = None, time.time() + timeout
    while pool is None and time.time() < deadline:
        names = [
            a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith("zeronas-pool-")
        ]
        if names:
            pool = ray.get_actor(names[0], namespace=POOL_NAMESPACE)
        time.sleep(0.2)
    assert pool is not None, "no scorer pool appeared"
    while ray.get(pool.stats.remote())["scored"] < min_scored and time.time() < deadline:
        time.sleep(0.1)
    return pool


@contextlib.contextmanager
def running_pool(config) -> Iterator[Any]:
    """A broker started from ``config``, shut down and killed however the test ends: a pool left running holds
    the session's CPUs and GPUs, and every later test on that xdist worker would wait for them."""
    import ray

    from zeronas.pipeline._pool import start_pool

    pool = start_pool(config)
    try:
        yield pool
    finally:
        with contextlib.suppress(Exception):  # the test may have killed it already
            ray.get(pool.shutdown.remote(), timeout=30)
        ray.kill(pool)


def run_cluster_script(script, prefix: str, env: dict, timeout: float) -> dict:
    """Run a script that starts its own Ray cluster under a fresh short base directory (Ray's socket paths
    must stay below 107 bytes), in its own session so that killing its process group ends that cluster and
    nothing else; the script's last stdout line is its JSON report."""
    import json
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix=prefix))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(base)],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        shutil.rmtree(base, ignore_errors=True)
    assert proc.returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])
