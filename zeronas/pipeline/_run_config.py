"""The settings every stage of one run reads: fixed by validation, shipped to the Tune trials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunConfig:
    """What ``validate`` derives from an :class:`~zeronas.pipeline.ExperimentSpec`; recorded in ``_run.json``.

    Frozen so that no stage changes it under another; the driver fills the run's identity
    (``run_id`` … ``max_in_flight``) with ``dataclasses.replace`` once the pool is sized.
    Picklable: ``tune.with_parameters`` sends it to the trials.
    """

    space: str
    dataset: str
    num_classes: int
    resolution: int
    #: proxy name -> weight (see :class:`~zeronas.pipeline.Objective`)
    objective: dict[str, float]
    objective_spec: str
    #: every proxy computed: the objective's, then ``--extra-proxies``
    proxies: list[str]
    #: distinct evaluations per search (10**9 when only a time budget was given)
    budget: int
    budget_seconds: float | None
    top_k: int
    #: diverse top-k: candidates differ in at least this many decisions (0: the k best distinct cells)
    top_k_distance: int
    ask_batch: int
    benchmark: str | None
    #: the validation signal: ``metric`` accuracy after ``epochs`` epochs, column ``accuracy_source``
    metric: str
    #: ground-truth schedule: epochs, or a named protocol (``"nb301"``)
    epochs: int | str
    accuracy_source: str
    #: the dataset whose validation accuracy the lookups read (``--validate-on``; default ``dataset``)
    validate_dataset: str
    #: the column the returned arch's test accuracy is read from once (None: the benchmark lacks it)
    test_source: str | None
    #: validation read the test split (``--select-on-test``): every report says so
    select_on_test: bool
    #: None: each search's proxy seed is its search seed
    proxy_seed: int | None
    #: input kind, batch size, seed policy, dtype and options of the proxies; recorded in ``_run.json``
    proxy_protocol: dict[str, Any]
    data: str | None
    train_epochs: int
    #: epochs of a supernet-training search (None: the paper's; see ``weight_sharing.paper_recipe``)
    supernet_epochs: int | None
    train_simulate: bool
    train_samples: int | None
    #: stage 3's validation split: images held out of the training split (resolved count; None: no real
    #: training), drawn with ``train_holdout_seed`` (see ``_holdout``)
    train_holdout: int | None
    train_holdout_seed: int
    #: training network size where the space has one (DARTS); None: the recipe's default
    train_channels: int | None
    train_layers: int | None
    #: ``ArchScorer`` arguments of the scorer pool (not recorded: the fields above carry them)
    scorer_kwargs: dict[str, Any]
    #: where workers compute: auto (the GPU Ray gives them, else CPU) or cpu (see ``_worker_device.py``)
    device: str = "auto"
    #: ``--objective predictor`` settings (``label_budget``, ``label_every``); None: maximise the proxies
    predictor: dict[str, int] | None = None
    #: ``--scores-from``: a ``zeronas score`` table whose values replace scoring (protocol checked)
    scores_from: str | None = None
    #: proxies backed by a trained model (bossnas) -> what it cost (``device_seconds``, ``devices``)
    proxy_training: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None
    run_dir: str | None = None
    pool_name: str | None = None
    #: proxy evaluations one search keeps in flight
    max_in_flight: int | None = None
    #: seconds a search waits for any result from the pool before it fails (the pool gives up sooner: no hang)
    result_timeout: float | None = None

    def proxy_training_seconds(self) -> float | None:
        """Device-seconds of the models behind the run's trained proxies (None: every proxy is zero-cost)."""
        return sum(c["device_seconds"] for c in self.proxy_training.values()) if self.proxy_training else None

    def proxy_training_devices(self) -> str | None:
        return ", ".join(sorted({d for c in self.proxy_training.values() for d in c["devices"]})) or None

    def row_base(self, search: dict[str, Any]) -> dict[str, Any]:
        """The columns every log row of ``search`` (one of the run's search dicts) starts with."""
        return {
            "run_id": self.run_id,
            "search_id": search["search_id"],
            "algorithm": search["algorithm"],
            "seed": search["seed"],
            "space": self.space,
            "dataset": self.dataset,
        }
