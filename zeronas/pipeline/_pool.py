"""A shared pool of scorer actors behind one asynchronous broker actor.

Why a broker: several Tune trials (one per search) score at once. ``ray.util.ActorPool``
balances only within one caller, so each caller would keep its own view of which actor is
free. The broker keeps one FIFO queue of small chunks for all callers and a fixed number of
requests in flight per actor, so every caller gets its fair share and no actor idles while
work is queued. When an actor dies (a crash, a node removed), its chunk goes back to the
front of the queue and a replacement actor is started: no architecture is lost and, since a
chunk's result is delivered once, none is reported twice.

Chunks are sized by cost: the broker keeps a running estimate of the workers' seconds per arch
and cuts each chunk, when an actor takes it, to about ``chunk_seconds`` of scoring (many cheap
archs, few expensive ones; never more than a fair share of the request per live worker). Per
chunk the broker pays two actor calls, so with a free proxy chunk size, not scoring, sets its
ceiling (``benchmarks/pool_ceiling.py``).

A chunk goes only to an actor that has answered ``ready``: an actor Ray cannot place yet (its
node is still being launched, or no capacity is left) holds no work, so scoring starts with
the first worker up and takes more as nodes arrive. The wait is bounded: with no worker up for
``wait_for_workers`` seconds the pool gives up, failing every queued and later request with
:class:`WorkersUnavailable`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

from zeronas.pipeline import _ray_private
from zeronas.pipeline._scorer_actor import scorer_actor_class
from zeronas.pipeline._worker_device import worker_start_error

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
    #: archs per chunk until a cost is observed (and always, when ``chunk_seconds`` is None)
    chunk_size: int = 2
    #: seconds of scoring a chunk holds, from the observed seconds per arch (None: fixed ``chunk_size``)
    chunk_seconds: float | None = 0.1
    max_chunk_size: int = 512
    max_attempts: int = 3
    plugins: tuple[str, ...] = ()
    wait_for_workers: float = 600.0
    #: the node types the autoscaler can launch were unknown at placement: while no worker is up, give up
    #: early if the autoscaler reports the workers' request infeasible
    watch_autoscaler: bool = False


class WorkersUnavailable(RuntimeError):
    """No scorer worker was up for longer than the pool may wait."""


@dataclass
class _Request:
    """One caller's archs, cut into chunks as actors take them; its future gets every row, in order."""

    archs: list[str]
    future: asyncio.Future
    #: proxy seed of the request (None: the scorers' default): searches sharing the pool differ in it
    seed: int | None = None
    taken: int = 0  # archs handed out as chunks so far
    rows: list[Any] = field(default_factory=list)
    missing: int = 0

    def __post_init__(self) -> None:
        self.rows = [None] * len(self.archs)
        self.missing = len(self.archs)

    def deliver(self, start: int, rows: list[dict[str, Any]]) -> None:
        self.rows[start : start + len(rows)] = rows
        self.missing -= len(rows)
        if self.missing == 0 and not self.future.done():
            self.future.set_result(self.rows)

    def fail(self, err: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(err)


@dataclass
class _Chunk:
    request: _Request
    start: int
    archs: list[str]
    attempts: int = 0

    @property
    def seed(self) -> int | None:
        return self.request.seed


def chunk_size(config: PoolConfig, seconds_per_arch: float | None, queued: int, workers: int) -> int:
    """Archs in the next chunk: ``chunk_seconds`` of scoring at the observed cost, at most a fair share of
    the ``queued`` archs among the pool's ``workers`` (so a short queue still spreads over every worker)."""
    if config.chunk_seconds is None or not seconds_per_arch:
        size = config.chunk_size
    else:
        size = int(config.chunk_seconds / seconds_per_arch)
    share = -(-queued // max(1, workers))
    return max(1, min(size, config.max_chunk_size, share))


@dataclass
class _Stats:
    submitted: int = 0
    scored: int = 0
    chunks: int = 0
    retried_chunks: int = 0
    replaced_workers: int = 0
    failed_archs: int = 0
    failed_starts: int = 0
    per_worker: dict[str, int] = field(default_factory=dict)
    per_node: dict[str, int] = field(default_factory=dict)


class ScorerBroker:
    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        #: requests not fully handed out, and chunks of a dead actor waiting for another (at the front)
        self._queue: collections.deque[_Request | _Chunk] = collections.deque()
        self._queued = 0  # archs in the queue, not yet handed out
        #: running estimate of a worker's seconds per arch (None until a chunk came back)
        self._seconds_per_arch: float | None = None
        self._warm: set[str] = set()  # workers that have scored a chunk
        self._wakeup: asyncio.Condition | None = None
        self._actors: dict[str, Any] = {}
        self._live: dict[str, dict[str, Any]] = {}  # actors that answered ready(): their description
        self._no_live_since: float | None = time.monotonic()
        self._unavailable: str | None = None
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
        self._no_live_since = time.monotonic()
        for _ in range(self.config.workers):
            self._spawn()
        asyncio.get_running_loop().create_task(self._watch())

    def _spawn(self) -> None:
        name = f"a{self._next_actor}"
        self._next_actor += 1
        actor = self._actor_class.remote(
            self.config.scorer_kwargs, self.config.threads_per_worker, tuple(self.config.plugins)
        )
        self._actors[name] = actor
        asyncio.get_running_loop().create_task(self._start(name, actor))

    async def _start(self, name: str, actor: Any) -> None:
        """Wait (as long as it takes) for Ray to place and start the actor, then let it take chunks."""
        try:
            info = await actor.ready.remote()
        except (RayActorError, ActorDiedError, ActorUnavailableError) as err:
            if name not in self._actors:
                return  # retired while waiting
            reason = str(worker_start_error(err, "a scorer worker"))
            if "ZeronasError" in str(err):  # the worker's own configuration error: a new one fails alike
                self._give_up(reason)
                return
            log.warning("scorer %s did not start (%s); starting another", name, type(err).__name__)
            self._stats.failed_starts += 1
            if self._stats.failed_starts >= self.config.max_attempts * max(1, self.config.workers):
                self._give_up(f"scorer workers keep failing to start: {reason}")
                return
            self._retire(name, actor)
            return
        if name not in self._actors:
            return
        self._live[name] = info
        self._no_live_since = None
        for _ in range(max(1, self.config.in_flight_per_worker)):
            asyncio.get_running_loop().create_task(self._serve(name, actor))

    async def _watch(self) -> None:
        """Give up when no worker has been up for ``wait_for_workers`` seconds, or earlier when the
        autoscaler reports the workers' request infeasible (no node type it can launch holds it)."""
        want = {"CPU": self.config.cpus_per_worker, "GPU": self.config.gpus_per_worker}
        asks = ", ".join(f"{k} {v:g}" for k, v in want.items() if v)
        events = _ray_private.AutoscalerEvents() if self.config.watch_autoscaler else None
        if events is not None and events.note:
            log.warning("%s; waiting up to --wait-for-workers for the scorer workers", events.note)
        try:
            while self._unavailable is None:
                if events is None or events.note:
                    await asyncio.sleep(0.5)
                    infeasible: list[dict[str, float]] = []
                else:
                    reading = await asyncio.to_thread(events.infeasible, 0.5)
                    infeasible = reading.value or []
                    if reading.value is None:
                        log.warning("%s; waiting up to --wait-for-workers for the scorer workers", reading.note)
                if self._live or self._no_live_since is None:
                    if events is not None:  # a worker is up: the pool works, the autoscaler need not be followed
                        events.close()
                        events = None
                    continue
                waited = time.monotonic() - self._no_live_since
                if any(_same_request(request, want) for request in infeasible):
                    self._give_up(
                        f"the autoscaler reports that no node type it can launch holds a scorer worker asking "
                        f"for {asks}; change --gpus-per-worker / --cpus-per-worker"
                    )
                elif waited > self.config.wait_for_workers:
                    self._give_up(
                        f"no scorer worker was up for {waited:.0f} s (--wait-for-workers): Ray could not place "
                        f"{len(self._actors)} worker(s) asking for {asks}"
                    )
        finally:
            if events is not None:
                events.close()

    def _give_up(self, reason: str) -> None:
        self._unavailable = reason
        log.error("scorer pool gives up: %s", reason)
        self._queued = 0
        while self._queue:
            item = self._queue.popleft()
            (item if isinstance(item, _Request) else item.request).fail(WorkersUnavailable(reason))

    async def _next_chunk(self) -> _Chunk:
        assert self._wakeup is not None
        async with self._wakeup:
            while not self._queue:
                await self._wakeup.wait()
            head = self._queue[0]
            if isinstance(head, _Chunk):
                chunk = self._queue.popleft()
            else:
                # shared among every worker asked for, up or starting: one that comes up soon finds work left
                size = chunk_size(self.config, self._seconds_per_arch, self._queued, len(self._actors))
                size = min(size, len(head.archs) - head.taken)
                chunk = _Chunk(head, head.taken, head.archs[head.taken : head.taken + size])
                head.taken += size
                if head.taken >= len(head.archs):
                    self._queue.popleft()
            self._queued -= len(chunk.archs)
            if self._queue:  # one request makes many chunks: wake the next idle server for the rest
                self._wakeup.notify()
            return chunk

    async def _put(self, item: _Request | _Chunk, *, front: bool = False) -> None:
        assert self._wakeup is not None
        if self._unavailable is not None:
            (item if isinstance(item, _Request) else item.request).fail(WorkersUnavailable(self._unavailable))
            return
        async with self._wakeup:
            (self._queue.appendleft if front else self._queue.append)(item)
            self._queued += len(item.archs) - (item.taken if isinstance(item, _Request) else 0)
            self._wakeup.notify()

    def _observe(self, archs: int, seconds: float) -> None:
        """Update the seconds-per-arch estimate (an exponential average over chunks) that sizes chunks."""
        per_arch = seconds / max(1, archs)
        old = self._seconds_per_arch
        self._seconds_per_arch = per_arch if old is None else 0.8 * old + 0.2 * per_arch

    async def _serve(self, name: str, actor: Any) -> None:
        while name in self._actors and self._unavailable is None:
            chunk = await self._next_chunk()
            if name not in self._actors or self._unavailable is not None:  # replaced or given up while waiting
                await self._put(chunk, front=True)
                return
            chunk.attempts += 1
            try:
                rows, seconds = await actor.score_many.remote(chunk.archs, chunk.seed)
            except (RayActorError, ActorDiedError, ActorUnavailableError) as err:
                log.warning("scorer %s failed (%s); rescheduling %d archs", name, type(err).__name__, len(chunk.archs))
                self._retire(name, actor)
                self._stats.retried_chunks += 1
                if chunk.attempts >= self.config.max_attempts:
                    self._stats.failed_archs += len(chunk.archs)
                    chunk.request.deliver(chunk.start, [_worker_failure(a, err, chunk.attempts) for a in chunk.archs])
                else:
                    await self._put(chunk, front=True)
                return
            except Exception as err:  # a bug inside the scorer: report per arch, keep going
                chunk.request.deliver(chunk.start, [_worker_failure(a, err, chunk.attempts) for a in chunk.archs])
                continue
            for row in rows:
                row["attempts"] = chunk.attempts
            if name in self._warm:  # a worker's first chunk pays its one-time set-up: not a cost per arch
                self._observe(len(rows), seconds)
            self._warm.add(name)
            if rows:  # a chunk is scored by one worker on one node
                worker, node = rows[0]["worker_id"], rows[0]["node"]
                self._stats.per_worker[worker] = self._stats.per_worker.get(worker, 0) + len(rows)
                self._stats.per_node[node] = self._stats.per_node.get(node, 0) + len(rows)
            self._stats.scored += len(rows)
            self._stats.chunks += 1
            chunk.request.deliver(chunk.start, rows)

    def _retire(self, name: str, actor: Any) -> None:
        if self._actors.pop(name, None) is None:
            return  # another in-flight request already replaced it
        self._live.pop(name, None)
        if not self._live and self._no_live_since is None:
            self._no_live_since = time.monotonic()
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # already gone
            pass
        self._stats.replaced_workers += 1
        self._spawn()

    async def score(self, archs: list[str], seed: int | None = None) -> list[dict[str, Any]]:
        """Score ``archs`` under proxy seed ``seed`` (None: the scorers' default); results in the same order.
        Raises :class:`WorkersUnavailable` once the pool gave up."""
        await self._ensure_started()
        if self._unavailable is not None:
            raise WorkersUnavailable(self._unavailable)
        if not archs:
            return []
        request = _Request(list(archs), asyncio.get_running_loop().create_future(), seed)
        self._stats.submitted += len(archs)
        await self._put(request)
        return await request.future

    async def start(self) -> None:
        """Start the workers (scoring starts them too); returns at once."""
        await self._ensure_started()

    async def warm_up(self) -> list[dict[str, Any]]:
        """Wait until every worker has started; returns their descriptions."""
        await self._ensure_started()
        return await asyncio.gather(*(a.ready.remote() for a in list(self._actors.values())))

    async def seconds_per_arch(self) -> float | None:
        """A worker's observed seconds per arch (None before any chunk came back): callers size requests by it."""
        return self._seconds_per_arch

    async def workers_up(self) -> dict[str, Any]:
        """How many workers are up of how many the pool wants, and why it gave up, if it did."""
        return {"up": len(self._live), "wanted": self.config.workers, "unavailable": self._unavailable}

    async def worker_handles(self) -> dict[str, Any]:
        """The workers that are up (placed and started)."""
        await self._ensure_started()
        return {name: self._actors[name] for name in self._live if name in self._actors}

    async def stats(self) -> dict[str, Any]:
        s = self._stats
        return {
            "submitted": s.submitted,
            "scored": s.scored,
            "chunks": s.chunks,
            "seconds_per_arch": self._seconds_per_arch,
            "retried_chunks": s.retried_chunks,
            "replaced_workers": s.replaced_workers,
            "failed_archs": s.failed_archs,
            "per_worker": dict(s.per_worker),
            "per_node": dict(s.per_node),
            "failed_starts": s.failed_starts,
            "workers": len(self._actors),
            "workers_up": len(self._live),
            "unavailable": self._unavailable,
        }

    async def shutdown(self) -> None:
        for actor in list(self._actors.values()):
            ray.kill(actor, no_restart=True)
        self._actors.clear()
        self._live.clear()


def _same_request(reported: dict[str, float], want: dict[str, float]) -> bool:
    return {k: v for k, v in reported.items() if v} == {k: v for k, v in want.items() if v}


def _worker_failure(arch: str, err: BaseException, attempts: int) -> dict[str, Any]:
    return {
        "result": None,
        "arch": arch,
        "attempts": attempts,
        "error": f"worker failed {attempts}x: {type(err).__name__}: {err}"[:500],
    }


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
