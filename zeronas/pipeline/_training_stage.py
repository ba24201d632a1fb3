"""Stage 3: short training of the top candidates, early-stopped by a Tune scheduler."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ray import tune
from ray.tune import Callback

from zeronas.errors import ZeronasError
from zeronas.pipeline._log_callback import sink_for
from zeronas.pipeline._placement import format_duration

if TYPE_CHECKING:
    from zeronas.pipeline._run_config import RunConfig

#: the trained weights in a training trial's Tune checkpoint
WEIGHTS_FILE = "model.pt"


def training_trial(config: dict[str, Any], run: RunConfig) -> None:
    """One candidate's short training; reports its held-out validation accuracy (never test) after every
    epoch, with the weights as a Tune checkpoint so that the selected one can be tested afterwards."""
    cand = config["candidate"]
    if run.train_simulate:
        from zeronas.groundtruth import open_ground_truth

        truth = open_ground_truth(run.benchmark, run.space)
        acc = truth.lookup(cand["arch"], run.dataset, metric="valid", epochs=12)
        tune.report({"val_acc": acc if acc is not None else float("nan"), "epoch": 12, "missing": acc is None})
        return

    import tempfile
    from pathlib import Path

    import ray
    import torch

    from zeronas.pipeline._ray_session import node_name
    from zeronas.pipeline._training import train_arch
    from zeronas.pipeline._worker_device import worker_device

    gpu_ids = ray.get_gpu_ids()
    device = worker_device(run.device, gpu_ids, node_name())
    label = f"cuda:{gpu_ids[0]}" if device == "cuda" else "cpu"
    node_id = ray.get_runtime_context().get_node_id()

    def report(epoch: int, val_acc: float, model: torch.nn.Module) -> None:
        with tempfile.TemporaryDirectory() as folder:
            torch.save(model.state_dict(), Path(folder) / WEIGHTS_FILE)
            metrics = {"val_acc": val_acc, "epoch": epoch, "device": label, "node_id": node_id}
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))

    train_arch(
        run.space,
        cand["arch"],
        data=run.data,
        dataset=run.dataset,
        epochs=run.train_epochs,
        seed=int(cand["seed"]),
        device=device,
        max_train_samples=run.train_samples,
        holdout=run.train_holdout,
        holdout_seed=run.train_holdout_seed,
        channels=run.train_channels,
        layers=run.train_layers,
        report=report,
    )


def evaluate_selected(run: RunConfig, arch: str, checkpoint_dir: str) -> dict[str, Any]:
    """The CIFAR test accuracy of the selected candidate's trained weights (run as a Ray task on the
    node that holds its checkpoint): ``{"accuracy", "device"}``."""
    from pathlib import Path

    import ray
    import torch

    from zeronas.pipeline._ray_session import node_name
    from zeronas.pipeline._training import evaluate_on_test
    from zeronas.pipeline._worker_device import worker_device

    gpu_ids = ray.get_gpu_ids()
    device = worker_device(run.device, gpu_ids, node_name())
    weights = torch.load(Path(checkpoint_dir) / WEIGHTS_FILE, map_location=device, weights_only=True)
    acc = evaluate_on_test(
        run.space,
        arch,
        weights,
        data=run.data,
        dataset=run.dataset,
        channels=run.train_channels,
        layers=run.train_layers,
        device=device,
    )
    return {"accuracy": acc, "device": f"cuda:{gpu_ids[0]}" if device == "cuda" else "cpu"}


def holdout_source(run: RunConfig) -> str:
    """``accuracy_source`` of a trained candidate's row: accuracy on the held-out training images."""
    return f"{run.dataset}_holdout_acc_trained"


class TrainingLogCallback(Callback):
    """Writes one `train` row per candidate when its trial ends (finished or stopped early): its last
    held-out validation accuracy and the epochs it trained."""

    def __init__(self, run: RunConfig) -> None:
        self.run = run

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._write(trial, error=None)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._write(trial, error="training failed: see the Tune trial log")

    def _write(self, trial: Any, error: str | None) -> None:
        cand = trial.config["candidate"]
        result = trial.last_result or {}
        acc = result.get("val_acc")
        if acc is not None and acc != acc:  # NaN: not in the benchmark
            acc, error = None, error or "not in the benchmark"
        simulated = self.run.train_simulate
        sink_for(self.run.run_id).writer.append(
            {
                **cand["base"],
                "stage": "train",
                "arch": cand["arch"],
                "index": cand.get("index"),
                "canonical": cand["canonical"],
                "score": cand["score"],
                "objective": self.run.objective_spec,
                "accuracy": acc,
                "accuracy_source": f"{self.run.dataset}_valid_acc_12ep" if simulated else holdout_source(self.run),
                "epochs": result.get("epoch"),
                "params": cand.get("params"),
                "flops": cand.get("flops"),
                "device": result.get("device"),
                "iteration": cand["rank"],
                "elapsed": result.get("time_total_s"),
                "timestamp": datetime.now(timezone.utc),
                "error": error,
            }
        )


class TrialsWaitBound(Callback):
    """Ends a Tune run whose trials have all been waiting for resources for longer than ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._waiting_since: float | None = None

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        waiting = [t for t in trials if t.status == "PENDING"]
        if not waiting or any(t.status == "RUNNING" for t in trials):
            self._waiting_since = None
            return
        self._waiting_since = self._waiting_since or time.monotonic()
        if time.monotonic() - self._waiting_since > self.seconds:
            asks = waiting[0].placement_group_factory.required_resources
            raise ZeronasError(
                f"no training trial could start for {format_duration(self.seconds)} (--wait-for-workers): Ray could "
                f"not place {len(waiting)} trial(s) asking for {', '.join(f'{k} {v:g}' for k, v in asks.items())}"
            )
