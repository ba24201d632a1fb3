"""A node lost mid-search, on a local Ray cluster of its own (scenario ``worker-node`` or ``gpu-node``).

``worker-node``: a search on a two-node cluster whose worker node is removed mid-search.
``gpu-node``: the only GPU node is removed, so that no replacement worker can be placed: that search must
stop after --wait-for-workers, and go on with --resume once a GPU node is back.
Arguments: SCENARIO OUT BUDGET SECONDS_PER_ARCH (the fixed time each arch takes to score) [GPU_WAIT_SECONDS].
Used by tests/test_pipeline_recovery.py in a subprocess (a Cluster needs its own Ray), one scenario per
process so that the two run side by side. Prints one JSON line with what the logs hold.
"""

import atexit
import dataclasses
import json
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import pyarrow.dataset as ds  # noqa: E402
import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from zeronas.errors import ZeronasError  # noqa: E402
from zeronas.pipeline import ExperimentSpec, run_experiment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/
from _running import start_in_thread, wait_for_pool  # noqa: E402

scenario, out, budget, seconds_per_arch = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
# the clock: a proxy that takes a fixed time and no CPU, so the search's pace does not follow the machine's load
clock = dict(
    proxy="fixed_time",
    plugins=[str(Path(__file__).resolve().parents[1] / "plugins" / "fixed_time_proxy.py")],
    proxy_options={"fixed_time": {"seconds": seconds_per_arch}},
)
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
# Shut down on failure too: a head left behind stays /tmp/ray/ray_current_cluster, which every later
# ray.init(num_cpus=...) on the machine would then try to join (and fail).
atexit.register(lambda: (ray.shutdown(), cluster.shutdown()))
ray.init(address=cluster.address, logging_level="ERROR", log_to_driver=False)


def logged_rows(out: str) -> int:
    if not list(Path(out).glob("run=*/part-*.parquet")):
        return 0
    return ds.dataset(out, format="parquet", partitioning="hive").count_rows()


def lose_the_worker_node() -> dict:
    worker_node = cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()

    spec = ExperimentSpec(
        budget=budget,
        out=out,
        quiet=True,
        workers=3,
        cpus_per_worker=0.5,
        gpus_per_worker=0,
        algos=["random", "rea"],
        **clock,
    )
    thread, outcome = start_in_thread(spec)
    pool = wait_for_pool(min_scored=10)
    # The worker node's first chunk can lag the head's on a loaded machine: remove the node only
    # once it has really scored something, so that the test is about losing work in progress.
    deadline = time.time() + 120
    while len(ray.get(pool.stats.remote())["per_node"]) < 2 and time.time() < deadline:
        time.sleep(0.05)
    scored_on = sorted(ray.get(pool.stats.remote())["per_node"])
    cluster.remove_node(worker_node, allow_graceful=False)
    removed_at = ray.get(pool.stats.remote())["scored"]
    thread.join(timeout=300)
    rows = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pylist()
    return {
        "finished": "result" in outcome,
        "removed_at": removed_at,
        "scored_on_before_removal": scored_on,
        "stats": outcome["result"].pool_stats if "result" in outcome else None,
        "nodes": sorted({r["node"] for r in rows}),
        "per_search": {
            s: [r["arch"] for r in rows if r["search_id"] == s] for s in sorted({r["search_id"] for r in rows})
        },
    }


def lose_the_only_gpu_node(gpu_wait: float) -> dict:
    # The only GPU node goes away: its replacement cannot be placed anywhere.
    gpu_node = cluster.add_node(num_cpus=1, num_gpus=1)
    cluster.wait_for_nodes()
    spec = ExperimentSpec(
        budget=budget,
        out=out,
        quiet=True,
        workers=1,
        gpus_per_worker=1,
        cpus_per_worker=0.5,
        wait_for_workers=gpu_wait,
        device="cpu",
        **clock,
    )
    outcome = {}

    def search() -> None:
        try:
            outcome["result"] = run_experiment(spec)
        except ZeronasError as err:
            outcome["error"] = str(err)

    thread = threading.Thread(target=search)
    thread.start()
    wait_for_pool(min_scored=4)
    # Lose the node once 4 scored rows are in the log (5-s flushes), so that there is something to keep.
    deadline = time.time() + 60
    while time.time() < deadline and logged_rows(out) < 4:
        time.sleep(0.1)
    cluster.remove_node(gpu_node, allow_graceful=False)
    removed = time.monotonic()
    thread.join(timeout=180)
    report = {
        "gpu_lost": {
            "error": outcome.get("error"),
            "seconds_to_error": round(time.monotonic() - removed, 1),
            "logged": logged_rows(out),
        }
    }
    cluster.add_node(num_cpus=1, num_gpus=1)
    cluster.wait_for_nodes()
    # the resumed search's one worker starts on a fresh node: that start is not what is tested, so it may take long
    run_experiment(dataclasses.replace(spec, wait_for_workers=300), resume=True)
    rows = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pylist()
    report["resumed"] = [r["arch"] for r in rows]
    return report


if scenario == "worker-node":
    print(json.dumps(lose_the_worker_node()))
else:
    print(json.dumps(lose_the_only_gpu_node(float(sys.argv[5]))))
