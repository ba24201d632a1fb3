"""Driver side of stage 3: pick the candidates, run them as Tune trials under ASHA, select, test once.

ASHA and the selection read only the validation accuracy on images held out of the training split
(``_holdout``). Per search, the selected candidate (:func:`select_trained`) is then evaluated once on
the CIFAR test split and logged in its own ``train_test`` row; no other candidate is tested.
"""

from __future__ import annotations

from datetime import datetime, timezone
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
        base = run.row_base(s)
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
        # all trained before a resume: a search lacking its train_test row gets one (saying why it has no figure)
        if not spec.train_simulate:
            _test_selected(spec, run, searches, [], {})
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
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            verbose=0,
        ),
    )
    results = tuner.fit()
    errors = [r.error for r in results if r.error is not None]
    if errors and len(errors) == len(cands):
        from zeronas.pipeline._worker_device import worker_start_error

        raise ZeronasError(f"every training trial failed: {worker_start_error(errors[0], 'training')}")
    if not spec.train_simulate:
        _test_selected(spec, run, searches, results, resources)


def select_trained(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The trained candidate a search returns: the most epochs trained (ASHA let it go furthest), then the
    best held-out validation accuracy, then the better proxy rank; None when no candidate has a figure.
    Test accuracy is not an input."""
    scored = [r for r in rows if r.get("accuracy") is not None and r.get("error") is None]
    if not scored:
        return None
    return max(scored, key=lambda r: (r.get("epochs") or 0, r["accuracy"], -r["iteration"]))


def _test_selected(spec: ExperimentSpec, run: RunConfig, searches: list[dict[str, Any]], results, resources) -> None:
    """Per search: select on the logged `train` rows, then test the selected weights once."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from zeronas.logs import open_log
    from zeronas.pipeline._log_callback import sink_for
    from zeronas.pipeline._training_stage import evaluate_selected

    writer = sink_for(run.run_id).writer
    writer.flush()
    rows = [r for r in open_log([run.run_dir]).to_table().to_pylist() if r["stage"] in ("train", "train_test")]
    trials = {}
    for result in results:
        cand = result.config["candidate"]
        if result.error is None and result.checkpoint is not None:
            trials[(cand["base"]["search_id"], cand["arch"])] = result
    evaluate = ray.remote(evaluate_selected)
    for search in searches:
        sid = search["search_id"]
        mine = [r for r in rows if r["search_id"] == sid]
        chosen = select_trained([r for r in mine if r["stage"] == "train"])
        if chosen is None or any(r["stage"] == "train_test" for r in mine):
            continue
        row = {k: chosen.get(k) for k in _CARRIED}
        row.update(stage="train_test", accuracy=None, accuracy_source=f"{run.dataset}_test_acc_trained", error=None)
        trial = trials.get((sid, chosen["arch"]))
        if trial is None:
            row["error"] = "trained before a resume: its weights were not kept, so it has no test figure"
        else:
            task = evaluate.options(
                num_cpus=resources.get("cpu", 1.0),
                num_gpus=resources.get("gpu", 0.0),
                scheduling_strategy=NodeAffinitySchedulingStrategy(trial.metrics["node_id"], soft=False),
            ).remote(run, chosen["arch"], trial.checkpoint.path)
            bound = spec.wait_for_workers + _TEST_SECONDS
            try:
                row.update(ray.get(task, timeout=bound))
            except ray.exceptions.GetTimeoutError:
                ray.cancel(task, force=True)
                row["error"] = f"the test evaluation did not finish within {bound:.0f} s"
            except ray.exceptions.RayError as err:
                row["error"] = f"the test evaluation failed: {str(err).splitlines()[0]}"
        row["timestamp"] = datetime.now(timezone.utc)
        writer.append(row)
    writer.flush()


#: what a `train_test` row keeps of the selected candidate's `train` row
_CARRIED = (
    "run_id",
    "search_id",
    "algorithm",
    "seed",
    "space",
    "dataset",
    "arch",
    "index",
    "canonical",
    "score",
    "objective",
    "epochs",
    "params",
    "flops",
    "iteration",
)
#: compute bound of one test evaluation (10,000 images), on top of the wait for a place to run it
_TEST_SECONDS = 1800.0
