"""The driver: validate an experiment, start the scorer pool, run the Tune stages, log."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zeronas.errors import ZeronasError


@dataclass
class ExperimentSpec:
    """Everything a `zeronas search` / `zeronas compare` run needs; saved in the run's `_run.json`."""

    space: str = "tss"
    dataset: str = "cifar10"
    proxy: str = "meco"
    extra_proxies: list[str] = field(default_factory=list)
    algos: list[str] = field(default_factory=lambda: ["rea"])
    seeds: list[int] = field(default_factory=lambda: [0])
    algo_options: dict[str, Any] = field(default_factory=dict)
    dedup_isomorphic: bool = False
    allow_repeats: bool = False
    budget: int | None = 1000
    budget_seconds: float | None = None
    top_k: int = 10
    benchmark: str | None = None
    metric: str = "test"
    epochs: int | None = None
    train_epochs: int = 0
    train_top_k: int | None = None
    train_simulate: bool = False
    train_samples: int | None = None
    data: str | None = None
    proxy_seed: int = 0
    batch_size: int = 64
    plugins: list[str] = field(default_factory=list)
    out: str = "zeronas-runs"
    # runtime only: not part of what makes two runs comparable
    workers: int | None = None
    gpus_per_worker: float | None = None
    cpus_per_worker: float = 0.5
    threads_per_worker: int = 1
    address: str | None = None
    ask_batch: int = 4
    quiet: bool = False

    RUNTIME_FIELDS = ("workers", "gpus_per_worker", "cpus_per_worker", "threads_per_worker", "address", "quiet", "out")

    def to_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class ExperimentResult:
    run_id: str
    run_dir: Path
    top: dict[str, list[dict[str, Any]]]
    pool_stats: dict[str, Any]
    seconds: float


def parse_budget(text: str | int) -> tuple[int | None, float | None]:
    """``1000`` → 1000 evaluations; ``120s`` / ``5m`` → a time budget."""
    s = str(text).strip().lower()
    try:
        if s.endswith("s"):
            value, seconds = float(s[:-1]), True
        elif s.endswith("m"):
            value, seconds = float(s[:-1]) * 60, True
        else:
            value, seconds = int(s), False
    except ValueError:
        raise ZeronasError(f"bad --budget {text!r}: give a number of proxy evaluations (1000) or seconds (120s, 5m)") from None
    if value <= 0:
        raise ZeronasError(f"--budget must be > 0, got {text!r}")
    return (None, value) if seconds else (int(value), None)


def search_id(algo: str, seed: int) -> str:
    return f"{algo.replace(':', '-')}-s{seed}"


