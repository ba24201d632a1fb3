"""Pipeline overhead: MeCo over the same TSS archs by a bare in-process loop and by the Ray
scorer pool (what `zeronas score --workers N` and `zeronas search` use), same total cores.

    python benchmarks/pipeline_overhead.py [--archs 1000] [--cores 2]

Prints the throughput ratio pool / bare loop at the same total cores (target >= 0.9): the bare
loop as one process with `--cores` torch threads, the pool as `--cores` single-thread workers.
Because torch's intra-op threads help little on these small batch-1 networks, that ratio is
flattered by the pool's process parallelism; the script therefore also prints the pure-overhead
ratio at one core (one single-thread worker vs a single-thread loop). Ray start-up and pool
start are excluded and reported separately, then arch/s per worker for 1 and `--cores` workers.
Everything is measured in this one run, side by side.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def bare_loop(archs: list[str], threads: int) -> float:
    import torch

    from zeronas.proxies import ArchScorer

    torch.set_num_threads(threads)
    scorer = ArchScorer(space="tss", proxies=["meco"], seed=0)
    scorer.score(archs[0])  # warm-up, as the pool's workers also do their first build before timing matters
    start = time.perf_counter()
    for arch in archs:
        scorer.score(arch)
    return time.perf_counter() - start


def pool_run(archs: list[str], workers: int) -> tuple[float, float]:
    """(pool start seconds, scoring seconds) for one pool of ``workers`` single-thread actors."""
    import ray

    from zeronas.pipeline._pool import PoolConfig, start_pool

    kwargs = dict(space="tss", proxies=["meco"], dataset="cifar10", data=None, seed=0, batch_size=64)
    t0 = time.perf_counter()
    pool = start_pool(PoolConfig(kwargs, workers=workers, gpus_per_worker=0, threads_per_worker=1))
    ray.get(pool.warm_up.remote())
    ray.get(pool.score.remote(archs[:workers]))  # each worker's first build, as in the bare loop
    started = time.perf_counter()
    # the same request pattern as score_on_ray: calls of 8 archs, 2 calls in flight per worker
    pending, pos, done = [], 0, 0
    while pos < len(archs) or pending:
        while pos < len(archs) and len(pending) < 2 * workers:
            pending.append(pool.score.remote(archs[pos : pos + 8]))
            pos += 8
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
    args = parser.parse_args()

    import numpy as np
    import ray

    from zeronas.pipeline._ray_session import ensure_ray
    from zeronas.spaces import get_space

    space = get_space("tss")
    order = np.random.default_rng(args.seed).permutation(space.size)[: args.archs]
    archs = [space.arch_at(int(i)) for i in order]

    t0 = time.perf_counter()
    ensure_ray(num_cpus=args.cores)
    ray_start = time.perf_counter() - t0

    # interleave A and B in halves so that drift in machine load hits both
    half = len(archs) // 2
    bare = bare_loop(archs[:half], args.cores)
    pool_start, pooled = pool_run(archs[:half], args.cores)
    pool_start_b, pooled_b = pool_run(archs[half:], args.cores)
    bare_b = bare_loop(archs[half:], args.cores)
    bare_total, pooled_total = bare + bare_b, pooled + pooled_b
    n = len(archs)
    print(f"archs: {n} TSS cells, MeCo (reference-exact), CPU, {args.cores} cores")
    print(f"ray start-up: {ray_start:.2f} s (excluded); pool start: {pool_start:.2f} s / {pool_start_b:.2f} s (excluded)")
    print(f"bare loop, 1 process x {args.cores} threads: {n / bare_total:.2f} arch/s")
    print(f"scorer pool, {args.cores} workers x 1 thread:  {n / pooled_total:.2f} arch/s")
    print(f"throughput ratio pool / bare loop, same {args.cores} cores: {bare_total / pooled_total:.3f}  (target >= 0.9)")

    # pure overhead at one core: interleaved the same way
    sub = archs[: max(200, n // 4)]
    half = len(sub) // 2
    one_bare = bare_loop(sub[:half], 1)
    _, one_pool = pool_run(sub[:half], 1)
    _, one_pool_b = pool_run(sub[half:], 1)
    one_bare_b = bare_loop(sub[half:], 1)
    print(f"bare loop, 1 thread: {len(sub) / (one_bare + one_bare_b):.2f} arch/s; "
          f"pool, 1 worker x 1 thread: {len(sub) / (one_pool + one_pool_b):.2f} arch/s")
    one_core_ratio = (one_bare + one_bare_b) / (one_pool + one_pool_b)
    print(f"throughput ratio pool / bare loop, 1 core (pure overhead): {one_core_ratio:.3f}")

    for workers in sorted({1, args.cores}):
        _, secs = pool_run(sub, workers)
        rate = len(sub) / secs
        print(f"{workers} worker(s): {rate:.2f} arch/s total, {rate / workers:.2f} arch/s per worker")
    ray.shutdown()


if __name__ == "__main__":
    main()
