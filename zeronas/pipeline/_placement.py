"""Where scorer actors and training trials go: what the Ray cluster has now and what its
autoscaler can still add.

A cluster started with ``ray up cluster.yaml`` has no GPU at first (GPU workers start at
``min_workers: 0``), so sizing by ``ray.cluster_resources()`` alone would score on the head's
CPUs and never ask for a GPU node. The node types an autoscaler can launch come from the GCS
(autoscaler v2, KubeRay) or, for the default (v1) autoscaler, from the config the launcher
wrote on the head node, ``~/ray_bootstrap_config.yaml``, the file Ray's own Tune and usage
stats read, used only when its node types are the ones the running autoscaler reports.

Where zeronas cannot see them (Ray Client, KubeRay's v1 autoscaler, a head started by hand
with its own ``--autoscaling-config``), "unknown" is not "nothing can hold it": an explicit
request is placed as asked and the autoscaler answers, within ``--wait-for-workers`` (the pool
gives up early when the autoscaler reports the request infeasible). Every placement comes with
one line saying what was found and why it chose CPU or GPU.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeronas.errors import ZeronasError
from zeronas.pipeline import _ray_private

if TYPE_CHECKING:
    from zeronas.pipeline._pool import PoolConfig
    from zeronas.pipeline._run_config import RunConfig
    from zeronas.pipeline._spec import ExperimentSpec

LAUNCHER_CONFIG = "~/ray_bootstrap_config.yaml"
DEFAULT_WAIT_SECONDS = 600.0
#: how long to wait for a v1 autoscaler's first status (its monitor writes one every 5 s by default)
STATUS_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class NodeType:
    """A node type an autoscaler may launch: its resources and how many of it at most (-1: no limit)."""

    name: str
    resources: dict[str, float]
    max_count: int


@dataclass(frozen=True)
class Capacity:
    nodes: list[dict[str, float]]  # total resources of each live node
    launchable: list[NodeType]  # empty on a cluster that cannot grow, or whose node types are unknown
    #: False when zeronas could not see what the autoscaler can launch (then requests are not refused)
    known: bool = True
    #: where the node types came from, or why they could not be seen
    source: str = ""

    @property
    def autoscaling(self) -> bool:
        return bool(self.launchable)

    def total(self, resource: str) -> float:
        return sum(n.get(resource, 0.0) for n in self.nodes)

    def most(self, resource: str) -> float:
        """How much of ``resource`` the cluster can have: what it has, or what its autoscaler's node types
        add up to at their maximum counts (the launched ones are among the live nodes), whichever is more."""
        if any(t.max_count < 0 and t.resources.get(resource, 0.0) > 0 for t in self.launchable):
            return math.inf
        launchable = sum(t.resources.get(resource, 0.0) * t.max_count for t in self.launchable)
        return max(self.total(resource), launchable)

    def can_ever_place(self, bundle: dict[str, float]) -> bool:
        shapes = self.nodes + [t.resources for t in self.launchable]
        return any(all(shape.get(k, 0.0) >= v for k, v in bundle.items() if v > 0) for shape in shapes)

    def describe(self) -> str:
        if not self.known:
            has = "; ".join(_fmt_resources(n) for n in self.nodes) or "nothing"
            return f"its nodes have {has} and zeronas could not see its autoscaler's node types ({self.source})"
        if not self.launchable:
            return "its nodes have " + "; ".join(_fmt_resources(n) for n in self.nodes) if self.nodes else "no node"
        kinds = ", ".join(f"{t.name} ({_fmt_resources(t.resources)})" for t in self.launchable)
        return f"its autoscaler can launch {kinds}"


@dataclass(frozen=True)
class Placement:
    """What each scorer actor asks Ray for, and how many of them the pool wants."""

    workers: int
    gpus_per_worker: float
    cpus_per_worker: float
    #: one line: what was found and why CPU or GPU
    note: str = ""

    @property
    def bundle(self) -> dict[str, float]:
        bundle = {"CPU": self.cpus_per_worker, "GPU": self.gpus_per_worker}
        return {k: v for k, v in bundle.items() if v}

    @property
    def kind(self) -> str:
        return "GPU" if self.gpus_per_worker else "CPU"


def read_capacity() -> Capacity:
    """The live nodes and, where an autoscaler runs, the node types it can launch (Ray must be up)."""
    import ray

    nodes = [{k: float(v) for k, v in n["Resources"].items()} for n in ray.nodes() if n.get("Alive")]
    groups = _ray_private.gcs_node_groups()
    if groups.value is not None:
        return Capacity(nodes, _launchable_groups(groups.value), source="the GCS (autoscaler v2 / KubeRay)")
    status = _ray_private.autoscaling_status(wait=STATUS_WAIT_SECONDS)
    if status.value is None:
        return Capacity(nodes, [], known=False, source=f"{groups.note}; {status.note}")
    reported = _ray_private.reported_node_types(status.value)
    if reported.value is None:
        return Capacity(nodes, [], known=False, source=f"{groups.note}; {reported.note}")
    if reported.value and all(_ray_private.READONLY_NODE_TYPE.match(t) for t in reported.value):
        return Capacity(nodes, [], source="a fixed cluster: its autoscaler cannot launch nodes")
    launchable = _node_types_from_launcher_config(reported.value)
    if launchable is None:
        why = f"the autoscaler runs node types {', '.join(sorted(reported.value))}, not described by {LAUNCHER_CONFIG}"
        return Capacity(nodes, [], known=False, source=why)
    return Capacity(nodes, launchable, source=LAUNCHER_CONFIG)


def _launchable_groups(groups: list[_ray_private.NodeGroup]) -> list[NodeType]:
    return [
        NodeType(g.name, g.resources, g.max_count)
        for g in groups
        if g.max_count != 0 and (g.max_count < 0 or g.max_count > g.min_count)
    ]


def plan_scorers(
    capacity: Capacity,
    *,
    workers: int | None,
    gpus_per_worker: float | None,
    cpus_per_worker: float,
    threads_per_worker: int,
) -> Placement:
    """``workers`` and ``gpus_per_worker`` are requests; None picks the default: one scorer per GPU
    the cluster has or its autoscaler can launch, else one per CPU it has now."""
    max_gpus = capacity.most("GPU")
    asked_gpus = gpus_per_worker
    if gpus_per_worker is None:
        gpus_per_worker = 1.0 if max_gpus > 0 else 0.0
    if workers is None:
        if gpus_per_worker > 0:
            gpus = max_gpus if math.isfinite(max_gpus) else max(capacity.total("GPU"), gpus_per_worker)
            workers = max(1, int(gpus / gpus_per_worker))
        else:
            workers = max(1, int(capacity.total("CPU") / max(threads_per_worker, 1)))
    placement = Placement(workers, gpus_per_worker, cpus_per_worker)
    require_placeable(capacity, placement.bundle, "a scorer worker", "--gpus-per-worker / --cpus-per-worker")
    return dataclasses.replace(placement, note=_placement_note(capacity, placement, asked_gpus))


def _placement_note(capacity: Capacity, placement: Placement, asked_gpus: float | None) -> str:
    scorers = f"{placement.workers} {placement.kind} scorer(s)"
    if asked_gpus is not None:
        why = f"as asked (--gpus-per-worker {asked_gpus:g})"
        if not capacity.known:
            why += (
                f"; the autoscaler's node types are unknown ({capacity.source}): "
                "the autoscaler answers within --wait-for-workers"
            )
        return f"placement: {scorers} {why}"
    if not capacity.known:
        seen = "the live nodes' GPUs" if placement.kind == "GPU" else "no GPU on the live nodes"
        return (
            f"placement: {scorers} ({seen}): zeronas could not see the autoscaler's node types ({capacity.source}); "
            f"to have the autoscaler launch GPU nodes, ask with --gpus-per-worker 1"
        )
    if capacity.launchable:
        types = ", ".join(f"{t.name} ({_fmt_resources(t.resources)})" for t in capacity.launchable)
        found = f"node types {types} from {capacity.source}"
    else:
        found = f"{capacity.source or 'a fixed cluster'}, nodes with {_fmt_resources(_sum(capacity.nodes))}"
    why = "one per GPU it has or can launch" if placement.kind == "GPU" else "no GPU it has or can launch"
    return f"placement: {scorers} ({why}): found {found}"


def _sum(nodes: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for node in nodes:
        for k, v in node.items():
            total[k] = total.get(k, 0.0) + v
    return total


def training_resources(capacity: Capacity, gpus_per_worker: float | None) -> dict[str, float]:
    """A training trial's Tune resources: one GPU where the scorers use GPUs (same default), else a CPU."""
    uses_gpu = gpus_per_worker > 0 if gpus_per_worker is not None else capacity.most("GPU") > 0
    resources = {"cpu": 1.0, "gpu": 1.0} if uses_gpu else {"cpu": 1.0}
    require_placeable(capacity, {k.upper(): v for k, v in resources.items()}, "a training trial", "--gpus-per-worker 0")
    return resources


