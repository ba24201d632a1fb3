"""Supernet-training searches (``rarts``, ``darts-1st``, ``milenas``): one Tune trial per search.

Where a zero-shot search asks, scores and tells, one of these trains the space's relaxed supernet
(``zeronas.weight_sharing.train_supernet``) and derives one architecture from α. The trial holds what a
stage-3 training trial holds (one GPU where the scorer pool would use GPUs, else a CPU; ``--device``
decides where it computes), reports every epoch with the supernet's checkpoint to Tune, and starts from
Tune's last checkpoint when it is restored (a killed driver resumed with ``--resume``) or retried (a lost
worker; ``FailureConfig(max_failures=2)`` as the proposal stage). When the training ends it reports its
rows: a ``derive`` row (the arch, the epochs trained and ``train_device_seconds``, the seconds its training
epochs took on its device over every resume), then, with a benchmark, the stage-2 rows every search has —
the derived arch as the one validated candidate and its ``test`` row, built by the functions the proposal
stage uses — so the search returns one arch, validated and tested once, and stage 3 trains it like any top-k candidate.

The driver runs this stage after the proposal stage has shut the scorer pool down, so the two never
compete for a GPU. A search whose ``derive`` row is logged is not trained again on resume.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray import tune
from ray.tune import Callback

from zeronas.pipeline._proposal import index_or_none, returned_row, validation_row
from zeronas.pipeline._results import EvaluatedArch, logged_stages

if TYPE_CHECKING:
    from zeronas.pipeline._run_config import RunConfig
    from zeronas.pipeline._spec import ExperimentSpec


def supernet_trial(config: dict[str, Any], run: RunConfig) -> None:
    import ray

    from zeronas.pipeline._ray_session import node_name
    from zeronas.pipeline._spec import supernet_recipe
    from zeronas.pipeline._worker_device import worker_device
    from zeronas.spaces import get_space
    from zeronas.weight_sharing import checkpoint_epoch, train_supernet

    search = config["search"]
    space = get_space(run.space)
    recipe = supernet_recipe(run.space, run.supernet_epochs, search.get("options") or {})
    gpu_ids = ray.get_gpu_ids()
    device = worker_device(run.device, gpu_ids, node_name())
    label = f"cuda:{gpu_ids[0]}" if device == "cuda" else "cpu"
    base = run.row_base(search)
    started = time.monotonic()

    def on_epoch(report) -> None:
        with tempfile.TemporaryDirectory() as folder:
            report.save(folder)
            metrics = {"epoch": report.epoch, "arch": report.arch, "device_seconds": report.seconds, "device": label}
            metrics["resumed_after"] = resumed_after
            metrics |= {f"loss_{name}": value for name, value in report.losses.items()}
            tune.report({**metrics, "rows": [], "done": 0}, checkpoint=tune.Checkpoint.from_directory(folder))

    with contextlib.ExitStack() as stack:
        checkpoint = tune.get_checkpoint()
        resume = stack.enter_context(checkpoint.as_directory()) if checkpoint is not None else None
        resumed_after = checkpoint_epoch(resume) if resume is not None else 0
        result = train_supernet(
            space,
            search["algorithm"],
            recipe,
            data=run.data,
            dataset=run.dataset,
            seed=int(search["seed"]),
            device=device,
            resume=resume,
            on_epoch=on_epoch,
        )
    arch = result.arch
    costs = {"params": float(space.params(arch, run.num_classes)), "flops": float(space.flops(arch, run.num_classes))}
    elapsed = time.monotonic() - started
    rows = [
        {
            **base,
            "stage": "derive",
            "arch": arch,
            "index": index_or_none(space, arch),
            "canonical": space.canonical(arch),
            "objective": f"{search['algorithm']} supernet",
            "epochs": result.epochs_run,
            "params": int(costs["params"]),
            "flops": costs["flops"],
            "in_space": space.in_space(arch),
            "device": label,
            "node": node_name(),
            "iteration": 1,
            "elapsed": elapsed,
            "timestamp": datetime.now(timezone.utc),
            "train_device_seconds": result.seconds,
        }
    ]
    if run.benchmark:
        from zeronas.groundtruth import open_ground_truth

        truth = open_ground_truth(run.benchmark, run.space)
        acc = truth.lookup(arch, run.validate_dataset, metric=run.metric, epochs=run.epochs)
        derived = EvaluatedArch(arch, space.canonical(arch), {}, None, 1, costs)
        validated = validation_row(derived, 1, acc, None, base, run, space, elapsed)
        rows += [validated, returned_row([validated], base, run, elapsed)]
        for row in rows[1:]:
            row["objective"] = rows[0]["objective"]
    tune.report(
        {"rows": rows, "done": 1, "device_seconds": result.seconds, "device": label, "resumed_after": resumed_after}
    )


class EpochLines(Callback):
    """One stderr line per supernet epoch: a search may train for hours with nothing else to show."""

    def __init__(self, run: RunConfig) -> None:
        self.run = run

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        from zeronas.pipeline._spec import supernet_recipe

        if result.get("done") or "epoch" not in result:
            return
        search = trial.config["search"]
        epochs = supernet_recipe(self.run.space, self.run.supernet_epochs, search.get("options") or {}).epochs
        losses = ", ".join(f"{k[5:]} {v:.3f}" for k, v in result.items() if k.startswith("loss_"))
        print(
            f"{search['search_id']}: epoch {result['epoch']}/{epochs}, {result['device_seconds']:.0f} s on "
            f"{result['device']}; "
            f"losses {losses}",
            file=sys.stderr,
            flush=True,
        )


def run_supernet_stage(
    spec: ExperimentSpec, run: RunConfig, searches: list[dict[str, Any]], tune_dir: Path, resume: bool
) -> None:
    """Train every supernet search not trained yet, as Tune trials on the training placement; rows to the log."""
    from zeronas.errors import ZeronasError
    from zeronas.pipeline._log_callback import LogCallback
    from zeronas.pipeline._placement import read_capacity, training_resources
    from zeronas.pipeline._spec import supernet_recipe
    from zeronas.pipeline._training_stage import TrialsWaitBound
    from zeronas.pipeline._worker_device import worker_start_error

    done = {sid for sid, stage in logged_stages(run) if stage == "derive"}
    todo = [s for s in searches if s["search_id"] not in done]
    if not todo:
        return
    resources = training_resources(read_capacity(), spec.gpus_per_worker)
    epochs = sorted({supernet_recipe(run.space, run.supernet_epochs, s.get("options") or {}).epochs for s in todo})
    if not spec.quiet:
        held = ", ".join(f"{k.upper()} {v:g}" for k, v in resources.items())
        print(
            f"supernet searches: {len(todo)} training trial(s), each holding {held} (a GPU where the scorers would "
            f"use GPUs), {'/'.join(map(str, epochs))} epochs; --device {run.device}",
            file=sys.stderr,
            flush=True,
        )
    trainable = tune.with_resources(tune.with_parameters(supernet_trial, run=run), resources)
    path = tune_dir / "supernet"
    if resume and tune.Tuner.can_restore(str(path)):
        tuner = tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"search": tune.grid_search(todo)},
            tune_config=tune.TuneConfig(max_concurrent_trials=len(todo)),
            run_config=tune.RunConfig(
                name="supernet",
                storage_path=str(tune_dir),
                callbacks=[LogCallback(run.run_id), TrialsWaitBound(spec.wait_for_workers)]
                + ([] if spec.quiet else [EpochLines(run)]),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                failure_config=tune.FailureConfig(max_failures=2),
                verbose=0,
            ),
        )
    results = tuner.fit()
    for result in results:
        if not spec.quiet and (result.metrics or {}).get("resumed_after"):
            sid = result.config["search"]["search_id"]
            print(f"{sid}: resumed from its checkpoint after epoch {result.metrics['resumed_after']}", file=sys.stderr)
    errors = [r.error for r in results if r.error is not None]
    if errors:
        raise ZeronasError(f"{len(errors)} supernet search(es) failed: {worker_start_error(errors[0], 'supernet')}")
