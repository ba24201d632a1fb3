"""Every Ray API zeronas calls that Ray does not promise to keep, in one place.

What the autoscaler can launch and what it refuses are not in Ray's public API. Each function
here reads one of them and answers ``Reading(value, note)``: ``value`` is None when it could not
be read, and ``note`` then says why in one line (never an error swallowed in silence: a Ray
upgrade that moves one of these shows up in the placement line, and
``tests/test_ray_private.py`` checks each call against the pinned Ray).
"""

from __future__ import annotations

import ast
import json
import re
import time
from dataclasses import dataclass
from typing import Any

#: the internal-KV key the v1 autoscaler (``ray/autoscaler/_private/monitor.py``) writes its status to
AUTOSCALING_STATUS_KEY = "__autoscaling_status"
#: how the v1 autoscaler names the nodes of a cluster it cannot grow (``format_readonly_node_type``)
READONLY_NODE_TYPE = re.compile(r"^node_[0-9a-f]+$")
#: the v1 autoscaler's event for a request no node type can hold (``_report_pending_infeasible``)
INFEASIBLE_EVENT = re.compile(r"No available node types can fulfill resource request (\{[^}]*\})")


@dataclass(frozen=True)
class Reading:
    value: Any
    note: str = ""


@dataclass(frozen=True)
class NodeGroup:
    name: str
    resources: dict[str, float]
    min_count: int
    max_count: int  # -1: no limit


def gcs_node_groups() -> Reading:
    """Node groups autoscaler v2 or KubeRay report to the GCS (``ray._private.state.state.get_cluster_config``)."""
    try:
        import ray._private.state

        get_cluster_config = ray._private.state.state.get_cluster_config
    except (ImportError, AttributeError) as err:
        return Reading(None, f"ray._private.state.state.get_cluster_config is gone from this Ray ({err})")
    try:
        config = get_cluster_config()
    except Exception as err:  # an RPC to the GCS: any failure means "not reported", said in the note
        return Reading(None, f"the GCS gave no cluster config ({type(err).__name__}: {err})")
    if config is None or not config.node_group_configs:
        return Reading(None, "the GCS holds no autoscaler node groups")
    groups = [
        NodeGroup(g.name, {k: float(v) for k, v in g.resources.items()}, int(g.min_count), int(g.max_count))
        for g in config.node_group_configs
    ]
    return Reading(groups)


def autoscaling_status(wait: float = 0.0) -> Reading:
    """The v1 autoscaler's status (the JSON ``ray status`` reads from the internal KV); waits up to ``wait``
    seconds for it to appear (a just-started cluster's monitor writes it within a few seconds)."""
    try:
        from ray.experimental.internal_kv import _internal_kv_get
    except ImportError as err:
        return Reading(None, f"ray.experimental.internal_kv is gone from this Ray ({err})")
    deadline = time.monotonic() + wait
    while True:
        try:
            raw = _internal_kv_get(AUTOSCALING_STATUS_KEY)
        except Exception as err:  # an RPC to the GCS
            return Reading(None, f"the autoscaler status could not be read ({type(err).__name__}: {err})")
        if raw or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    if not raw:
        return Reading(None, f"no autoscaler status in the GCS after {wait:g} s (no v1 autoscaler runs)")
    try:
        return Reading(json.loads(raw))
    except ValueError as err:
        return Reading(None, f"the autoscaler status is not JSON ({err})")


def reported_node_types(status: dict[str, Any]) -> Reading:
    """Node type names the v1 autoscaler reports for the live nodes (``autoscaler_report.node_type_mapping``)."""
    report = status.get("autoscaler_report")
    if report is None:
        return Reading(None, "the autoscaler status has no autoscaler_report (a monitor without an autoscaler)")
    mapping = report.get("node_type_mapping") if isinstance(report, dict) else None
    if not isinstance(mapping, dict):
        return Reading(None, "the autoscaler status layout changed: autoscaler_report.node_type_mapping is missing")
    return Reading(set(mapping.values()))


class AutoscalerEvents:
    """Follows the autoscaler's log lines that the GCS forwards to drivers (what a driver prints as
    ``(autoscaler +5s) Error: No available node types can fulfill resource request {...}``), through
    ``ray._raylet.GcsLogSubscriber``; only lines published after it subscribed are seen."""

    def __init__(self) -> None:
        self._subscriber: Any = None
        self.note = ""
        try:
            import ray
            from ray._raylet import GcsLogSubscriber

            self._subscriber = GcsLogSubscriber(address=ray.get_runtime_context().gcs_address)
            self._subscriber.subscribe()
        except Exception as err:  # moved, or the GCS refused: said in the note
            self._subscriber = None
            self.note = (
                f"cannot follow the autoscaler's events (ray._raylet.GcsLogSubscriber: {type(err).__name__}: {err})"
            )

    def infeasible(self, timeout: float) -> Reading:
        """Requests reported infeasible in the lines that arrive within ``timeout`` seconds (blocks)."""
        if self._subscriber is None:
            return Reading(None, self.note)
        try:
            batch = self._subscriber.poll(timeout=timeout)
        except Exception as err:  # the GCS went away or the layout changed: said in the note
            self.close()
            self.note = f"stopped following the autoscaler's events ({type(err).__name__}: {err})"
            return Reading(None, self.note)
        if not batch or batch.get("pid") != "autoscaler":
            return Reading([])
        return Reading(infeasible_in(batch.get("lines") or []))

    def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None


def infeasible_in(lines: list[str]) -> list[dict[str, float]]:
    """The resource requests the autoscaler's lines report that no node type can hold."""
    requests = []
    for line in lines:
        match = INFEASIBLE_EVENT.search(line)
        if match:
            try:
                requests.append({k: float(v) for k, v in ast.literal_eval(match.group(1)).items()})
            except (ValueError, SyntaxError, AttributeError):
                continue  # not a resource dict: not this event
    return requests
