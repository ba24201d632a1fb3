"""Bulk scoring on the scorer pool (`zeronas score --workers N`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

#: archs per call at most (bounds what is in flight: ``calls_in_flight`` x this)
MAX_CALL_SIZE = 4096


def score_on_ray(
    archs: Iterable[str],
    *,
    space: str,
    proxies: Sequence[str],
    dataset: str = "cifar10",
    data: str | None = None,
    seed: int = 0,
    batch_size: int = 64,
    device: str | None = None,
    workers: int = 2,
    gpus_per_worker: float | None = None,
    cpus_per_worker: float = 0.5,
    threads_per_worker: int = 1,
    address: str | None = None,
    calls_in_flight: int | None = None,
    call_size: int = 8,
    call_seconds: float | None = 1.0,
    chunk_seconds: float | None = 0.1,
    plugins: Sequence[str] = (),
    wait_for_workers: float = 600.0,
    proxy_options: dict[str, dict[str, Any]] | None = None,
) -> Iterator[Any]:
    """Yield an ``ArchScore`` per arch, in completion order, computed by ``workers`` actors.

    ``archs`` is read lazily, ``calls_in_flight`` calls ahead of the results, so scoring a whole
    space holds no list of it. The first calls hold ``call_size`` archs; then each holds about
    ``call_seconds`` of one worker's scoring at the cost the broker observed (None: every call
    ``call_size``), at most :data:`MAX_CALL_SIZE`: with one call in flight per worker and one
    queued, the workers never wait, and a cheap proxy costs few broker round trips per row. The
    broker cuts each call into chunks of ``chunk_seconds`` of scoring (see ``pipeline/_pool.py``).

    ``device`` is the workers' policy (``auto``, ``cpu`` or ``cuda``; see
    ``pipeline/_worker_device.py``): a worker that Ray gives a GPU its torch cannot use stops the
    pool start with one line. With no worker up for
    ``wait_for_workers`` seconds it raises :class:`~zeronas.errors.ZeronasError`.
    """
    import ray

    from zeronas.errors import ZeronasError
    from zeronas.pipeline._placement import plan_scorers, read_capacity
    from zeronas.pipeline._pool import PoolConfig, WorkersUnavailable, start_pool
    from zeronas.pipeline._ray_session import ensure_ray
    from zeronas.pipeline._worker_device import check_worker_device

    device = check_worker_device(device)
    ensure_ray(address)
    capacity = read_capacity()
    placement = plan_scorers(
        capacity,
        workers=workers,
        gpus_per_worker=gpus_per_worker,
        cpus_per_worker=cpus_per_worker,
        threads_per_worker=threads_per_worker,
    )
    print(placement.note, file=sys.stderr, flush=True)
    config = PoolConfig(
        scorer_kwargs=dict(
            space=space,
            proxies=list(proxies),
            dataset=dataset,
            data=data,
            seed=seed,
            batch_size=batch_size,
            device=device,
            proxy_options=proxy_options,
        ),
        workers=placement.workers,
        gpus_per_worker=placement.gpus_per_worker,
        cpus_per_worker=cpus_per_worker,
        threads_per_worker=threads_per_worker,
        chunk_seconds=chunk_seconds,
        plugins=tuple(plugins),
        wait_for_workers=wait_for_workers,
        watch_autoscaler=not capacity.known,
    )
    pool = start_pool(config)
    try:
        todo = iter(archs)
        limit = calls_in_flight or max(2, 2 * workers)
        pending: list[Any] = []
        size, asked = max(1, call_size), time.monotonic()
        while True:
            while len(pending) < limit:
                call = list(islice(todo, size))
                if not call:
                    break
                pending.append(pool.score.remote(call))
            if not pending:
                break
            ready, _ = ray.wait(list(pending), num_returns=1)
            pending.remove(ready[0])
            if call_seconds is not None and time.monotonic() - asked >= 1.0:
                # from the workers' own seconds per arch, not the round trip (which load and queueing stretch)
                cost = ray.get(pool.seconds_per_arch.remote(), timeout=60)
                size = max(1, min(MAX_CALL_SIZE, int(call_seconds / cost))) if cost else size
                asked = time.monotonic()
            try:
                outs = ray.get(ready[0])
            except ray.exceptions.RayTaskError as err:
                if isinstance(err.cause, WorkersUnavailable):
                    raise ZeronasError(str(err.cause)) from None
                raise
            except ray.exceptions.RayActorError as err:
                raise ZeronasError(
                    f"the scorer pool's broker died ({type(err).__name__}: its process or Ray node crashed); "
                    "the rows already written are kept: rerun the same command with --resume to go on"
                ) from None
            for out in outs:
                yield to_arch_score(out, proxies)
    finally:
        try:
            ray.get(pool.shutdown.remote(), timeout=30)
        except ray.exceptions.RayActorError:
            pass  # the broker is gone already: nothing left to shut down
        finally:
            ray.kill(pool)


def to_arch_score(out: dict[str, Any], proxies: Sequence[str]) -> Any:
    from zeronas.proxies import ArchScore

    if out.get("result") is not None:
        return ArchScore(**out["result"])
    return ArchScore(
        arch=out["arch"],
        values={p: None for p in proxies},
        seconds={p: 0.0 for p in proxies},
        errors={p: out["error"] for p in proxies},
    )
