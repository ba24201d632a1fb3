"""A worker Ray gave a GPU computes on it or fails in one line; only --device cpu computes on the CPU."""

from __future__ import annotations

import pytest
import torch

from zeronas.errors import ZeronasError
from zeronas.pipeline._worker_device import check_worker_device, worker_device, worker_start_error


def test_device_policy_for_a_worker():
    assert worker_device("cpu", [0], "n1") == "cpu"
    assert worker_device("auto", [], "n1") == worker_device(None, [], "n1") == "cpu"
    with pytest.raises(ZeronasError, match="no GPU; give --gpus-per-worker"):
        worker_device("cuda", [], "n1")
    if torch.cuda.is_available():
        assert worker_device("auto", [0], "n1") == "cuda"
    else:
        with pytest.raises(ZeronasError, match=r"node n1 was given GPU 0 but its torch cannot use CUDA") as err:
            worker_device("auto", [0], "n1")
        assert f"torch.version.cuda={torch.version.cuda}" in str(err.value) and "--device cpu" in str(err.value)
    with pytest.raises(ZeronasError, match="not one of auto, cpu, cuda"):
        check_worker_device("tpu")
    wrapped = RuntimeError("ActorDiedError: creation task failed\n  File x\nzeronas.errors.ZeronasError: it broke\n")
    assert str(worker_start_error(wrapped, "the pool")) == "it broke"
    lost = worker_start_error(RuntimeError("\nnode lost\nmore"), "the pool")
    assert str(lost) == "the pool failed to start: node lost"


def test_device_cpu_keeps_the_gpu_placement_and_is_recorded(ray_session, tmp_path):
    from zeronas.logs import open_log, read_run_config
    from zeronas.pipeline import ExperimentSpec, run_experiment

    out = tmp_path / "runs"
    # --device cpu keeps the (logical) GPU placement, computes on the CPU and says so
    spec = ExperimentSpec(budget=4, workers=1, gpus_per_worker=1, device="cpu", out=str(out), quiet=True)
    result = run_experiment(spec)
    config = read_run_config(result.run_dir)["config"]
    assert config["spec"]["device"] == "cpu" and config["run"]["device"] == "cpu"
    rows = open_log([result.run_dir]).to_table().to_pylist()
    assert len(rows) == 4 and {r["device"] for r in rows} == {"cpu"}
