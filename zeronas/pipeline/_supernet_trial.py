"""A supernet's training as one Tune trial, placed like stage 3's trials (one GPU where the scorers use GPUs).

The training itself is ``zeronas.bossnas.train_supernet``; this module only runs it under Tune: the trial
reports every epoch with the checkpoint file as a Tune checkpoint, and a restarted trial (Tune's
``max_failures``) resumes from the last one it reported. The driver copies the final checkpoint to ``--out``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from zeronas._atomic import atomic_write
from zeronas.errors import ZeronasError

#: the checkpoint file inside a Tune checkpoint's folder
CHECKPOINT_FILE = "supernet.ckpt"


def supernet_data(config: dict[str, Any]):
    """``(training images, held-out rating images)``: ``rating_images`` of the CIFAR training split held out
    as stage 3 holds out its validation images (seeded, stratified), the rest to train on."""
    from zeronas.data import load_cifar
    from zeronas.pipeline._holdout import split_holdout

    images, labels = load_cifar(config["data"], config["settings"]["dataset"], "train", limit=config["limit"])
    train, held_out = split_holdout(labels, config["rating_images"], config["settings"]["seed"])
    return images[train], images[held_out]


def supernet_trial(config: dict[str, Any]) -> None:
    """Train with ``config``'s settings, resuming from the trial's Tune checkpoint, else from ``resume_from``."""
    import ray
    from ray import tune

    from zeronas.bossnas import BossSettings, train_supernet
    from zeronas.pipeline._ray_session import node_name
    from zeronas.pipeline._worker_device import worker_device

    gpu_ids = ray.get_gpu_ids()
    device = worker_device(config["device"], gpu_ids, node_name())
    train, held_out = supernet_data(config)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / CHECKPOINT_FILE
        restored = tune.get_checkpoint()
        if restored is not None:
            with restored.as_directory() as folder:
                shutil.copy(Path(folder) / CHECKPOINT_FILE, path)
        elif config["resume_from"]:
            shutil.copy(config["resume_from"], path)

        def report(record: dict[str, Any]) -> None:
            with tempfile.TemporaryDirectory() as folder:
                shutil.copy(path, Path(folder) / CHECKPOINT_FILE)
                tune.report({**record, "device": device}, checkpoint=tune.Checkpoint.from_directory(folder))

        settings = BossSettings(**config["settings"])
        train_supernet(train, held_out, settings, path, device, path.exists(), report)


def train_on_ray(
    config: dict[str, Any],
    out: Path,
    *,
    address: str | None,
    gpus_per_worker: float | None,
    wait_for_workers: float,
    max_failures: int,
) -> None:
    """Run :func:`supernet_trial` as one Tune trial and copy its last checkpoint to ``out``; Tune's own files go
    beside it, in ``.OUT.tune`` (on a cluster, ``out``'s folder must be shared storage, as a run folder is)."""
    from ray import tune

    from zeronas.pipeline._placement import read_capacity, training_resources
    from zeronas.pipeline._ray_session import ensure_ray
    from zeronas.pipeline._training_stage import TrialsWaitBound
    from zeronas.pipeline._worker_device import worker_start_error

    ensure_ray(address)
    resources = training_resources(read_capacity(), gpus_per_worker)
    tuner = tune.Tuner(
        tune.with_resources(supernet_trial, resources),
        param_space=config,
        run_config=tune.RunConfig(
            name=f".{out.name}.tune",
            storage_path=str(out.parent.resolve()),
            callbacks=[TrialsWaitBound(wait_for_workers)],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            failure_config=tune.FailureConfig(max_failures=max_failures),
            verbose=0,
        ),
    )
    result = tuner.fit()[0]
    if result.checkpoint is not None:
        with result.checkpoint.as_directory() as folder, atomic_write(out) as fh:
            fh.write((Path(folder) / CHECKPOINT_FILE).read_bytes())
    if result.error is not None:
        raise worker_start_error(result.error, "the supernet's training trial")
    if result.checkpoint is None:
        raise ZeronasError("the supernet's training trial reported no checkpoint")
