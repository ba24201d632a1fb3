"""Pool sizing and placement decisions from what a cluster has and what its autoscaler can launch."""

from __future__ import annotations

import copy
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


#: what EC2's DescribeInstanceTypes answers for the repository cluster's instance types (the fields Ray reads)
EC2_INSTANCE_TYPES = [
    {
        "InstanceType": "m5.2xlarge",
        "VCpuInfo": {"DefaultVCpus": 8},
        "MemoryInfo": {"SizeInMiB": 32768},
    },
    {
        "InstanceType": "g5.xlarge",
        "VCpuInfo": {"DefaultVCpus": 4},
        "MemoryInfo": {"SizeInMiB": 16384},
        "GpuInfo": {
            "Gpus": [{"Name": "A10G", "Manufacturer": "NVIDIA", "Count": 1, "MemoryInfo": {"SizeInMiB": 22888}}],
            "TotalGpuMemoryInMiB": 22888,
        },
    },
]


def aws_fillout(config: dict) -> dict:
    """Ray's AWS node provider filling out ``resources`` from the instance types, as ``ray up`` does, with
    the EC2 call answered by botocore's Stubber (which checks the answer against EC2's API model)."""
    pytest.importorskip("boto3", reason="Ray's AWS node provider needs boto3 (pip install -e '.[test]')")
    import boto3
    from botocore.stub import Stubber
    from ray.autoscaler._private.aws import node_provider

    ec2 = boto3.client("ec2", region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test")
    with Stubber(ec2) as stub:
        stub.add_response("describe_instance_types", {"InstanceTypes": EC2_INSTANCE_TYPES}, {})
        original = node_provider.client_cache
        node_provider.client_cache = lambda *args, **kwargs: ec2
        try:
            filled = node_provider.AWSNodeProvider.fillout_available_node_types_resources(config)
        finally:
            node_provider.client_cache = original
        stub.assert_no_pending_responses()
    return filled


def repo_cluster_as_launched(tmp_path: Path) -> Path:
    """The repository's cluster.yaml as `ray up` leaves it on the head node, resources filled out by Ray."""
    config = aws_fillout(yaml.safe_load((Path(__file__).parents[1] / "cluster.yaml").read_text()))
    path = tmp_path / "ray_bootstrap_config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_gpu_node_types_declared_resources_agree_with_what_rays_aws_fillout_detects():
    config = yaml.safe_load((Path(__file__).parents[1] / "cluster.yaml").read_text())
    declared = config["available_node_types"]["gpu_worker"]["resources"]
    assert declared["CPU"] == 4 and declared["GPU"] == 1  # not left to the fill-out, which may fail
    undeclared = copy.deepcopy(config)
    undeclared["available_node_types"]["gpu_worker"]["resources"] = {}
    detected = aws_fillout(undeclared)["available_node_types"]
    assert {k: detected["gpu_worker"]["resources"][k] for k in ("CPU", "GPU")} == {"CPU": 4, "GPU": 1}
    assert detected["gpu_worker"]["resources"]["accelerator_type:A10G"] == 1
    assert detected["head"]["resources"] == {"CPU": 8}


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


def test_unknown_node_types_place_an_explicit_request_as_asked_and_say_how_to_ask_for_gpus():
    unknown = Capacity([HEAD], [], known=False, source="no autoscaler status in the GCS")
    default = plan(unknown)
    assert (default.workers, default.kind) == (8, "CPU")
    assert "could not see the autoscaler's node types (no autoscaler status in the GCS)" in default.note
    assert "ask with --gpus-per-worker 1" in default.note
    asked = plan(unknown, gpus_per_worker=1)  # refused on a cluster known to hold no GPU; here it is placed
    assert (asked.workers, asked.gpus_per_worker) == (1, 1.0)
    assert "as asked (--gpus-per-worker 1)" in asked.note and "the autoscaler answers" in asked.note
    assert plan(unknown, gpus_per_worker=1, workers=4).workers == 4
    assert training_resources(unknown, 1) == {"cpu": 1.0, "gpu": 1.0}
    with pytest.raises(ZeronasError, match="its nodes have CPU 8"):  # the same request where nothing can grow
        plan(Capacity([HEAD], [], source="a fixed cluster"), gpus_per_worker=1)


def test_the_placement_line_names_the_node_types_found_and_why_gpu_or_cpu():
    gpu = Capacity([HEAD], [NodeType("gpu_worker", {"CPU": 4.0, "GPU": 1.0}, 8)], source="~/ray_bootstrap_config.yaml")
    note = plan(gpu).note
    assert note.startswith("placement: 8 GPU scorer(s) (one per GPU it has or can launch)")
    assert "gpu_worker (CPU 4, GPU 1) from ~/ray_bootstrap_config.yaml" in note
    cpu = Capacity([HEAD], [NodeType("cpu_worker", {"CPU": 16.0}, 2)], source="the GCS (autoscaler v2 / KubeRay)")
    assert "8 CPU scorer(s) (no GPU it has or can launch)" in plan(cpu).note
    fixed = plan(Capacity([HEAD], [], source="a fixed cluster: its autoscaler cannot launch nodes")).note
    assert "a fixed cluster" in fixed and "CPU 8" in fixed
