"""Pipeline overhead: MeCo over the same TSS archs by the Ray scorer pool (what `zeronas score --workers N`
and `zeronas search` use) against a fair bare baseline, same total cores.

    python benchmarks/pipeline_overhead.py [--archs 1000] [--cores 2]

The fair baseline is a plain `multiprocessing` pool of `--cores` single-thread processes, no Ray; the pool
is `--cores` single-thread scorer actors. Like for like: both sides hand out work in units of `--chunk`
archs (default 2; the pool with fixed chunks of that size, its requests of 8 archs as `score_on_ray`
makes them, the baseline with tasks of that size), so both end with the same idle tail, and every
process and every actor has scored one arch before the clock starts. The headline is the throughput
ratio pool / fair baseline (target >= 0.9): what actors, broker and object transfers cost.
Today's single-process loop (1 process x `--cores` torch threads) is an extra row: torch's intra-op
threads help little on batch-1 networks, so it is not a fair baseline for a pool of processes.
Ray start-up, pool start and process-pool start (each worker's first build included) are excluded and
printed. A and B run interleaved in halves (A B B A) so that drift in machine load hits both.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

CALL_SIZE = 8  # archs per request to the broker, as score_on_ray's first calls
_scorer = None


def _scorer_kwargs() -> dict:
    return dict(space="tss", proxies=["meco"], dataset="cifar10", data=None, seed=0, batch_size=64)


def bare_loop(archs: list[str], threads: int) -> float:
    import torch

    from zeronas.proxies import ArchScorer

    torch.set_num_threads(threads)
    scorer = ArchScorer(**_scorer_kwargs())
    scorer.score(archs[0])  # warm-up, as the pools' workers also do their first build before timing
    start = time.perf_counter()
    for arch in archs:
        scorer.score(arch)
    return time.perf_counter() - start


def _init_process(warm_arch: str) -> None:
    global _scorer
    import torch

    from zeronas.proxies import ArchScorer

    torch.set_num_threads(1)
    _scorer = ArchScorer(**_scorer_kwargs())
    _scorer.score(warm_arch)


def _pid_after_pause(_: int) -> int:
    time.sleep(0.5)  # long enough that one process cannot take every task while another still starts
    return os.getpid()


def _score_call(archs: list[str]) -> list[dict]:
    import dataclasses

    return [dataclasses.asdict(_scorer.score(arch)) for arch in archs]  # rows come back pickled, as from actors


def process_pool_run(archs: list[str], processes: int, chunk: int) -> tuple[float, float]:
    """(start seconds, scoring seconds): a plain multiprocessing pool of single-thread processes."""
    t0 = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, initializer=_init_process, initargs=(archs[0],)) as pool:
        # every process is up and warm (its initializer scored one arch) once each has answered a task
        for _ in range(60):
            if len(set(pool.map(_pid_after_pause, range(processes), chunksize=1))) == processes:
                break
        else:
            raise RuntimeError(f"not every one of the {processes} baseline processes started within 60 rounds")
        started = time.perf_counter()
        calls = [archs[i : i + chunk] for i in range(0, len(archs), chunk)]
        done = sum(len(rows) for rows in pool.imap_unordered(_score_call, calls))
        seconds = time.perf_counter() - started
    assert done == len(archs)
    return started - t0, seconds


def pool_run(archs: list[str], workers: int, chunk: int) -> tuple[float, float]:
    """(pool start seconds, scoring seconds) for one pool of ``workers`` single-thread actors."""
    import ray

    from zeronas.pipeline._pool import PoolConfig, start_pool

    t0 = time.perf_counter()
    config = PoolConfig(
        {**_scorer_kwargs(), "device": "cpu"},
        workers=workers,
        gpus_per_worker=0,
        threads_per_worker=1,
        chunk_size=chunk,
        chunk_seconds=None,
    )
    pool = start_pool(config)
    ray.get(pool.warm_up.remote())
    deadline = time.monotonic() + 120
    while len(handles := ray.get(pool.worker_handles.remote())) < workers:  # the broker marks them up a bit later
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(handles)} of {workers} scorer actors came up within 120 s")
        time.sleep(0.1)
    ray.get([h.score_many.remote(archs[:1]) for h in handles.values()])  # every actor's first build
    started = time.perf_counter()
    # the request pattern of score_on_ray's first calls: 8 archs each, 2 calls in flight per worker
    pending, pos, done = [], 0, 0
    while pos < len(archs) or pending:
        while pos < len(archs) and len(pending) < 2 * workers:
            pending.append(pool.score.remote(archs[pos : pos + CALL_SIZE]))
            pos += CALL_SIZE
        ready, pending = ray.wait(pending, num_returns=1)
        done += len(ray.get(ready[0]))
    seconds = time.perf_counter() - started
    assert done == len(archs)
    ray.get(pool.shutdown.remote())
    ray.kill(pool)
    return started - t0, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=1000)
    parser.add_argument("--cores", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=2, help="archs per actor call and per baseline task")
    args = parser.parse_args()

    import numpy as np
    import ray

    from zeronas.pipeline._ray_session import ensure_ray
    from zeronas.spaces import get_space

    space = get_space("tss")
    order = np.random.default_rng(args.seed).permutation(space.size)[: args.archs]
    archs = [space.arch_at(int(i)) for i in order]
    n, half = len(archs), len(archs) // 2
    load = os.getloadavg()[0]

    t0 = time.perf_counter()
    ensure_ray(num_cpus=args.cores)
    ray_start = time.perf_counter() - t0

    fair_start, fair_a = process_pool_run(archs[:half], args.cores, args.chunk)
    pool_start, pooled_a = pool_run(archs[:half], args.cores, args.chunk)
    _, pooled_b = pool_run(archs[half:], args.cores, args.chunk)
    _, fair_b = process_pool_run(archs[half:], args.cores, args.chunk)
    loop = bare_loop(archs[:half], args.cores) + bare_loop(archs[half:], args.cores)
    fair, pooled = fair_a + fair_b, pooled_a + pooled_b
    print(
        f"archs: {n} TSS cells, MeCo (reference-exact, noise input, batch 64, seed 0), CPU, {args.cores} cores, "
        f"{args.chunk} archs per actor call / baseline task; "
        f"1-min load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    print(
        f"excluded: ray start-up {ray_start:.2f} s, scorer pool start {pool_start:.2f} s, "
        f"process pool start {fair_start:.2f} s"
    )
    print(f"fair baseline, multiprocessing pool {args.cores} processes x 1 thread: {n / fair:.2f} arch/s")
    print(f"scorer pool, {args.cores} Ray workers x 1 thread:                {n / pooled:.2f} arch/s")
    print(f"single-process loop, 1 process x {args.cores} threads (extra row):   {n / loop:.2f} arch/s")
    print(f"throughput ratio pool / fair baseline, same {args.cores} cores: {fair / pooled:.3f}  (target >= 0.9)")
    print(f"throughput ratio pool / single-process loop: {loop / pooled:.3f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
