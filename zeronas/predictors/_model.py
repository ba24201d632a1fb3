"""``AccuracyPredictor``: a scikit-learn regressor from proxy vectors to accuracy, saved with its protocol."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zeronas._atomic import atomic_directory
from zeronas.errors import ZeronasError
from zeronas.predictors._features import ARCH_BLOCKS, feature_matrix
from zeronas.predictors._protocol import ProxyProtocol

#: learner name -> (scikit-learn class path, default keyword arguments)
LEARNERS: dict[str, tuple[str, dict[str, Any]]] = {
    # GreenFactory's learner; 300 trees keep the variance of the ranking low at small training sizes
    "rf": ("sklearn.ensemble.RandomForestRegressor", {"n_estimators": 300, "min_samples_leaf": 1, "n_jobs": 1}),
    # native NaN support: rows with a failed proxy need no imputation
    "gbt": ("sklearn.ensemble.HistGradientBoostingRegressor", {"max_iter": 300, "learning_rate": 0.05}),
    # the best learner with 500-1,000 labels on TSS (docs/measured/ensemble.md); small leaves for small sets
    "lgbm": (
        "lightgbm.LGBMRegressor",
        {
            "n_estimators": 300,
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_child_samples": 5,
            "n_jobs": 1,
            "verbose": -1,
        },
    ),
}
ESTIMATOR_FILE = "estimator.joblib"
META_FILE = "predictor.json"
#: the archs the model was fitted on, one per line (so that evaluations can hold them out)
TRAIN_ARCHS_FILE = "train_archs.txt"
FORMAT_VERSION = 1


def _learner(name: str, seed: int, options: dict[str, Any]) -> Any:
    import importlib

    if name not in LEARNERS:
        raise ZeronasError(f"unknown learner {name!r}; choose one of: {', '.join(LEARNERS)}")
    path, defaults = LEARNERS[name]
    module, cls = path.rsplit(".", 1)
    try:
        return getattr(importlib.import_module(module), cls)(random_state=seed, **{**defaults, **options})
    except TypeError as err:
        raise ZeronasError(f"bad option for the {name} learner: {err}") from None


class AccuracyPredictor:
    """Maps the proxy values logged for an architecture to its accuracy.

    ``features`` are proxy names (``meco``, ``params``, ...) and optionally ``"encoding"``
    (one-hot of the space's ``choices``) and ``"paths"`` (the space's path encoding, TSS).
    Rows are plain ``{name: value}`` dicts as the scorer and the search log produce them, so a
    search trial can ``fit`` and ``predict`` without any table machinery; a failed proxy
    (``None``/NaN) stays NaN (random forests and gradient boosting in scikit-learn >= 1.4 route
    missing values natively).
    ``options`` go to the scikit-learn estimator (e.g. ``n_estimators=50`` for quick refits).
    """

    def __init__(
        self,
        features: Sequence[str],
        protocol: ProxyProtocol,
        learner: str = "rf",
        seed: int = 0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        features = list(dict.fromkeys(features))
        if not features:
            raise ZeronasError("a predictor needs at least one feature (a proxy name or 'encoding')")
        self.features = features
        self.protocol = protocol
        self.learner = learner
        self.seed = seed
        self.options = dict(options or {})
        self.estimator = _learner(learner, seed, self.options)
        self.n_train = 0
        self.label = ""
        self.train_archs: list[str] = []

    @property
    def proxies(self) -> list[str]:
        return [f for f in self.features if f not in ARCH_BLOCKS]

    def _space(self):
        from zeronas.spaces import get_space

        return get_space(self.protocol.space)

    def matrix(self, rows: Sequence[Mapping[str, float | None]], archs: Sequence[str]) -> np.ndarray:
        needs_space = any(f in ARCH_BLOCKS for f in self.features)
        return feature_matrix(self.features, rows, archs, self._space() if needs_space else None)

    def fit(
        self,
        rows: Sequence[Mapping[str, float | None]],
        accuracies: Sequence[float],
        archs: Sequence[str] = (),
        label: str = "",
    ) -> AccuracyPredictor:
        y = np.asarray(accuracies, dtype=float)
        if len(rows) != len(y):
            raise ZeronasError(f"{len(rows)} feature rows but {len(y)} accuracies")
        if len(y) < 2:
            raise ZeronasError(f"a predictor needs at least 2 labelled architectures, got {len(y)}")
        if not np.isfinite(y).all():
            raise ZeronasError("accuracies must be finite numbers; drop the unlabelled architectures first")
        x = self.matrix(rows, list(archs))
        self._check_columns(x)
        self.estimator.fit(x, y)
        self.n_train = len(y)
        self.label = label
        self.train_archs = list(archs)
        return self

    def _check_columns(self, x: np.ndarray) -> None:
        empty = [f for j, f in enumerate(self.proxies) if not np.isfinite(x[:, j]).any()]
        if empty:
            raise ZeronasError(f"no values for the features {', '.join(empty)}; drop them or score them first")

    def predict(self, rows: Sequence[Mapping[str, float | None]], archs: Sequence[str] = ()) -> np.ndarray:
        if not self.n_train:
            raise ZeronasError("the predictor is not fitted yet; call fit() or load a saved model")
        if not rows:
            return np.zeros(0)
        return self.estimator.predict(self.matrix(rows, list(archs)))

    def check_protocol(self, protocol: ProxyProtocol, what: str = "the proxies given") -> None:
        self.protocol.check_matches(protocol, what)

    # -- persistence ---------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        from zeronas import __version__

        return {
            "format_version": FORMAT_VERSION,
            "zeronas_version": __version__,
            "features": self.features,
            "learner": self.learner,
            "seed": self.seed,
            "options": self.options,
            "n_train": self.n_train,
            "label": self.label,
            "protocol": self.protocol.to_dict(),
        }

    def save(self, path: str | Path) -> Path:
        """A directory with the estimator (joblib) and ``predictor.json``, written atomically."""
        import joblib

        path = Path(path)
        if path.exists() and not (path / META_FILE).is_file():
            raise ZeronasError(f"{path} exists and is not a saved predictor; choose a new --out path")
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_directory(path) as tmp:
            joblib.dump(self.estimator, tmp / ESTIMATOR_FILE)
            (tmp / META_FILE).write_text(json.dumps(self.metadata(), indent=2) + "\n")
            if self.train_archs:
                (tmp / TRAIN_ARCHS_FILE).write_text("".join(f"{a}\n" for a in self.train_archs))
        return path

    @classmethod
    def load(cls, path: str | Path) -> AccuracyPredictor:
        import joblib

        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise ZeronasError(f"{path} is not a saved predictor (no {META_FILE}); pass the --out of 'predict fit'")
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as err:
            raise ZeronasError(f"{meta_path} is not valid JSON ({err.msg})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise ZeronasError(
                f"{path} has predictor format {meta.get('format_version')!r}; this zeronas reads {FORMAT_VERSION}"
            )
        model = cls(
            meta["features"],
            ProxyProtocol.from_dict(meta["protocol"]),
            meta["learner"],
            meta["seed"],
            meta.get("options"),
        )
        model.estimator = joblib.load(path / ESTIMATOR_FILE)
        model.n_train = int(meta["n_train"])
        model.label = meta.get("label", "")
        train_file = path / TRAIN_ARCHS_FILE
        model.train_archs = train_file.read_text().split() if train_file.is_file() else []
        model.zeronas_version = meta.get("zeronas_version")
        return model
