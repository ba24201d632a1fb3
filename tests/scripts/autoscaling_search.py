"""Searches on a simulated autoscaling cluster: a CPU-only head and a GPU node type at min 0.

Used by tests/test_autoscaling.py in a subprocess started in its own session: the cluster's
processes (head, autoscaler, the nodes it launches) all belong to that session's process
group, which the test kills at the end. Nothing here runs ``ray stop``, so Ray sessions
of other processes on the machine (the suite's shared one) are left alone.

The autoscaler is started by hand with its config at a path of its own, not at
``~/ray_bootstrap_config.yaml``, so zeronas first cannot see its node types (as with Ray
Client, KubeRay's v1 autoscaler or a hand-started head); the last part writes the config
there, as ``ray up`` does.

Prints one JSON line with what the searches logged.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

base = Path(sys.argv[1])
os.environ["HOME"] = str(base / "home")  # a home without the launcher's ~/ray_bootstrap_config.yaml
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import pyarrow.dataset as ds  # noqa: E402
import ray  # noqa: E402
import yaml  # noqa: E402

from zeronas.errors import ZeronasError  # noqa: E402
from zeronas.pipeline import ExperimentSpec, run_experiment  # noqa: E402
from zeronas.pipeline._placement import plan_scorers, read_capacity  # noqa: E402
from zeronas.pipeline._ray_private import autoscaling_status  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ip, port = ray.util.get_node_ip_address(), free_port()
gpu_node = {"CPU": 1, "GPU": 1, "object_store_memory": 150_000_000}
config = {
    "cluster_name": "zeronas-fake",
    "max_workers": 2,
    "upscaling_speed": 10.0,
    "idle_timeout_minutes": 5,
    "provider": {
        "type": "fake_multinode",
        "gcs_address": f"{ip}:{port}",
        "use_node_id_as_ip": True,
        "disable_node_updaters": True,
        "disable_launch_config_check": True,
    },
    "auth": {},
    "docker": {},
    "available_node_types": {
        "ray.head.default": {"resources": {"CPU": 2}, "node_config": {}, "max_workers": 0},
        "gpu_worker": {"resources": gpu_node, "node_config": {}, "min_workers": 0, "max_workers": 2},
    },
    "head_node_type": "ray.head.default",  # the name the fake provider gives its head
    **{
        key: []
        for key in (
            "initialization_commands",
            "setup_commands",
            "head_setup_commands",
            "worker_setup_commands",
            "head_start_ray_commands",
            "worker_start_ray_commands",
            "cluster_synced_files",
            "rsync_exclude",
            "rsync_filter",
        )
    },
    "file_mounts": {},
    "file_mounts_sync_continuously": False,
}
home = Path(os.environ["HOME"])
home.mkdir(parents=True, exist_ok=True)
config_path = base / "autoscaling.yaml"
config_path.write_text(yaml.safe_dump(config))

t0 = time.monotonic()
env = {**os.environ, "RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1"}
subprocess.run(
    [
        "ray",
        "start",
        "--head",
        f"--port={port}",
        "--num-cpus=2",
        "--num-gpus=0",
        "--object-store-memory=150000000",
        f"--temp-dir={base / 'ray'}",
        f"--autoscaling-config={config_path}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--dashboard-agent-listen-port=0",
    ],
    env=env,
    check=True,
    stdout=subprocess.DEVNULL,
)
ray.init(address=f"{ip}:{port}", logging_level="ERROR", log_to_driver=False)
report = {"ray_start_seconds": round(time.monotonic() - t0, 1)}


def rows(out: Path) -> list[dict]:
    return ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pylist()


def plan(**requests):
    capacity = read_capacity()
    options = {"workers": None, "gpus_per_worker": None, "cpus_per_worker": 0.5, "threads_per_worker": 1}
    placement = plan_scorers(capacity, **{**options, **requests})
    return {"known": capacity.known, "note": placement.note, "workers": placement.workers, "kind": placement.kind}


deadline = time.monotonic() + 60
while not (autoscaling_status().value or {}).get("autoscaler_report") and time.monotonic() < deadline:
    time.sleep(0.5)

# 1. node types unknown, no flags: the head's CPUs, and one line saying how to ask for GPUs
report["unknown_default"] = plan()

# 2. node types unknown, GPUs asked for, more workers than the autoscaler may launch: placed as asked, the
#    autoscaler launches its two GPU nodes, the third worker never starts and the others do the work
t2 = time.monotonic()
result = run_experiment(
    ExperimentSpec(
        budget=16, workers=3, gpus_per_worker=1, out=str(base / "gpu"), quiet=True, wait_for_workers=120, device="cpu"
    )
)
logged = rows(base / "gpu")
report["gpu_search"] = {
    "seconds": round(time.monotonic() - t2, 1),
    "pool": result.pool_stats,
    "archs": [r["arch"] for r in logged],
    "nodes": sorted({r["node"] for r in logged}),
    "workers": sorted({r["worker_id"] for r in logged}),
    "gpu_nodes": sorted(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("GPU")),
}

# 3. node types unknown, a request no node type holds: the autoscaler says so, long before --wait-for-workers
t3 = time.monotonic()
try:
    run_experiment(
        ExperimentSpec(
            budget=8, gpus_per_worker=2, out=str(base / "two-gpus"), quiet=True, wait_for_workers=120, device="cpu"
        )
    )
    report["two_gpus_unknown"] = {"error": None}
except ZeronasError as err:
    report["two_gpus_unknown"] = {"error": str(err), "seconds": round(time.monotonic() - t3, 1)}

# 4. the launcher's config where `ray up` writes it: node types known, a GPU scorer per launchable GPU by
#    default, and a request no node type can hold fails at once, naming what the cluster can launch
shutil.copy(config_path, home / "ray_bootstrap_config.yaml")
report["known_default"] = plan()
t4 = time.monotonic()
try:
    run_experiment(ExperimentSpec(budget=8, gpus_per_worker=2, out=str(base / "known"), quiet=True, device="cpu"))
    report["two_gpus_known"] = {"error": None}
except ZeronasError as err:
    report["two_gpus_known"] = {
        "error": str(err),
        "seconds": round(time.monotonic() - t4, 1),
        "wrote": (base / "known").exists(),
    }

print(json.dumps(report))
sys.stdout.flush()
ray.shutdown()
