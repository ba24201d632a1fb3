"""A shared pool of scorer actors behind one asynchronous broker actor.

Why a broker: several Tune trials (one per search) score at once. ``ray.util.ActorPool``
balances only within one caller, so each caller would keep its own view of which actor is
free. The broker keeps one FIFO queue of small chunks for all callers and a fixed number of
requests in flight per actor, so every caller gets its fair share and no actor idles while
work is queued. When an actor dies (a crash, a node removed), its chunk goes back to the
front of the queue and a replacement actor is started: no architecture is lost and, since a
chunk's result is delivered once, none is reported twice.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

from zeronas.pipeline._scorer_actor import scorer_actor_class

log = logging.getLogger(__name__)

POOL_NAMESPACE = "zeronas"


@dataclass
class PoolConfig:
    scorer_kwargs: dict[str, Any]
    workers: int = 2
    gpus_per_worker: float = 0.0
    cpus_per_worker: float = 0.5
    threads_per_worker: int = 1
    in_flight_per_worker: int = 2
    chunk_size: int = 2
    max_attempts: int = 3
    plugins: tuple[str, ...] = ()


@dataclass
class _Chunk:
    archs: list[str]
    future: asyncio.Future
    attempts: int = 0


@dataclass
class _Stats:
    submitted: int = 0
    scored: int = 0
    retried_chunks: int = 0
    replaced_workers: int = 0
    failed_archs: int = 0
    per_worker: dict[str, int] = field(default_factory=dict)
    per_node: dict[str, int] = field(default_factory=dict)


class ScorerBroker:
    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._queue: collections.deque[_Chunk] = collections.deque()
        self._wakeup: asyncio.Condition | None = None
        self._actors: dict[str, Any] = {}
        self._stats = _Stats()
        self._next_actor = 0
        self._started = False
        self._actor_class = scorer_actor_class(
            num_cpus=config.cpus_per_worker,
            num_gpus=config.gpus_per_worker,
        )

    async def _ensure_started(self) -> None:
        if self._started:
            return
        self._started = True
        self._wakeup = asyncio.Condition()
        for _ in range(self.config.workers):
            self._spawn()

    def _spawn(self) -> None:
        name = f"a{self._next_actor}"
        self._next_actor += 1
        actor = self._actor_class.remote(
            self.config.scorer_kwargs, self.config.threads_per_worker, tuple(self.config.plugins)
        )
        self._actors[name] = actor
        for _ in range(max(1, self.config.in_flight_per_worker)):
            asyncio.get_running_loop().create_task(self._serve(name, actor))

    async def _next_chunk(self) -> _Chunk:
        assert self._wakeup is not None
        async with self._wakeup:
            while not self._queue:
                await self._wakeup.wait()
            return self._queue.popleft()

    async def _put(self, chunk: _Chunk, *, front: bool = False) -> None:
        assert self._wakeup is not None
        async with self._wakeup:
            (self._queue.appendleft if front else self._queue.append)(chunk)
            self._wakeup.notify()

    async def _serve(self, name: str, actor: Any) -> None:
        while name in self._actors:
            chunk = await self._next_chunk()
            if name not in self._actors:  # replaced while waiting
                await self._put(chunk, front=True)
                return
            chunk.attempts += 1
            try:
                rows = await actor.score_many.remote(chunk.archs)
            except (RayActorError, ActorDiedError, ActorUnavailableError) as err:
                log.warning("scorer %s failed (%s); rescheduling %d archs", name, type(err).__name__, len(chunk.archs))
                self._retire(name, actor)
                self._stats.retried_chunks += 1
                if chunk.attempts >= self.config.max_attempts:
                    self._stats.failed_archs += len(chunk.archs)
                    chunk.future.set_result([_worker_failure(a, err, chunk.attempts) for a in chunk.archs])
                else:
                    await self._put(chunk, front=True)
                return
            except Exception as err:  # a bug inside the scorer: report per arch, keep going
                chunk.future.set_result([_worker_failure(a, err, chunk.attempts) for a in chunk.archs])
                continue
            for row in rows:
                self._stats.per_worker[row["worker_id"]] = self._stats.per_worker.get(row["worker_id"], 0) + 1
                self._stats.per_node[row["node"]] = self._stats.per_node.get(row["node"], 0) + 1
            self._stats.scored += len(rows)
            chunk.future.set_result(rows)

    def _retire(self, name: str, actor: Any) -> None:
        if self._actors.pop(name, None) is None:
            return  # another in-flight request already replaced it
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone
            pass
        self._stats.replaced_workers += 1
        self._spawn()

    async def score(self, archs: list[str]) -> list[dict[str, Any]]:
        """Score ``archs``; results in the same order."""
        await self._ensure_started()
        loop = asyncio.get_running_loop()
        size = max(1, self.config.chunk_size)
        chunks = [_Chunk(archs[i : i + size], loop.create_future()) for i in range(0, len(archs), size)]
        self._stats.submitted += len(archs)
        for chunk in chunks:
            await self._put(chunk)
        results = await asyncio.gather(*(c.future for c in chunks))
        return [row for rows in results for row in rows]

    async def warm_up(self) -> list[dict[str, Any]]:
        """Wait until every worker has started; returns their descriptions."""
        await self._ensure_started()
        return await asyncio.gather(*(a.ready.remote() for a in list(self._actors.values())))

    async def worker_handles(self) -> dict[str, Any]:
        await self._ensure_started()
        return dict(self._actors)

    async def stats(self) -> dict[str, Any]:
        s = self._stats
        return {
            "submitted": s.submitted,
            "scored": s.scored,
            "retried_chunks": s.retried_chunks,
            "replaced_workers": s.replaced_workers,
            "failed_archs": s.failed_archs,
            "per_worker": dict(s.per_worker),
            "per_node": dict(s.per_node),
            "workers": len(self._actors),
        }

    async def shutdown(self) -> None:
        for actor in list(self._actors.values()):
            ray.kill(actor, no_restart=True)
        self._actors.clear()


def _worker_failure(arch: str, err: BaseException, attempts: int) -> dict[str, Any]:
    return {"result": None, "arch": arch, "error": f"worker failed {attempts}x: {type(err).__name__}: {err}"[:500]}


def start_pool(config: PoolConfig, *, name: str | None = None) -> Any:
    """Start the broker actor (named, so Tune trials can look it up)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    # The broker lives on the driver's node: losing another node must not lose the queue.
    here = ray.get_runtime_context().get_node_id()
    options: dict[str, Any] = {
        "num_cpus": 0,
        "max_concurrency": 10_000,
        "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=here, soft=False),
    }
    if name:
        options.update(name=name, namespace=POOL_NAMESPACE, lifetime=None)
    return ray.remote(ScorerBroker).options(**options).remote(config)


def get_pool(name: str) -> Any:
    return ray.get_actor(name, namespace=POOL_NAMESPACE)