def validate(spec: ExperimentSpec) -> dict[str, Any]:
    """Check every input before anything is started or written; returns the trials' run config."""
    from zeronas.datasets import canonical_dataset, num_classes, resolution
    from zeronas.pipeline._objective import Objective
    from zeronas.proxies import ArchScorer, list_proxies
    from zeronas.search_algos import get_algorithm
    from zeronas.spaces import get_space

    from zeronas.plugins import load_plugins

    spec.plugins = [str(Path(p).expanduser().resolve()) if p.endswith(".py") else p for p in spec.plugins]
    load_plugins(spec.plugins)
    space = get_space(spec.space)
    spec.space = space.name
    spec.dataset = canonical_dataset(spec.dataset)
    known = list_proxies()
    objective = Objective.parse(spec.proxy, known)
    extra = [p.strip().lower() for p in spec.extra_proxies if p.strip()]
    for p in extra:
        if p not in known:
            raise ZeronasError(f"unknown proxy {p!r} in --extra-proxies; choose from: {', '.join(known)}")
    proxies = list(dict.fromkeys(objective.proxies + extra))
    if spec.budget is None and spec.budget_seconds is None:
        raise ZeronasError("give a --budget (evaluations, e.g. 1000, or seconds, e.g. 120s)")
    if (spec.budget is not None and spec.budget <= 0) or (spec.budget_seconds is not None and spec.budget_seconds <= 0):
        raise ZeronasError("--budget must be > 0")
    if spec.top_k < 1:
        raise ZeronasError(f"--top-k must be >= 1, got {spec.top_k}")
    if not spec.algos:
        raise ZeronasError("no search algorithm given; use e.g. --algo rea")
    if not spec.seeds:
        raise ZeronasError("no seed given; use e.g. --seeds 3")
    for algo in spec.algos:
        get_algorithm(algo, space=space, seed=0, **algorithm_options(spec, algo))
    if spec.workers is not None and spec.workers < 1:
        raise ZeronasError(f"--workers must be >= 1, got {spec.workers}")
    if spec.gpus_per_worker is not None and spec.gpus_per_worker < 0:
        raise ZeronasError(f"--gpus-per-worker must be >= 0, got {spec.gpus_per_worker}")
    if spec.train_epochs < 0:
        raise ZeronasError(f"--train-epochs must be >= 0, got {spec.train_epochs}")

    epochs = spec.epochs or (200 if space.name == "tss" else 90)
    accuracy_source = f"{spec.dataset}_{spec.metric}_acc_{epochs}ep"
    benchmark = None
    if spec.benchmark:
        from zeronas.groundtruth import open_ground_truth

        benchmark = str(Path(spec.benchmark).expanduser().resolve())
        truth = open_ground_truth(benchmark, space.name)
        truth.lookup(space.arch_at(0), spec.dataset, metric=spec.metric, epochs=epochs)  # column exists?
        if spec.train_epochs and spec.train_simulate:
            truth.lookup(space.arch_at(0), spec.dataset, metric="valid", epochs=12)
    data = str(Path(spec.data).expanduser().resolve()) if spec.data else None
    if spec.train_epochs:
        if spec.train_simulate and not benchmark:
            raise ZeronasError("--train-simulate uses the benchmark's 12-epoch results: pass --benchmark PATH")
        if not spec.train_simulate:
            if not data:
                raise ZeronasError("short training needs --data DIR (CIFAR python batches) or --train-simulate with --benchmark")
            from zeronas.data import load_cifar

            load_cifar(data, spec.dataset, "test")  # readable?
    scorer_kwargs = dict(
        space=space.name, proxies=proxies, dataset=spec.dataset, data=data, seed=spec.proxy_seed, batch_size=spec.batch_size
    )
    ArchScorer(**scorer_kwargs, device="cpu")  # proxies and data are usable

    return {
        "space": space.name,
        "dataset": spec.dataset,
        "num_classes": num_classes(spec.dataset),
        "resolution": resolution(spec.dataset),
        "objective": objective.weights,
        "objective_spec": objective.spec(),
        "proxies": proxies,
        "budget": spec.budget if spec.budget is not None else 10**9,
        "budget_seconds": spec.budget_seconds,
        "top_k": spec.top_k,
        "ask_batch": spec.ask_batch,
        "benchmark": benchmark,
        "metric": spec.metric,
        "epochs": epochs,
        "accuracy_source": accuracy_source,
        "data": data,
        "train_epochs": spec.train_epochs,
        "train_simulate": spec.train_simulate,
        "train_samples": spec.train_samples,
        "scorer_kwargs": scorer_kwargs,
    }


def algorithm_options(spec: ExperimentSpec, algo: str) -> dict[str, Any]:
    """Options for ``algo``: ``spec.algo_options`` keys apply to every algorithm, ``"<algo>.<key>"``
    keys to that one only. Every proposal is a new arch unless --allow-repeats: the budget
    counts distinct evaluations."""
    options: dict[str, Any] = {"dedup_isomorphic": spec.dedup_isomorphic, "avoid_repeats": not spec.allow_repeats}
    options.update({k: v for k, v in spec.algo_options.items() if "." not in k})
    prefix = f"{algo}."
    options.update({k[len(prefix):]: v for k, v in spec.algo_options.items() if k.startswith(prefix)})
    return options


