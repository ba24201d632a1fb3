"""Driver side of stage 3: pick the candidates and run them as Tune trials under ASHA."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeronas.errors import ZeronasError
from zeronas.pipeline._results import collect

if TYPE_CHECKING:
    from zeronas.pipeline._run_config import RunConfig
    from zeronas.pipeline._spec import ExperimentSpec


def training_candidates(run: RunConfig, searches: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    top, _ = collect(run, [s["search_id"] for s in searches])
    by_id = {s["search_id"]: s for s in searches}
    cands = []
    for sid, rows in top.items():
        s = by_id[sid]
        base = {
            "run_id": run.run_id,
            "search_id": sid,
            "algorithm": s["algorithm"],
            "seed": s["seed"],
            "space": run.space,
            "dataset": run.dataset,
        }
        for rank, r in enumerate(rows[:k], start=1):
            if r.get("trained_accuracy") is not None or r.get("trained_epochs") is not None:
                continue  # trained before a resume
            cands.append(
                {
                    "base": base,
                    "arch": r["arch"],
                    "index": r.get("index"),
                    "canonical": r["canonical"],
                    "score": r["score"],
                    "params": r.get("params"),
                    "flops": r.get("flops"),
                    "rank": rank,
                    "seed": s["seed"],
                }
            )
    return cands


def run_training_stage(spec: ExperimentSpec, run: RunConfig, searches: list[dict[str, Any]], tune_dir: Path) -> None:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    from zeronas.pipeline._placement import read_capacity, training_resources
    from zeronas.pipeline._training_stage import TrainingLogCallback, TrialsWaitBound, training_trial

    cands = training_candidates(run, searches, spec.train_top_k or spec.top_k)
    if not cands:
        return
    epochs = 12 if spec.train_simulate else int(spec.train_epochs)
    if spec.train_simulate:
        resources = {"cpu": 0.01}
    else:
        resources = training_resources(read_capacity(), spec.gpus_per_worker)
    scheduler = ASHAScheduler(
        time_attr="epoch", metric="val_acc", mode="max", max_t=max(epochs, 1), grace_period=1, reduction_factor=2
    )
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(training_trial, run=run), resources),
        param_space={"candidate": tune.grid_search(cands)},
        tune_config=tune.TuneConfig(scheduler=scheduler, reuse_actors=True),
        run_config=tune.RunConfig(
            name="training",
            storage_path=str(tune_dir),
            callbacks=[TrainingLogCallback(run), TrialsWaitBound(spec.wait_for_workers)],
            verbose=0,
        ),
    )
    results = tuner.fit()
    errors = [r.error for r in results if r.error is not None]
    if errors and len(errors) == len(cands):
        from zeronas.pipeline._worker_device import worker_start_error

        raise ZeronasError(f"every training trial failed: {worker_start_error(errors[0], 'training')}")
