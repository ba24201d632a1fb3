"""What an experiment is: the spec, its budget, its validation into a run configuration, resume loading."""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeronas.errors import ZeronasError
from zeronas.pipeline._run_config import RunConfig

if TYPE_CHECKING:
    from zeronas.weight_sharing import SupernetRecipe


@dataclass
class ExperimentSpec:
    """Everything a `zeronas search` / `zeronas compare` run needs; saved in the run's `_run.json`."""

    space: str = "tss"
    dataset: str = "cifar10"
    proxy: str = "meco"
    #: "proxy" (maximise --proxy) or "predictor" (maximise a forest's predicted accuracy; needs --benchmark)
    objective: str = "proxy"
    label_budget: int = 50
    label_every: int = 10
    extra_proxies: list[str] = field(default_factory=list)
    algos: list[str] = field(default_factory=lambda: ["rea"])
    seeds: list[int] = field(default_factory=lambda: [0])
    algo_options: dict[str, Any] = field(default_factory=dict)
    dedup_isomorphic: bool = False
    allow_repeats: bool = False
    budget: int | None = 1000
    budget_seconds: float | None = None
    top_k: int = 10
    #: diverse top-k: candidates differ from each other in at least this many decisions (0: off)
    top_k_distance: int = 0
    benchmark: str | None = None
    #: the dataset whose validation accuracy the lookups read (None: ``dataset``), as RoBoT reads CIFAR-10's
    validate_on: str | None = None
    #: a ``zeronas score`` table whose values the search takes instead of rescoring (``--scores-from``)
    scores_from: str | None = None
    #: validation signal: the benchmark's ``valid`` accuracy after ``epochs`` (default 12) epochs
    metric: str = "valid"
    epochs: int | None = None
    #: allow ``metric="test"``: every report then says "selected on test"
    select_on_test: bool = False
    train_epochs: int = 0
    #: epochs of a supernet-training search (rarts, darts-1st, milenas); None: the paper's (TSS 100, DARTS 50)
    supernet_epochs: int | None = None
    #: DARTS training network size (default: the DARTS evaluation size, 36 channels / 20 cells)
    train_channels: int | None = None
    train_layers: int | None = None
    train_top_k: int | None = None
    train_simulate: bool = False
    train_samples: int | None = None
    #: stage 3's validation split held out of the training images: a count, a fraction, None = 10 %
    train_holdout: int | float | None = None
    train_holdout_seed: int = 0
    data: str | None = None
    #: None: each search's proxy seed is its search seed
    proxy_seed: int | None = None
    #: proxy name -> constructor keyword arguments (``--proxy-option meco_opt.n=16``)
    proxy_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_size: int = 64
    plugins: list[str] = field(default_factory=list)
    out: str = "zeronas-runs"
    # runtime only: not part of what makes two runs comparable
    workers: int | None = None
    gpus_per_worker: float | None = None
    cpus_per_worker: float = 0.5
    threads_per_worker: int = 1
    address: str | None = None
    #: seconds the scorer pool (and the training stage) may go without a worker up
    wait_for_workers: float = 600.0
    #: auto: the GPU Ray gives a worker, else its CPU; cpu: keep a GPU placement, compute on the CPU
    device: str = "auto"
    ask_batch: int = 4
    quiet: bool = False

    RUNTIME_FIELDS = (
        "workers",
        "gpus_per_worker",
        "cpus_per_worker",
        "threads_per_worker",
        "address",
        "quiet",
        "out",
        "wait_for_workers",
        "device",
    )

    def to_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
        raise ZeronasError(
            f"bad --budget {text!r}: give a number of proxy evaluations (1000) or seconds (120s, 5m)"
        ) from None
    if value <= 0:
        raise ZeronasError(f"--budget must be > 0, got {text!r}")
    return (None, value) if seconds else (int(value), None)


def search_id(algo: str, seed: int) -> str:
    return f"{algo.replace(':', '-')}-s{seed}"