def load_spec(out: str | Path, run_id: str | None) -> tuple[ExperimentSpec, str]:
    """The spec of an earlier run in ``out`` (the newest when ``run_id`` is None)."""
    out = Path(out)
    runs = sorted(out.glob("run=*/_run.json"), key=lambda p: p.stat().st_mtime)
    if run_id:
        runs = [p for p in runs if p.parent.name == f"run={run_id}"]
    if not runs:
        what = f"run {run_id!r}" if run_id else "run"
        raise ZeronasError(f"--resume: found no {what} under {out}; pass the --out of the run to resume")
    meta = json.loads(runs[-1].read_text())
    config = meta.get("config", {}).get("spec")
    if not config:
        raise ZeronasError(f"--resume: {runs[-1]} holds no experiment spec; it was not written by zeronas search")
    known = {f.name for f in dataclasses.fields(ExperimentSpec)}
    return ExperimentSpec(**{k: v for k, v in config.items() if k in known}), runs[-1].parent.name.split("=", 1)[1]


def run_experiment(spec: ExperimentSpec, *, resume: bool | str = False) -> ExperimentResult:
    """Run (or resume) an experiment end to end; returns the top-k of every search."""
    from ray import tune

    from zeronas.logs import LogWriter
    from zeronas.pipeline._log_callback import LogCallback, Sink, register_sink, unregister_sink
    from zeronas.pipeline._pool import start_pool
    from zeronas.pipeline._progress import SearchProgress
    from zeronas.pipeline._proposal import proposal_trial
    from zeronas.pipeline._ray_session import ensure_ray

    t0 = time.monotonic()
    if resume:
        saved, run_id = load_spec(spec.out, resume if isinstance(resume, str) else None)
        for name in ExperimentSpec.RUNTIME_FIELDS:
            setattr(saved, name, getattr(spec, name))
        spec = saved
    else:
        run_id = datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    run = validate(spec)
    out = Path(spec.out).expanduser().resolve()
    _check_writable(out)

    ensure_ray(spec.address)
    pool_config = _pool_config(spec, run)
    run.update(run_id=run_id, run_dir=str(out / f"run={run_id}"), pool_name=f"zeronas-pool-{run_id}")
    run["max_in_flight"] = max(16, 4 * pool_config.workers * pool_config.chunk_size * pool_config.in_flight_per_worker)

    import ray

    pool = start_pool(pool_config, name=run["pool_name"])
    try:
        ray.get(pool.warm_up.remote(), timeout=600)
    except ray.exceptions.GetTimeoutError:
        raise ZeronasError("scorer workers did not start in 10 min: the cluster lacks the resources asked for (--workers, --gpus-per-worker)") from None

    config = {"spec": spec.to_config(), "run": {k: v for k, v in run.items() if k != "scorer_kwargs"}}
    writer = LogWriter(out, run_id, run["proxies"], config=config)
    searches = [
        {"search_id": search_id(a, s), "algorithm": a, "seed": s,
         "options": algorithm_options(spec, a)}
        for a in spec.algos
        for s in spec.seeds
    ]
    progress = SearchProgress([s["search_id"] for s in searches], run["budget"] if spec.budget else None, quiet=spec.quiet)
    register_sink(run_id, Sink(writer, progress.update))
    tune_dir = out / "_tune" / run_id
    try:
        trainable = tune.with_resources(tune.with_parameters(proposal_trial, run=run), {"cpu": 0.01})
        with progress:
            if resume and tune.Tuner.can_restore(str(tune_dir / "proposal")):
                tuner = tune.Tuner.restore(str(tune_dir / "proposal"), trainable, resume_unfinished=True, resume_errored=True)
            else:
                tuner = tune.Tuner(
                    trainable,
                    param_space={"search": tune.grid_search(searches)},
                    tune_config=tune.TuneConfig(max_concurrent_trials=len(searches)),
                    run_config=tune.RunConfig(
                        name="proposal",
                        storage_path=str(tune_dir),
                        callbacks=[LogCallback(run_id)],
                        verbose=0,
                        failure_config=tune.FailureConfig(max_failures=2),
                    ),
                )
            results = tuner.fit()
        writer.flush()
        errors = [r.error for r in results if r.error is not None]
        if errors:
            raise ZeronasError(f"{len(errors)} search(es) failed: {errors[0]}")
        pool_stats = ray.get(pool.stats.remote())
    finally:
        try:
            ray.get(pool.shutdown.remote(), timeout=30)
            ray.kill(pool)
        except Exception:
            pass
        writer.flush()

    try:
        if spec.train_epochs:
            from zeronas.pipeline._training_driver import run_training_stage

            run_training_stage(spec, run, searches, tune_dir)
        writer.close()
    finally:
        unregister_sink(run_id)
    top = collect_top(run, [s["search_id"] for s in searches])
    return ExperimentResult(run_id, Path(run["run_dir"]), top, pool_stats, time.monotonic() - t0)