def require_placeable(capacity: Capacity, bundle: dict[str, float], what: str, fix: str) -> None:
    """Fail now, not after a wait, when no node the cluster has or can launch could ever hold ``bundle``
    (never when the node types the autoscaler can launch are unknown: it answers then)."""
    if capacity.known and not capacity.can_ever_place(bundle):
        raise ZeronasError(
            f"{what} asks for {_fmt_resources(bundle)} but no node can hold it: the cluster {capacity.describe()}; "
            f"change {fix}"
        )


def parse_duration(text: str | float, flag: str = "--wait-for-workers") -> float:
    """``600``, ``90s``, ``10m``, ``1h`` -> seconds."""
    s = str(text).strip().lower()
    scale = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(s[-1:], None)
    try:
        value = float(s[:-1]) * scale if scale else float(s)
    except ValueError:
        raise ZeronasError(f"bad {flag} {text!r}: give seconds (90, 90s) or minutes (10m)") from None
    if not value > 0 or not math.isfinite(value):
        raise ZeronasError(f"{flag} must be > 0, got {text!r}")
    return value


def format_duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _fmt_resources(resources: dict[str, float]) -> str:
    shown = {k: v for k, v in resources.items() if v and not k.startswith(("node:", "memory", "object_store_memory"))}
    return ", ".join(f"{k} {v:g}" for k, v in sorted(shown.items())) or "no CPU/GPU"


