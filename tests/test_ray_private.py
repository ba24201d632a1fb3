"""Each private Ray API zeronas reads (pipeline/_ray_private.py), against the installed (pinned) Ray:
the call still exists and answers in the layout zeronas parses, and a moved one gives a note, not an error."""

from __future__ import annotations

import time

import pytest

from zeronas.pipeline import _ray_private
from zeronas.pipeline._placement import read_capacity


def test_gcs_node_groups_is_reachable_and_a_local_cluster_reports_none(ray_session):
    import ray._private.state

    assert callable(ray._private.state.state.get_cluster_config)
    reading = _ray_private.gcs_node_groups()
    assert reading.value is None and reading.note == "the GCS holds no autoscaler node groups", reading


def test_gcs_node_groups_parses_the_cluster_config_message(monkeypatch):
    from types import SimpleNamespace

    import ray._private.state
    from ray.core.generated import autoscaler_pb2

    config = autoscaler_pb2.ClusterConfig()
    group = config.node_group_configs.add(name="gpu_worker", min_count=0, max_count=4)
    group.resources.update({"CPU": 4, "GPU": 1})
    monkeypatch.setattr(ray._private.state, "state", SimpleNamespace(get_cluster_config=lambda: config))
    reading = _ray_private.gcs_node_groups()
    assert reading.value == [_ray_private.NodeGroup("gpu_worker", {"CPU": 4.0, "GPU": 1.0}, 0, 4)]


def test_a_moved_api_is_a_note_naming_it(monkeypatch):
    import ray._private.state

    monkeypatch.setattr(ray._private.state, "state", object())
    reading = _ray_private.gcs_node_groups()
    assert reading.value is None and "get_cluster_config is gone from this Ray" in reading.note


def test_the_autoscaling_status_names_the_node_types_of_a_fixed_cluster(ray_session):
    deadline = time.monotonic() + 60
    status = _ray_private.autoscaling_status()
    while not (status.value or {}).get("autoscaler_report") and time.monotonic() < deadline:
        time.sleep(0.5)
        status = _ray_private.autoscaling_status()
    assert status.value is not None, status.note
    types = _ray_private.reported_node_types(status.value)
    assert types.value and all(_ray_private.READONLY_NODE_TYPE.match(t) for t in types.value), types
    capacity = read_capacity()  # a `ray start` / ray.init cluster: known, and it cannot grow
    assert capacity.known and capacity.launchable == [] and "fixed cluster" in capacity.source


def test_a_changed_status_layout_is_a_note():
    assert "layout changed" in _ray_private.reported_node_types({"autoscaler_report": {"active_nodes": {}}}).note
    assert "no autoscaler_report" in _ray_private.reported_node_types({"load_metrics_report": {}}).note


def test_the_autoscalers_infeasible_event_is_parsed_as_ray_words_it():
    """The message comes from Ray's own StandardAutoscaler._report_pending_infeasible, so a rewording fails here."""
    from types import SimpleNamespace

    from ray._private import ray_constants
    from ray.autoscaler._private.autoscaler import StandardAutoscaler
    from ray.autoscaler._private.event_summarizer import EventSummarizer

    autoscaler = SimpleNamespace(
        resource_demand_scheduler=SimpleNamespace(is_feasible=lambda bundle: bundle.get("GPU", 0) < 2),
        event_summarizer=EventSummarizer(),
    )
    StandardAutoscaler._report_pending_infeasible(autoscaler, [{"CPU": 0.5, "GPU": 2.0}, {"CPU": 1.0}])
    messages = autoscaler.event_summarizer.summary()
    assert len(messages) == 1
    # as monitor.py logs it to monitor.log, whose lines the GCS forwards to drivers
    line = f"2026-01-01 00:00:00,000 INFO monitor.py:1 -- {ray_constants.LOG_PREFIX_EVENT_SUMMARY}{messages[0]}"
    assert _ray_private.infeasible_in([line, "Resized to 2 CPUs, 1 GPUs."]) == [{"CPU": 0.5, "GPU": 2.0}]


def test_following_the_autoscalers_events_subscribes_and_polls_within_its_timeout(ray_session):
    events = _ray_private.AutoscalerEvents()
    try:
        assert events.note == ""
        t0 = time.monotonic()
        reading = events.infeasible(0.2)
        assert reading.value == [] and time.monotonic() - t0 < 30
    finally:
        events.close()
    assert events.infeasible(0.2).value is None  # closed: nothing more is followed


def test_a_moved_log_subscriber_is_a_note(monkeypatch, ray_session):
    import ray._raylet

    monkeypatch.delattr(ray._raylet, "GcsLogSubscriber")
    events = _ray_private.AutoscalerEvents()
    assert "cannot follow the autoscaler's events" in events.note
    assert events.infeasible(0.1).value is None


@pytest.mark.parametrize("fails", ["import", "call"])
def test_the_autoscaling_status_read_failing_is_a_note(monkeypatch, fails):
    import ray.experimental.internal_kv as kv

    def broken(key):
        raise ConnectionError("GCS unreachable")

    if fails == "import":
        monkeypatch.delattr(kv, "_internal_kv_get")
        assert "internal_kv is gone" in _ray_private.autoscaling_status().note
    else:
        monkeypatch.setattr(kv, "_internal_kv_get", broken)
        assert "GCS unreachable" in _ray_private.autoscaling_status().note
