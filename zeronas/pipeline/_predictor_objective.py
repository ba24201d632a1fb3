"""``--objective predictor``: a search that maximises the accuracy a random forest predicts from its proxy vector.

Labels are the benchmark's *validation* accuracy (``<dataset>_valid_acc_12ep``, never a test column),
looked up in the search trial. Labelling policy: after every ``label_every`` new evaluations, label
the unlabelled arch the search currently scores best (exploitation: the ranking matters most at the
top, where the returned arch is chosen) plus one unlabelled arch drawn at random (exploration: keeps
the forest's training set spread over what the search saw, so it does not extrapolate from the top
alone), until ``label_budget`` lookups are spent. The forest is refitted after every labelling round
once ``MIN_LABELS`` labels exist. Before the first fit the score is the first proxy's percentile
(0..1) among the archs seen so far; afterwards it is the predicted accuracy (%), so every predicted
arch outranks the pre-fit ones, which a population-based search ages out.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zeronas.pipeline._objective import Objective, _percentile

#: the lookup every label uses: the benchmark's 12-epoch validation accuracy (NATS-Bench's "hp=12" runs)
LABEL_METRIC = "valid"
LABEL_EPOCHS = 12
#: labels needed before the first fit
MIN_LABELS = 4
#: a small forest: a refit on <= 100 rows takes tens of milliseconds in the search trial
FOREST_OPTIONS = {"n_estimators": 64, "min_samples_leaf": 1}


def label_source(dataset: str) -> str:
    return f"{dataset}_{LABEL_METRIC}_acc_{LABEL_EPOCHS}ep"


@dataclass
class PredictorObjective:
    """Scores archs by predicted accuracy; decides which archs to label and refits as labels arrive.

    ``features`` are proxy names (the ``--proxy`` list, then ``--extra-proxies``); ``lookup(arch)``
    returns the label (validation accuracy) or None. Used by one search trial, so not thread-safe.
    """

    features: list[str]
    lookup: Callable[[str], float | None]
    protocol: Any
    label_budget: int = 50
    label_every: int = 10
    seed: int = 0
    #: arch -> the prediction made when it was evaluated (absent: scored before the first fit)
    predicted: dict[str, float] = field(default_factory=dict)
    #: arch -> label, in the order looked up
    labels: dict[str, float | None] = field(default_factory=dict)
    _values: dict[str, Mapping[str, float | None]] = field(default_factory=dict, repr=False)
    _scores: dict[str, float | None] = field(default_factory=dict, repr=False)
    _model: Any = field(default=None, repr=False)
    _first_seen: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _first_percentile(self, values: Mapping[str, float | None], seen: list[float]) -> float | None:
        v = values.get(self.features[0])
        return None if v is None else _percentile(seen, v)

    @property
    def fitted(self) -> bool:
        return self._model is not None

    def observe(self, values: Mapping[str, float | None], arch: str) -> float | None:
        """Record one evaluated arch and return its score now (its prediction once the forest is fitted)."""
        self._remember(values, arch)
        if self.fitted:
            score = float(self._model.predict([values])[0])
            self.predicted[arch] = score
        else:
            score = self._first_percentile(values, self._first_seen)
        self._scores[arch] = score
        return score

    def _remember(self, values: Mapping[str, float | None], arch: str) -> None:
        self._values[arch] = dict(values)
        if values.get(self.features[0]) is not None:
            bisect.insort(self._first_seen, values[self.features[0]])

    def restore(self, values: Mapping[str, float | None], arch: str, score: float | None, predicted: float | None):
        """Replay a logged evaluation (a resumed search) without predicting or labelling."""
        self._remember(values, arch)
        self._scores[arch] = score
        if predicted is not None:
            self.predicted[arch] = predicted

    def restore_label(self, arch: str, accuracy: float | None) -> None:
        self.labels[arch] = accuracy

    def label_due(self) -> list[tuple[str, float | None, float | None]]:
        """Label now if a round is due: ``(arch, label, score when chosen)`` per lookup, then refit."""
        if len(self._values) % self.label_every or len(self.labels) >= self.label_budget:
            return []
        unlabelled = [a for a in self._values if a not in self.labels]
        if not unlabelled:
            return []
        best = max(unlabelled, key=lambda a: (self._scores[a] is not None, self._scores[a] or 0.0))
        chosen = [best]
        rest = [a for a in unlabelled if a != best]
        if rest and len(self.labels) + 1 < self.label_budget:
            chosen.append(self._rng.choice(rest))
        done = []
        for arch in chosen:
            self.labels[arch] = self.lookup(arch)
            done.append((arch, self.labels[arch], self._scores[arch]))
        self.refit()
        return done

    def refit(self) -> None:
        from zeronas.predictors import AccuracyPredictor

        known = [(a, y) for a, y in self.labels.items() if y is not None]
        if len(known) < MIN_LABELS:
            return
        rows = [self._values[a] for a, _ in known]
        usable = [f for f in self.features if any(r.get(f) is not None for r in rows)]
        model = AccuracyPredictor(usable, self.protocol, seed=self.seed, options=FOREST_OPTIONS)
        self._model = model.fit(rows, [y for _, y in known])

    def final_scores(self, rows: list[Mapping[str, float | None]]) -> list[float | None]:
        """The last forest's predictions for every evaluated arch (the first proxy's rank before any fit)."""
        if not self.fitted:
            seen = sorted(r[self.features[0]] for r in rows if r.get(self.features[0]) is not None)
            return [self._first_percentile(r, seen) for r in rows]
        return [float(p) for p in self._model.predict(list(rows))]


def make_objective(run, search: Mapping[str, Any]) -> Objective | PredictorObjective:
    """The objective one search trial maximises."""
    if not run.predictor:
        return Objective(dict(run.objective))
    from zeronas.groundtruth import open_ground_truth
    from zeronas.predictors import ProxyProtocol

    truth = open_ground_truth(run.benchmark, run.space)

    def lookup(arch: str) -> float | None:
        return truth.lookup(arch, run.validate_dataset, metric=LABEL_METRIC, epochs=LABEL_EPOCHS)

    return PredictorObjective(
        features=list(run.proxies),
        lookup=lookup,
        protocol=ProxyProtocol.of_scorer(
            run.space, run.dataset, run.data, run.scorer_kwargs["batch_size"], run.scorer_kwargs["seed"]
        ),
        label_budget=run.predictor["label_budget"],
        label_every=run.predictor["label_every"],
        seed=search["seed"],
    )


def label_row(
    base: Mapping[str, Any],
    run,
    arch: str,
    accuracy: float | None,
    score: float | None,
    number: int,
    elapsed: float,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """One ``label`` stage log row: a validation lookup the predictor learns from."""
    return {
        **base,
        "stage": "label",
        "arch": arch,
        "score": score,
        "objective": "predictor",
        "accuracy": accuracy,
        "accuracy_source": label_source(run.validate_dataset),
        "epochs": LABEL_EPOCHS,
        "iteration": number,
        "elapsed": elapsed,
        "error": None if accuracy is not None else "not in the benchmark",
        **extra,
    }
