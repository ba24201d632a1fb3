"""The driver: validate an experiment, start the scorer pool, run the Tune stages, log, read the results back."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import secrets
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from zeronas.errors import ZeronasError
from zeronas.pipeline._results import collect, finished_searches, logged_stages
from zeronas.pipeline._spec import ExperimentSpec, algorithm_options, load_spec, search_id, validate


@dataclass
class ExperimentResult:
    run_id: str
    run_dir: Path
    top: dict[str, list[dict[str, Any]]]
    #: per search: the one architecture it returns (see ``collect_returned``)
    returned: dict[str, dict[str, Any]]
    pool_stats: dict[str, Any]
    seconds: float


def command_line() -> str:
    """The command that started the run, as typed (``python -m zeronas`` shown as ``zeronas``)."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if program in ("zeronas", "__main__.py"):
        return shlex.join(["zeronas", *sys.argv[1:]])
    return shlex.join(sys.argv)


def versions() -> dict[str, str]:
    """What produced the run (recorded in ``_run.json``; read from package metadata, nothing imported)."""
    from zeronas import __version__

    found = {"zeronas": __version__, "python": platform.python_version()}
    for name in ("torch", "ray", "optuna"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def run_experiment(spec: ExperimentSpec, *, resume: bool | str = False) -> ExperimentResult:
    """Run (or resume) an experiment end to end; returns the top-k of every search."""
    from zeronas.logs import LogWriter
    from zeronas.pipeline._log_callback import Sink, register_sink, unregister_sink
    from zeronas.pipeline._placement import read_capacity, scorer_pool_config
    from zeronas.pipeline._progress import SearchProgress
    from zeronas.pipeline._ray_session import ensure_ray
    from zeronas.search_algos import is_training_search

    t0 = time.monotonic()
    if resume:
        saved, run_id = load_spec(spec.out, resume if isinstance(resume, str) else None)
        spec = dataclasses.replace(saved, **{name: getattr(spec, name) for name in ExperimentSpec.RUNTIME_FIELDS})
    else:
        run_id = datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    spec, run = validate(spec)
    out = Path(spec.out).expanduser().resolve()
    _check_writable(out)

    ensure_ray(spec.address)
    pool_config, placement_note = scorer_pool_config(spec, run, read_capacity())
    zero_shot_run = not all(is_training_search(a) for a in spec.algos)
    if not spec.quiet and zero_shot_run:
        print(placement_note, file=sys.stderr, flush=True)
    run = dataclasses.replace(
        run,
        run_id=run_id,
        run_dir=str(out / f"run={run_id}"),
        pool_name=f"zeronas-pool-{run_id}",
        max_in_flight=max(16, 4 * pool_config.workers * pool_config.chunk_size * pool_config.in_flight_per_worker),
        result_timeout=spec.wait_for_workers + 120,
    )

    searches = [
        {
            "search_id": search_id(a, s),
            "algorithm": a,
            "seed": s,
            "proxy_seed": s if run.proxy_seed is None else run.proxy_seed,
            "options": algorithm_options(spec, a),
        }
        for a in spec.algos
        for s in spec.seeds
    ]
    recorded = {k: v for k, v in dataclasses.asdict(run).items() if k != "scorer_kwargs"}
    recorded["proxy_protocol"] = {**run.proxy_protocol, "seeds": {s["search_id"]: s["proxy_seed"] for s in searches}}
    config = {"spec": spec.to_config(), "run": recorded, "command": command_line(), "versions": versions()}
    writer = LogWriter(out, run_id, run.proxies, config=config)
    zero_shot = [s for s in searches if not is_training_search(s["algorithm"])]
    shown = [s["search_id"] for s in zero_shot]
    progress = SearchProgress(shown, run.budget if spec.budget else None, quiet=spec.quiet)
    register_sink(run_id, Sink(writer, progress.update))
    tune_dir = out / "_tune" / run_id
    pool_stats: dict[str, Any] = {}
    # a resumed run whose zero-shot searches have all finished starts no scorer pool
    finished = finished_searches(run, logged_stages(run)) if resume else set()
    if any(s["search_id"] not in finished for s in zero_shot):
        pool_stats = _proposal_stage(spec, run, zero_shot, pool_config, progress, writer, tune_dir, bool(resume))
    try:
        training = [s for s in searches if is_training_search(s["algorithm"])]
        if training:
            from zeronas.pipeline._supernet_stage import run_supernet_stage

            writer.flush()
            run_supernet_stage(spec, run, training, tune_dir, bool(resume))
            writer.flush()
        if spec.train_epochs:
            from zeronas.pipeline._training_driver import run_training_stage

            run_training_stage(spec, run, searches, tune_dir)
        writer.close()
    finally:
        unregister_sink(run_id)
    ids = [s["search_id"] for s in searches]
    top, returned = collect(run, ids)
    return ExperimentResult(run_id, Path(run.run_dir), top, returned, pool_stats, time.monotonic() - t0)


def _proposal_stage(spec, run, searches, pool_config, progress, writer, tune_dir: Path, resume: bool) -> dict:
    """Stages 1-2 of the zero-shot searches on the scorer pool, shut down when they end (the supernet searches
    after them then have every GPU); returns the pool's stats."""
    import ray
    from ray import tune

    from zeronas.pipeline._log_callback import LogCallback
    from zeronas.pipeline._placement import WorkerWatch
    from zeronas.pipeline._pool import start_pool
    from zeronas.pipeline._proposal import proposal_trial
    from zeronas.pipeline._trial_watch import TrialPlacementWatch

    run_id = run.run_id
    resume_hint = f"continue with `zeronas search --out {spec.out} --resume {run_id}`"
    pool = start_pool(pool_config, name=run.pool_name)
    ray.get(pool.start.remote(), timeout=60)
    try:
        trainable = tune.with_resources(tune.with_parameters(proposal_trial, run=run), {"cpu": 0.01})
        kind = "GPU" if pool_config.gpus_per_worker else "CPU"
        with progress, WorkerWatch(pool, lambda up, wanted: progress.workers(up, wanted, kind)):
            if resume and tune.Tuner.can_restore(str(tune_dir / "proposal")):
                tuner = tune.Tuner.restore(
                    str(tune_dir / "proposal"), trainable, resume_unfinished=True, resume_errored=True
                )
            else:
                tuner = tune.Tuner(
                    trainable,
                    param_space={"search": tune.grid_search(searches)},
                    tune_config=tune.TuneConfig(max_concurrent_trials=len(searches)),
                    run_config=tune.RunConfig(
                        name="proposal",
                        storage_path=str(tune_dir),
                        callbacks=[LogCallback(run_id), TrialPlacementWatch(run.result_timeout, resume_hint)],
                        verbose=0,
                        failure_config=tune.FailureConfig(max_failures=2),
                    ),
                )
            results = tuner.fit()
        writer.flush()
        pool_stats = ray.get(pool.stats.remote(), timeout=60)
        if pool_stats["unavailable"]:
            raise ZeronasError(
                f"{pool_stats['unavailable']}; the rows scored so far are in {run.run_dir}: {resume_hint}"
            )
        errors = [r.error for r in results if r.error is not None]
        if errors:
            raise ZeronasError(f"{len(errors)} search(es) failed: {errors[0]}")
    finally:
        # killed even when its shutdown fails or times out: a broker left alive keeps its scorers, and with them
        # the cluster's CPUs and GPUs, from every later run
        with contextlib.suppress(Exception):
            ray.get(pool.shutdown.remote(), timeout=30)
        with contextlib.suppress(Exception):
            ray.kill(pool)
        writer.flush()
    return pool_stats


def _check_writable(out: Path) -> None:
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise ZeronasError(f"cannot write to {out}: choose another --out")
