"""The scorer pool's own throughput ceiling: rows/s with a free proxy, and which part of the pipeline caps it.

    python benchmarks/pool_ceiling.py [--modes score,compare] [--workers 1,2] [--rows 20000] [--searches 4]
                                      [--ask-batch 4] [--json FILE] [--stream 0]

Protocol. Proxy ``sed`` (topology only: no network built, no data; the workers still count params and
FLOPs per arch, as for every proxy), TSS cells, CPU scorer actors (``--device cpu``), proxy seed 0.

* ``score``: the path of ``zeronas score --workers N``: ``score_on_ray`` streams ``--rows`` archs (TSS cells
  in a seeded random order, cycling past 15,625) and the driver writes them with the ``ScoreWriter``, as
  the CLI does. Rows/s over the rows after the first 10 % (pool start and warm-up excluded).
* ``compare``: the path of ``zeronas compare``: ``run_experiment`` with ``--searches`` random searches
  (seeds 0..S-1) sharing one pool, ``--rows`` proxy rows in all; rows/s between the 5th and 95th
  percentile of the logged rows' timestamps (Ray, Tune and pool start excluded).

Where the time goes. A background thread samples every process of this benchmark's own Ray (the
driver's descendants, found with psutil) twice a second. Per part, over the timed window: the CPU
seconds of the broker actor, the scorer actors, the Tune trials (``compare``), Ray's own processes
(raylet, GCS: the transfers' control plane) and the driver (result loop, Tune controller, log writer).
CPU seconds, not wall time: on a shared, loaded machine a process waiting for a core accrues none,
so ``rows / CPU seconds`` is what that one process sustains with one whole core to itself; that is how
the broker's share of a core is isolated from the other load. A single process (broker, driver, raylet,
GCS) cannot use more than one core, so the part with the lowest ``rows / CPU s`` is the **bottleneck**
named here; the scorer actors and the trials scale with their count. The writer's cost per row is
also timed alone (``LogWriter.extend`` / ``ScoreWriter.add`` on the same rows, in this process).

Projection: with N GPUs at 260 arch/s each, one driver delivers ``min(260 N, ceiling)`` rows/s, the
ceiling being the bottleneck's rows per CPU second (assumes its CPU cost per row stays as measured).

``--stream N`` also streams N rows through the ``score`` path with the widest ``--workers`` setting and
prints the RSS of the driver and the broker at each tenth (memory must stay flat).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

#: the pool settings compared back to back: this checkout's defaults, and fixed 2-arch chunks (with 8-arch
#: ``score_on_ray`` calls), the defaults before chunks were sized by cost; ``score_on_ray`` keywords
SETTINGS: dict[str, dict[str, Any]] = {"default": {}, "fixed": {"call_seconds": None, "chunk_seconds": None}}
GPU_RATE = 260.0  # arch/s one GPU scores MeCo at (the README's goal)
SINGLE = ("broker", "driver", "raylet", "gcs")  # one process each: capped at one core


def _part(proc: Any) -> str | None:
    """Which part of the pipeline a process is (None: not one, or a Ray worker not yet given an actor)."""
    try:
        name, title = proc.name(), " ".join(proc.cmdline())
    except Exception:  # exited meanwhile
        return None
    if name in ("raylet", "gcs_server"):
        return "raylet" if name == "raylet" else "gcs"
    if title.startswith("ray::"):  # a Ray worker's process title names its actor class
        for marker, part in (("ScorerBroker", "broker"), ("ScorerWorker", "workers"), ("ImplicitFunc", "trials")):
            if marker in title:
                return part
    return None


class Sampler:
    """CPU seconds and RSS per pipeline part, sampled from the driver and its descendant processes."""

    def __init__(self, every: float = 0.5) -> None:
        import psutil

        self._me = psutil.Process()
        self._every = every
        self.samples: list[tuple[float, dict[str, float], dict[str, float]]] = []
        self._procs: dict[int, tuple[Any, str]] = {}
        self._last_cpu: dict[int, float] = {}  # an exited process keeps the CPU seconds it last showed
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def sample(self) -> None:
        with self._lock:
            cpu: dict[str, float] = defaultdict(float)
            rss: dict[str, float] = defaultdict(float)
            for child in self._me.children(recursive=True):
                if child.pid not in self._procs:
                    part = _part(child)
                    if part is not None:
                        self._procs[child.pid] = (child, part)
            for pid, (proc, part) in [(0, (self._me, "driver")), *self._procs.items()]:
                try:
                    times = proc.cpu_times()
                    self._last_cpu[pid] = times.user + times.system
                    rss[part] = max(rss[part], proc.memory_info().rss / 2**20)
                except Exception:  # exited: its last reading stands
                    pass
                cpu[part] += self._last_cpu.get(pid, 0.0)
            self.samples.append((time.monotonic(), dict(cpu), dict(rss)))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._every)

    def at(self, t: float) -> tuple[dict[str, float], dict[str, float]]:
        """The sample nearest to monotonic time ``t``."""
        _, cpu, rss = min(self.samples, key=lambda s: abs(s[0] - t))
        return cpu, rss

    def cpu_at(self, t: float) -> dict[str, float]:
        """Each part's CPU seconds at ``t``, linear between the samples either side: a window shorter than the
        sampling interval still gets its share, where the nearest sample would give both edges the same one."""
        times = [s[0] for s in self.samples]
        i = min(max(bisect.bisect_left(times, t), 1), len(times) - 1)
        (ta, a, _), (tb, b, _) = self.samples[i - 1], self.samples[i]
        f = min(max((t - ta) / (tb - ta), 0.0), 1.0) if tb > ta else 1.0
        return {part: a.get(part, 0.0) + f * (b.get(part, 0.0) - a.get(part, 0.0)) for part in b}

    def cpu_between(self, t0: float, t1: float) -> dict[str, float]:
        a, b = self.cpu_at(t0), self.cpu_at(t1)
        return {part: b[part] - a.get(part, 0.0) for part in b}


def _archs(n: int, seed: int = 0):
    import numpy as np

    from zeronas.spaces import get_space

    space = get_space("tss")
    order = np.random.default_rng(seed).permutation(space.size)
    for i in range(n):
        yield space.arch_at(int(order[i % space.size]))


def run_score(workers: int, rows: int, out: Path, sampler: Sampler, settings: dict[str, Any]) -> dict[str, Any]:
    from unittest import mock

    import ray

    from zeronas.pipeline import _pool, score_on_ray
    from zeronas.proxies import ScoreWriter
    from zeronas.spaces import get_space

    space = get_space("tss")
    warm = rows // 10
    marks: list[tuple[int, float]] = []
    brokers: list[Any] = []
    start = _pool.start_pool
    with mock.patch.object(_pool, "start_pool", lambda config: brokers.append(start(config)) or brokers[-1]):
        results = score_on_ray(
            _archs(rows), space="tss", proxies=["sed"], device="cpu", workers=workers, gpus_per_worker=0, **settings
        )
        with ScoreWriter(out, ["sed"]) as writer:
            for n, score in enumerate(results, start=1):
                writer.add(score, space.index_of(score.arch))
                if n == warm or n == rows or n % max(1, rows // 10) == 0:
                    sampler.sample()
                    marks.append((n, time.monotonic()))
                if n == rows:  # before the pool shuts down
                    stats = ray.get(brokers[0].stats.remote(), timeout=60)
    t0 = dict(marks)[warm]
    t1 = dict(marks)[rows]
    return {"rows": rows - warm, "seconds": t1 - t0, "t0": t0, "t1": t1, "marks": marks, "pool": stats}


def run_compare(
    workers: int, rows: int, searches: int, ask_batch: int, out: Path, sampler: Sampler, settings: dict
) -> dict:
    import dataclasses
    from unittest import mock

    import pyarrow.dataset as ds

    from zeronas.pipeline import ExperimentSpec, _placement, run_experiment

    plan = _placement.scorer_pool_config
    chunking = {k: v for k, v in settings.items() if k == "chunk_seconds"}

    spec = ExperimentSpec(
        proxy="sed",
        algos=["random"],
        seeds=list(range(searches)),
        budget=rows // searches,
        ask_batch=ask_batch,
        workers=workers,
        gpus_per_worker=0,
        device="cpu",
        out=str(out),
        quiet=True,
        top_k=1,
    )
    wall0 = time.monotonic() - time.time()  # monotonic = wall + offset

    def with_chunking(*args):  # scorer_pool_config returns the pool's config and its placement line
        config, note = plan(*args)
        return dataclasses.replace(config, **chunking), note

    with mock.patch.object(_placement, "scorer_pool_config", with_chunking):
        result = run_experiment(spec)
    sampler.sample()
    table = ds.dataset(result.run_dir, format="parquet").to_table(
        columns=["timestamp"], filter=ds.field("stage") == "proxy"
    )
    stamps = sorted(t.timestamp() + wall0 for t in table.column("timestamp").to_pylist())
    lo, hi = int(0.05 * len(stamps)), int(0.95 * len(stamps)) - 1
    window = {"rows": hi - lo, "seconds": stamps[hi] - stamps[lo], "t0": stamps[lo], "t1": stamps[hi]}
    return {**window, "pool": result.pool_stats}


def writer_cost(mode: str, rows: int = 5000) -> float:
    """Seconds of this process's CPU per row the driver's writer spends, timed alone on realistic rows."""
    from zeronas.proxies import ArchScore, ScoreWriter
    from zeronas.spaces import get_space

    space = get_space("tss")
    archs = list(_archs(rows, seed=1))
    with tempfile.TemporaryDirectory() as tmp:
        if mode == "score":
            scores = [ArchScore(a, {"sed": 1.0}, {"sed": 1e-4}, {"sed": None}) for a in archs]
            start = time.process_time()
            with ScoreWriter(tmp, ["sed"]) as writer:
                for s in scores:
                    writer.add(s, space.index_of(s.arch))
            return (time.process_time() - start) / rows
        from datetime import datetime, timezone

        from zeronas.logs import LogWriter

        base = {"search_id": "random-s0", "algorithm": "random", "seed": 0, "space": "tss", "dataset": "cifar10"}
        batch = [
            {
                **base,
                "stage": "proxy",
                "arch": a,
                "index": 1,
                "canonical": a,
                "score": 1.0,
                "objective": "sed",
                "proxy_sed": 1.0,
                "proxy_seconds": 1e-4,
                "params": 1000,
                "flops": 1.0,
                "supernet": False,
                "worker_id": "w-0",
                "node": "n",
                "device": "cpu",
                "iteration": i,
                "n_proposed": i,
                "elapsed": 1.0,
                "timestamp": datetime.now(timezone.utc),
            }
            for i, a in enumerate(archs, start=1)
        ]
        start = time.process_time()
        with LogWriter(tmp, "bench", ["sed"]) as writer:
            for i in range(0, rows, 64):  # as reported by trials: a few dozen rows per result
                writer.extend(batch[i : i + 64])
        return (time.process_time() - start) / rows


def measure(mode: str, workers: int, rows: int, args: argparse.Namespace, sampler: Sampler, label: str) -> dict:
    """One setting's record; ``stream`` is the score path with RSS read at each tenth of the rows."""
    out = Path(tempfile.mkdtemp(prefix="pool_ceiling-"))
    try:
        if mode == "compare":
            timed = run_compare(workers, rows, args.searches, args.ask_batch, out, sampler, SETTINGS[label])
        else:
            timed = run_score(workers, rows, out / "scores.parquet", sampler, SETTINGS[label])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    memory = []
    for n, t in timed.get("marks", []) if mode == "stream" else []:
        _, rss = sampler.at(t)
        memory.append({"rows": n, "driver_mb": round(rss.get("driver", 0)), "broker_mb": round(rss.get("broker", 0))})
    cpu = sampler.cpu_between(timed["t0"], timed["t1"])
    rows = timed["rows"]
    per_row = {part: cpu.get(part, 0.0) / rows for part in ("broker", "workers", "trials", "raylet", "gcs", "driver")}
    ceilings = {part: 1 / per_row[part] for part in SINGLE if per_row[part] > 0}
    if not ceilings:
        raise SystemExit(f"pool_ceiling: no CPU time was sampled in the {mode} window of {rows} rows; give more --rows")
    bottleneck = min(ceilings, key=ceilings.get)
    pool = timed["pool"]
    archs_per_chunk = pool["scored"] / pool["chunks"] if pool.get("chunks") else None  # older pools: no count
    return {
        "setting": label,
        "workers": workers,
        "mode": mode,
        "rows": rows,
        "rows_per_s": rows / timed["seconds"],
        "bottleneck": bottleneck,
        "ceiling_rows_per_s": ceilings[bottleneck],
        "cpu_us_per_row": {k: round(v * 1e6, 1) for k, v in per_row.items()},
        "single_process_ceilings": {k: round(v) for k, v in ceilings.items()},
        "archs_per_chunk": archs_per_chunk and round(archs_per_chunk, 1),
        "broker_us_per_chunk": archs_per_chunk and round(per_row["broker"] * archs_per_chunk * 1e6),
        "writer_us_per_row_alone": round(writer_cost("compare" if mode == "compare" else "score") * 1e6, 1),
        "load_average": os.getloadavg()[0],
        **({"memory": memory} if memory else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="score,compare", help="score, compare or both (default both)")
    parser.add_argument("--workers", default="1,2", help="comma-separated scorer actor counts (default 1,2)")
    parser.add_argument("--rows", type=int, default=20000, help="proxy rows per setting (default 20000)")
    parser.add_argument("--searches", type=int, default=4, help="searches of the compare mode (default 4)")
    parser.add_argument("--ask-batch", type=int, default=4, help="archs each compare search asks at once (default 4)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"pool settings to compare: {SETTINGS}")
    parser.add_argument("--stream", type=int, default=0, help="also stream N rows and print RSS (default 0: no)")
    parser.add_argument("--json", type=Path, help="write one record per setting here")
    args = parser.parse_args()

    import ray

    from zeronas.pipeline._ray_session import ensure_ray

    workers = [int(w) for w in args.workers.split(",")]
    ensure_ray(num_cpus=max(workers) + args.searches)
    records = []
    with Sampler() as sampler:
        for mode in args.modes.split(","):
            labels = args.settings.split(",")
            for n in workers:
                for label in labels:
                    records.append(measure(mode, n, args.rows, args, sampler, label))
                    print(json.dumps(records[-1]), flush=True)
        if args.stream:
            label = args.settings.split(",")[-1]
            records.append(measure("stream", max(workers), args.stream, args, sampler, label))
    ray.shutdown()

    print(f"\nproxy sed, TSS, CPU actors; 1-min load average at end {os.getloadavg()[0]:.1f} (2 shared cores)")
    print(f"{'mode':8} {'setting':9} {'N':>3} {'rows/s':>8}  {'bottleneck':10} {'its ceiling':>11}  CPU us/row by part")
    for r in records:
        parts = " ".join(f"{k} {v:g}" for k, v in r["cpu_us_per_row"].items() if v)
        if r["archs_per_chunk"]:
            parts += f"; {r['archs_per_chunk']:g} archs/chunk, broker {r['broker_us_per_chunk']:g} us/chunk"
        print(
            f"{r['mode']:8} {r['setting']:9} {r['workers']:>3} {r['rows_per_s']:>8.0f}  {r['bottleneck']:10} "
            f"{r['ceiling_rows_per_s']:>11.0f}  {parts}; writer alone {r['writer_us_per_row_alone']:g}"
        )
    for mode, label in dict.fromkeys((r["mode"], r["setting"]) for r in records if r["mode"] != "stream"):
        ceiling = statistics.median(
            r["ceiling_rows_per_s"] for r in records if (r["mode"], r["setting"]) == (mode, label)
        )
        gpus = int(ceiling // GPU_RATE)
        print(
            f"projection, {mode} {label}: ceiling ~{ceiling:.0f} rows/s (median over N) keeps {gpus} GPUs at "
            f"{GPU_RATE:.0f} arch/s busy; at 64 GPUs: {min(64 * GPU_RATE, ceiling):.0f} of {64 * GPU_RATE:.0f} rows/s "
            f"({max(0.0, 1 - ceiling / (64 * GPU_RATE)):.0%} overhead)"
        )
    for m in (m for r in records for m in r.get("memory", [])):
        print(f"stream: {m['rows']:>9} rows  driver RSS {m['driver_mb']} MB  broker RSS {m['broker_mb']} MB")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))


if __name__ == "__main__":
    main()