def validate(spec: ExperimentSpec) -> tuple[ExperimentSpec, RunConfig]:
    """Check every input before anything is started or written.

    Returns a normalised copy of ``spec`` (canonical space and dataset names, plugin paths made
    absolute) and the trials' run configuration; ``spec`` itself is left as it was.
    """
    from zeronas.datasets import canonical_dataset, num_classes, resolution
    from zeronas.pipeline._objective import Objective
    from zeronas.pipeline._worker_device import check_worker_device
    from zeronas.plugins import load_plugins
    from zeronas.proxies import ArchScorer, resolve_proxy
    from zeronas.search_algos import default_extra_proxies, get_algorithm, is_training_search, resolve_algorithm
    from zeronas.spaces import get_space

    plugins = [str(Path(p).expanduser().resolve()) if p.endswith(".py") else p for p in spec.plugins]
    load_plugins(plugins)
    space = get_space(spec.space)
    spec = dataclasses.replace(
        copy.deepcopy(spec), plugins=plugins, space=space.name, dataset=canonical_dataset(spec.dataset)
    )
    objective = Objective.parse(spec.proxy)
    extra = [resolve_proxy(p, where="--extra-proxies") for p in spec.extra_proxies if p.strip()]
    proxies = list(dict.fromkeys(objective.proxies + extra))
    if spec.budget is None and spec.budget_seconds is None:
        raise ZeronasError("give a --budget (evaluations, e.g. 1000, or seconds, e.g. 120s)")
    if (spec.budget is not None and spec.budget <= 0) or (spec.budget_seconds is not None and spec.budget_seconds <= 0):
        raise ZeronasError("--budget must be > 0")
    if spec.top_k < 1:
        raise ZeronasError(f"--top-k must be >= 1, got {spec.top_k}")
    if isinstance(spec.ask_batch, bool) or not isinstance(spec.ask_batch, int) or spec.ask_batch < 1:
        raise ZeronasError(f"--ask-batch must be an integer >= 1, got {spec.ask_batch!r}")
    if isinstance(spec.top_k_distance, bool) or not isinstance(spec.top_k_distance, int) or spec.top_k_distance < 0:
        raise ZeronasError(f"--top-k-distance must be an integer >= 0, got {spec.top_k_distance!r}")
    if not spec.algos:
        raise ZeronasError("no search algorithm given; use e.g. --algo rea")
    spec.algos = list(dict.fromkeys(resolve_algorithm(a) for a in spec.algos))
    wanted = [p for a in spec.algos for p in default_extra_proxies(a)]
    if not spec.extra_proxies and wanted:
        # an algorithm that weighs several proxies (robot) gets its default list when none is given
        spec.extra_proxies = [p for p in dict.fromkeys(wanted) if p not in objective.proxies]
        extra = list(spec.extra_proxies)
        proxies = list(dict.fromkeys(objective.proxies + extra))
    if not spec.seeds:
        raise ZeronasError("no seed given; use e.g. --seeds 3")
    for algo in spec.algos:
        if is_training_search(algo):
            supernet_recipe(space.name, spec.supernet_epochs, algorithm_options(spec, algo))
            if not spec.data:
                raise ZeronasError(f"{algo} trains a supernet on CIFAR: give --data DIR (the CIFAR python batches)")
        else:
            get_algorithm(algo, space=space, seed=0, **algorithm_options(spec, algo))
    if spec.workers is not None and spec.workers < 1:
        raise ZeronasError(f"--workers must be >= 1, got {spec.workers}")
    if spec.gpus_per_worker is not None and spec.gpus_per_worker < 0:
        raise ZeronasError(f"--gpus-per-worker must be >= 0, got {spec.gpus_per_worker}")
    if spec.train_epochs < 0:
        raise ZeronasError(f"--train-epochs must be >= 0, got {spec.train_epochs}")
    spec.device = check_worker_device(spec.device)

    from zeronas.groundtruth import DEFAULT_EPOCHS, VALIDATION_EPOCHS, column_name

    if spec.metric not in ("valid", "test"):
        raise ZeronasError(f"unknown --metric {spec.metric!r}; choose valid (default) or test")
    if spec.metric == "test" and not spec.select_on_test:
        raise ZeronasError(
            "--metric test selects on the test split; use --metric valid (default), "
            "or add --select-on-test to allow it (reports then say 'selected on test')"
        )
    if spec.epochs is not None and spec.epochs < 1:
        raise ZeronasError(f"--epochs must be >= 1, got {spec.epochs}")
    epochs = spec.epochs or VALIDATION_EPOCHS.get(space.name, 12)
    validate_dataset = canonical_dataset(spec.validate_on) if spec.validate_on else spec.dataset
    spec.validate_on = validate_dataset if spec.validate_on else None
    accuracy_source = column_name(validate_dataset, spec.metric, epochs)
    test_source = column_name(spec.dataset, "test", DEFAULT_EPOCHS.get(space.name, 200))
    benchmark = None
    if spec.benchmark:
        from zeronas.groundtruth import open_ground_truth

        benchmark = str(Path(spec.benchmark).expanduser().resolve())
        truth = open_ground_truth(benchmark, space.name)
        truth.resolve(validate_dataset, metric=spec.metric, epochs=epochs)  # the validation column exists?
        if test_source not in truth.available():
            test_source = None  # validation only: the returned arch's test figure is unknown
        if spec.train_epochs and spec.train_simulate:
            truth.resolve(spec.dataset, metric="valid", epochs=12)
    predictor = _predictor_settings(spec, benchmark, space)
    data = str(Path(spec.data).expanduser().resolve()) if spec.data else None
    train_holdout = None
    if spec.train_epochs:
        if spec.train_simulate and not benchmark:
            raise ZeronasError("--train-simulate uses the benchmark's 12-epoch results: pass --benchmark PATH")
        if not spec.train_simulate:
            if not data:
                raise ZeronasError(
                    "short training needs --data DIR (CIFAR python batches) or --train-simulate with --benchmark"
                )
            train_holdout = _train_holdout(spec, data)
    if spec.proxy_seed is not None and (not isinstance(spec.proxy_seed, int) or isinstance(spec.proxy_seed, bool)):
        raise ZeronasError(f"--proxy-seed must be an integer, got {spec.proxy_seed!r}")
    proxy_options = check_proxy_options(spec.proxy_options, proxies)
    scores_from = None
    if spec.scores_from:
        scores_from = str(Path(spec.scores_from).expanduser().resolve())
        spec.proxy_seed = _pinned_proxy_seed(spec, scores_from, data, proxies, proxy_options)
    if spec.train_channels is not None or spec.train_layers is not None:
        from zeronas.pipeline._recipes import check_network_size

        check_network_size(space.name, spec.train_channels, spec.train_layers)
    scorer_kwargs = dict(
        space=space.name,
        proxies=proxies,
        dataset=spec.dataset,
        data=data,
        seed=0,
        batch_size=spec.batch_size,
        proxy_options=proxy_options,
    )
    scorer = ArchScorer(**scorer_kwargs, device="cpu")  # proxies and data are usable
    scorer_kwargs["device"] = spec.device  # the workers' policy (pipeline/_worker_device.py)

    run = RunConfig(
        space=space.name,
        dataset=spec.dataset,
        num_classes=num_classes(spec.dataset),
        resolution=resolution(spec.dataset),
        objective=objective.weights,
        objective_spec=objective.spec(),
        proxies=proxies,
        budget=spec.budget if spec.budget is not None else 10**9,
        budget_seconds=spec.budget_seconds,
        top_k=spec.top_k,
        top_k_distance=spec.top_k_distance,
        ask_batch=spec.ask_batch,
        benchmark=benchmark,
        metric=spec.metric,
        epochs=epochs,
        accuracy_source=accuracy_source,
        validate_dataset=validate_dataset,
        test_source=test_source,
        select_on_test=spec.metric == "test",
        proxy_seed=spec.proxy_seed,
        proxy_protocol={
            "input": "real" if data else "noise",
            "data": data,
            "batch_size": spec.batch_size,
            "seed": "search seed" if spec.proxy_seed is None else spec.proxy_seed,
            "dtype": "float32",
            "options": proxy_options,
            "scores_from": scores_from,
        },
        scores_from=scores_from,
        data=data,
        train_epochs=spec.train_epochs,
        supernet_epochs=spec.supernet_epochs,
        train_simulate=spec.train_simulate,
        train_samples=spec.train_samples,
        train_holdout=train_holdout,
        train_holdout_seed=spec.train_holdout_seed,
        train_channels=spec.train_channels,
        train_layers=spec.train_layers,
        scorer_kwargs=scorer_kwargs,
        proxy_training={n: c for n, p in scorer.proxies.items() if (c := p.training_cost()) is not None},
        device=spec.device,
        predictor=predictor,
    )
    return spec, run


