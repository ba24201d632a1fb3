"""Pool sizing and placement decisions from what a cluster has and what its autoscaler can launch."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from zeronas.errors import ZeronasError
from zeronas.pipeline._placement import (
    Capacity,
    NodeType,
    _node_types_from_launcher_config,
    parse_duration,
    plan_scorers,
    training_resources,
)

HEAD = {"CPU": 8.0, "memory": 3e10, "node:__internal_head__": 1.0}


def plan(capacity: Capacity, **requests):
    return plan_scorers(
        capacity,
        **{"workers": None, "gpus_per_worker": None, "cpus_per_worker": 0.5, "threads_per_worker": 1, **requests},
    )


def repo_cluster_as_launched(tmp_path: Path) -> Path:
    """The repository's cluster.yaml as `ray up` leaves it on the head node: the GPU node type's
    resources filled in from its instance type (g5.xlarge: 4 vCPUs, 1 A10G)."""
    config = yaml.safe_load((Path(__file__).parents[1] / "cluster.yaml").read_text())
    config["available_node_types"]["gpu_worker"]["resources"].update({"CPU": 4, "GPU": 1})
    config["available_node_types"]["head"]["resources"].update({"CPU": 8})
    path = tmp_path / "ray_bootstrap_config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_repository_cluster_gets_a_gpu_scorer_per_launchable_gpu_without_flags(tmp_path):
    path = repo_cluster_as_launched(tmp_path)
    types = _node_types_from_launcher_config({"head"}, str(path))
    assert [(t.name, t.resources["GPU"], t.max_count) for t in types] == [("gpu_worker", 1.0, 8)]
    capacity = Capacity([HEAD], types)
    placement = plan(capacity)
    assert (placement.workers, placement.gpus_per_worker, placement.kind) == (8, 1.0, "GPU")
    assert plan(capacity, gpus_per_worker=0.25).workers == 32
    launched = Capacity([HEAD] + [{"CPU": 4.0, "GPU": 1.0}] * 3, types)  # launched nodes are not counted twice
    assert plan(launched).workers == 8
    assert training_resources(capacity, None) == {"cpu": 1.0, "gpu": 1.0}
    assert training_resources(capacity, 0) == {"cpu": 1.0}


def test_a_launcher_config_of_another_cluster_is_ignored(tmp_path):
    path = repo_cluster_as_launched(tmp_path)
    # a plain `ray start` cluster: the autoscaler reports one anonymous type per node
    assert _node_types_from_launcher_config({"node_0123abcd"}, str(path)) is None
    assert _node_types_from_launcher_config(set(), str(path)) is None
    assert _node_types_from_launcher_config({"head"}, str(tmp_path / "missing.yaml")) is None


def test_fixed_clusters_use_what_they_have():
    cpu_only = Capacity([HEAD], [])
    placement = plan(cpu_only)
    assert (placement.workers, placement.gpus_per_worker) == (8, 0.0)
    with_gpus = Capacity([HEAD, {"CPU": 4.0, "GPU": 2.0}], [])
    assert (plan(with_gpus).workers, plan(with_gpus).gpus_per_worker) == (2, 1.0)
    assert plan(with_gpus, workers=5).workers == 5  # a request: the others wait for capacity


@pytest.mark.parametrize(
    "capacity, requests, fragment",
    [
        (Capacity([HEAD], []), {"gpus_per_worker": 1}, "its nodes have CPU 8"),
        (
            Capacity([HEAD], [NodeType("gpu_worker", {"CPU": 4.0, "GPU": 1.0}, 8)]),
            {"gpus_per_worker": 2},
            "its autoscaler can launch gpu_worker (CPU 4, GPU 1)",
        ),
        (Capacity([HEAD], []), {"cpus_per_worker": 16}, "CPU 16"),
    ],
)
def test_a_request_no_node_can_ever_hold_fails_at_once(capacity, requests, fragment):
    with pytest.raises(ZeronasError, match="no node can hold it") as err:
        plan(capacity, **requests)
    assert fragment in str(err.value) and "--gpus-per-worker" in str(err.value)


def test_durations():
    assert parse_duration("90") == 90 and parse_duration("90s") == 90 and parse_duration("10m") == 600
    assert parse_duration("1h") == 3600 and parse_duration(30) == 30
    for bad in ("soon", "0", "-5m"):
        with pytest.raises(ZeronasError, match="--wait-for-workers"):
            parse_duration(bad)