def _pool_config(spec: ExperimentSpec, run: dict[str, Any]):
    import ray

    from zeronas.pipeline._pool import PoolConfig

    resources = ray.cluster_resources()
    gpus = float(resources.get("GPU", 0))
    gpus_per_worker = spec.gpus_per_worker if spec.gpus_per_worker is not None else (1.0 if gpus else 0.0)
    if gpus_per_worker > 0 and gpus == 0:
        raise ZeronasError(f"--gpus-per-worker {gpus_per_worker} but the Ray cluster has no GPU; use --gpus-per-worker 0")
    if spec.workers is not None:
        workers = spec.workers
    elif gpus_per_worker > 0:
        workers = max(1, int(gpus / gpus_per_worker))
    else:
        workers = max(1, int(resources.get("CPU", 1) / max(spec.threads_per_worker, 1)))
    return PoolConfig(
        scorer_kwargs=run["scorer_kwargs"],
        workers=workers,
        gpus_per_worker=gpus_per_worker,
        cpus_per_worker=spec.cpus_per_worker,
        threads_per_worker=spec.threads_per_worker,
        plugins=tuple(spec.plugins),
    )


def _check_writable(out: Path) -> None:
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise ZeronasError(f"cannot write to {out}: choose another --out")


def collect_top(run: dict[str, Any], search_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per search: its top-k (validated when a benchmark was given), best first, with training results."""
    from zeronas.logs import open_log

    table = open_log([run["run_dir"]]).to_table()
    rows = table.to_pylist()
    top: dict[str, list[dict[str, Any]]] = {}
    for sid in search_ids:
        mine = [r for r in rows if r["search_id"] == sid]
        validated = sorted((r for r in mine if r["stage"] == "validate"), key=lambda r: r["iteration"])
        if validated:
            chosen = validated
        else:
            from zeronas.pipeline._objective import Objective
            from zeronas.pipeline._proposal import _Evaluated, top_k

            proxy_rows = [r for r in mine if r["stage"] == "proxy"]
            objective = Objective(dict(run["objective"]))
            evaluated = [
                _Evaluated(r["arch"], r["canonical"], {p: r.get(f"proxy_{p}") for p in run["proxies"]}, r["score"], r["iteration"])
                for r in proxy_rows
            ]
            by_arch = {r["arch"]: r for r in proxy_rows}
            chosen = [{**by_arch[e.arch], "score": s} for e, s in top_k(evaluated, objective, run["top_k"])]
        trained = {r["arch"]: r for r in mine if r["stage"] == "train"}
        top[sid] = [
            {**r, "trained_accuracy": trained.get(r["arch"], {}).get("accuracy"), "trained_epochs": trained.get(r["arch"], {}).get("epochs")}
            for r in chosen
        ]
    return top