def _pinned_proxy_seed(
    spec: ExperimentSpec, path: str, data: str | None, proxies: list[str], proxy_options: dict[str, dict[str, Any]]
) -> int:
    """The table's proxy seed, after checking it measured what this run would (one line, exit 2, if not)."""
    from zeronas import __version__
    from zeronas.pipeline._score_table import check_protocol, read_protocol

    run = {
        "space": spec.space,
        "dataset": spec.dataset,
        "input_kind": "real" if data else "noise",
        "batch_size": spec.batch_size,
        "seed_policy": "fixed",
        "zeronas_version": __version__,
        "proxy_options": proxy_options,
    }
    table = read_protocol(path)
    return check_protocol(table, path, run=run, data=data, proxies=proxies, proxy_seed=spec.proxy_seed)


def _train_holdout(spec: ExperimentSpec, data: str) -> int:
    """Stage 3's held-out validation images: checked against the training split, as a count."""
    from zeronas.data import load_cifar
    from zeronas.pipeline._holdout import holdout_size

    if isinstance(spec.train_holdout_seed, bool) or not isinstance(spec.train_holdout_seed, int):
        raise ZeronasError(f"--train-holdout-seed must be an integer, got {spec.train_holdout_seed!r}")
    load_cifar(data, spec.dataset, "test")  # readable? the selected architecture is tested on it
    _, labels = load_cifar(data, spec.dataset, "train")
    return holdout_size(labels, spec.train_holdout)