def _node_types_from_launcher_config(reported: set[str], path: str = LAUNCHER_CONFIG) -> list[NodeType] | None:
    """Worker node types from the cluster launcher's config, when it describes this cluster."""
    file = Path(path).expanduser()
    if not reported or not file.is_file():
        return None
    import yaml

    try:
        config = yaml.safe_load(file.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    types = config.get("available_node_types") or {}
    if not reported <= set(types):  # a config of another cluster (a plain `ray start` reports node_<id> types)
        return None
    cluster_max = int(config.get("max_workers", -1))
    out = []
    for name, spec in types.items():
        if name == config.get("head_node_type"):
            continue
        max_count = int(spec.get("max_workers", cluster_max))
        if cluster_max >= 0:
            max_count = min(max_count, cluster_max) if max_count >= 0 else cluster_max
        if max_count != 0:
            out.append(NodeType(name, {k: float(v) for k, v in (spec.get("resources") or {}).items()}, max_count))
    return out


def scorer_pool_config(spec: ExperimentSpec, run: RunConfig, capacity: Capacity) -> tuple[PoolConfig, str]:
    """An experiment's scorer pool: its requests (``--workers``, ``--gpus-per-worker``) resolved on ``capacity``,
    and the placement line."""
    from zeronas.pipeline._pool import PoolConfig

    placement = plan_scorers(
        capacity,
        workers=spec.workers,
        gpus_per_worker=spec.gpus_per_worker,
        cpus_per_worker=spec.cpus_per_worker,
        threads_per_worker=spec.threads_per_worker,
    )
    config = PoolConfig(
        scorer_kwargs=run.scorer_kwargs,
        workers=placement.workers,
        gpus_per_worker=placement.gpus_per_worker,
        cpus_per_worker=placement.cpus_per_worker,
        threads_per_worker=spec.threads_per_worker,
        plugins=tuple(spec.plugins),
        wait_for_workers=spec.wait_for_workers,
        watch_autoscaler=not capacity.known,
    )
    return config, placement.note


class WorkerWatch:
    """Polls the pool's worker count into the progress display ("waiting for GPU workers: k of N up")."""

    def __init__(self, pool: Any, show: Callable[[int, int], None], every: float = 1.0) -> None:
        self._pool, self._show, self._every = pool, show, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zeronas-worker-watch", daemon=True)

    def __enter__(self) -> WorkerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import ray

        while not self._stop.is_set():
            try:
                state = ray.get(self._pool.workers_up.remote(), timeout=30)
            except Exception:  # the pool is shutting down; the driver reports why
                return
            self._show(state["up"], state["wanted"])
            self._stop.wait(self._every)
