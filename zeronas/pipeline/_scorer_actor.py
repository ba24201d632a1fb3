"""One long-lived Ray actor that builds networks and computes proxies."""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from typing import Any

import ray

from zeronas.pipeline._ray_session import node_name
from zeronas.pipeline._worker_device import worker_device


class ScorerWorker:
    """Holds an :class:`~zeronas.proxies.ArchScorer` on its own device.

    A GPU worker (``num_gpus > 0`` in its Ray options) scores on the GPU Ray assigned to
    it, unless ``scorer_kwargs["device"]`` is ``cpu``; one whose torch cannot use CUDA
    fails to start (:func:`~zeronas.pipeline._worker_device.worker_device`). A CPU worker
    pins torch to ``threads`` threads so that several workers share a node's cores
    instead of oversubscribing them.
    """

    def __init__(self, scorer_kwargs: dict[str, Any], threads: int = 1, plugins: tuple[str, ...] = ()) -> None:
        import torch

        from zeronas.plugins import load_plugins
        from zeronas.proxies import ArchScorer
        from zeronas.spaces import get_space

        load_plugins(plugins)

        torch.set_num_threads(max(1, threads))
        gpu_ids = ray.get_gpu_ids()
        node_id = ray.get_runtime_context().get_node_id()
        self.node = f"{node_name()}/{node_id[:8]}"
        self.device = worker_device(scorer_kwargs.get("device"), gpu_ids, self.node)
        self.scorer = ArchScorer(**{**scorer_kwargs, "device": self.device})
        self.space = get_space(scorer_kwargs["space"])
        self.worker_id = f"w-{uuid.uuid4().hex[:8]}"
        self.gpu_ids = [str(g) for g in gpu_ids]
        self.device_label = f"cuda:{gpu_ids[0]}" if self.device == "cuda" else "cpu"

    def ready(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "node": self.node,
            "device": self.device_label,
            "gpu_ids": self.gpu_ids,
            "pid": os.getpid(),
        }

    def score_many(self, archs: list[str], seed: int | None = None) -> tuple[list[dict[str, Any]], float]:
        """Proxies of ``archs`` under proxy seed ``seed`` (None: the pool's default), and the seconds they
        took here (the broker sizes its chunks from them)."""
        start = time.perf_counter()
        rows = [self._score_one(arch, seed) for arch in archs]
        return rows, time.perf_counter() - start

    def _score_one(self, arch: str, seed: int | None) -> dict[str, Any]:
        result = self.scorer.score(arch, seed)
        num_classes, resolution = self.scorer.num_classes, self.scorer.resolution
        return {
            # a plain dict, not the ArchScore: unpickling that would import torch into the
            # broker and every search trial (~180 MB each)
            "result": dataclasses.asdict(result),
            # costs here rather than in the search's trial: they are computed in parallel
            "params": int(self.space.params(arch, num_classes)),
            "flops": float(self.space.flops(arch, num_classes, resolution)),
            "worker_id": self.worker_id,
            "node": self.node,
            "device": self.device_label,
            "scored_at": time.time(),
        }


def scorer_actor_class(*, num_cpus: float, num_gpus: float):
    """The remote class with the resource request for this pool.

    One call at a time per actor (Ray queues the others, so the next chunk starts without a
    round trip): scoring seeds torch's global RNG before building each network, and two
    threads doing that at once would give an arch different weights.
    """
    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=0)(ScorerWorker).options(
        scheduling_strategy="SPREAD"
    )
