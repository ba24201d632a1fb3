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


def training_trial(config: dict[str, Any], run: RunConfig) -> None:
    cand = config["candidate"]
    if run.train_simulate:
        from zeronas.groundtruth import open_ground_truth

        truth = open_ground_truth(run.benchmark, run.space)
        acc = truth.lookup(cand["arch"], run.dataset, metric="valid", epochs=12)
        tune.report({"val_acc": acc if acc is not None else float("nan"), "epoch": 12, "missing": acc is None})
        return

    import ray

    from zeronas.pipeline._ray_session import node_name
    from zeronas.pipeline._training import train_arch
    from zeronas.pipeline._worker_device import worker_device

    gpu_ids = ray.get_gpu_ids()
    device = worker_device(run.device, gpu_ids, node_name())
    label = f"cuda:{gpu_ids[0]}" if device == "cuda" else "cpu"

    def report(epoch: int, val_acc: float) -> None:
        tune.report({"val_acc": val_acc, "epoch": epoch, "device": label})

    train_arch(
        run.space,
        cand["arch"],
        data=run.data,
        dataset=run.dataset,
        epochs=run.train_epochs,
        seed=int(cand["seed"]),
        device=device,
        max_train_samples=run.train_samples,
        channels=run.train_channels,
        layers=run.train_layers,
        report=report,
    )


class TrainingLogCallback(Callback):
    """Writes one `train` row per candidate when its trial ends (finished or stopped early)."""

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
                "accuracy_source": f"{self.run.dataset}_valid_acc_12ep" if simulated else "trained",
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