def check_proxy_options(options: dict[str, Any], proxies: list[str]) -> dict[str, dict[str, Any]]:
    """``{proxy: {key: value}}`` checked against the proxies' constructors (one clear line on a bad key)."""
    import inspect

    from zeronas.proxies import proxy_factory, resolve_proxy

    checked: dict[str, dict[str, Any]] = {}
    for name, kwargs in options.items():
        key = resolve_proxy(name, where="--proxy-option")
        if key not in proxies:
            raise ZeronasError(
                f"--proxy-option for {name!r}, which this run does not compute; it computes: {', '.join(proxies)}"
            )
        accepted = [p for p in inspect.signature(proxy_factory(key)).parameters if p != "self"]
        for option in kwargs:
            if option not in accepted:
                valid = ", ".join(accepted) or "none"
                raise ZeronasError(f"unknown --proxy-option {key}.{option}; {key} takes: {valid}")
        try:
            proxy_factory(key)(**kwargs)
        except (TypeError, ValueError) as err:
            raise ZeronasError(f"bad --proxy-option for {key}: {err}") from None
        checked[key] = dict(kwargs)
    return checked


def _predictor_settings(spec: ExperimentSpec, benchmark: str | None, space) -> dict[str, int] | None:
    """``--objective predictor`` settings, checked (None for ``--objective proxy``)."""
    if spec.objective == "proxy":
        return None
    if spec.objective != "predictor":
        raise ZeronasError(f"unknown --objective {spec.objective!r}; choose proxy or predictor")
    if not benchmark:
        raise ZeronasError("--objective predictor learns from benchmark validation accuracy; pass --benchmark PATH")
    if spec.label_budget < 2:
        raise ZeronasError(f"--label-budget must be >= 2 (the predictor learns from them), got {spec.label_budget}")
    if spec.label_every < 1:
        raise ZeronasError(f"--label-every must be >= 1, got {spec.label_every}")
    from zeronas.groundtruth import open_ground_truth
    from zeronas.pipeline._predictor_objective import LABEL_EPOCHS, LABEL_METRIC

    open_ground_truth(benchmark, space.name).lookup(  # the label column exists?
        space.arch_at(0), spec.dataset, metric=LABEL_METRIC, epochs=LABEL_EPOCHS
    )
    return {"label_budget": spec.label_budget, "label_every": spec.label_every}


def algorithm_options(spec: ExperimentSpec, algo: str) -> dict[str, Any]:
    """Options for ``algo``: ``spec.algo_options`` keys apply to every algorithm, ``"<algo>.<key>"``
    keys to that one only. Every proposal is a new arch unless --allow-repeats: the budget
    counts distinct evaluations. A supernet-training search takes its recipe's settings (``SupernetRecipe``)."""
    from zeronas.search_algos import is_training_search

    options: dict[str, Any] = {}
    if not is_training_search(algo):
        options = {"dedup_isomorphic": spec.dedup_isomorphic, "avoid_repeats": not spec.allow_repeats}
    options.update({k: v for k, v in spec.algo_options.items() if "." not in k})
    prefix = f"{algo}."
    options.update({k[len(prefix) :]: v for k, v in spec.algo_options.items() if k.startswith(prefix)})
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


def supernet_recipe(space: str, epochs: int | None, options: dict[str, Any]) -> SupernetRecipe:
    """A supernet-training search's settings: the paper's for ``space``, ``epochs`` (``--supernet-epochs``; None:
    the paper's), then its ``--algo-option`` s (``rarts.epochs=`` sets one search's epochs). A one-line error
    names an unknown or bad option."""
    from zeronas.weight_sharing import paper_recipe

    return paper_recipe(space, **{**({} if epochs is None else {"epochs": epochs}), **options})
