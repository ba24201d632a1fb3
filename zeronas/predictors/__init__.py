"""Accuracy predictors from proxy vectors (GreenFactory-style ensembles of zero-cost proxies).

>>> model = AccuracyPredictor(["meco", "synflow", "params", "encoding"], protocol).fit(rows, accs, archs)
>>> model.predict([{"meco": 3.1, "synflow": 40.2, "params": 1.2e6}], ["|nor_conv_3x3~0|+..."])
>>> model.save("tss.model"); AccuracyPredictor.load("tss.model")

Rows are ``{proxy: value}`` dicts, the form the scorer and the search log produce, so a
search trial can refit and predict cheaply. ``load_scores`` reads ``zeronas score`` files
and search run directories into such rows (several files join per arch: a proxy scored under several seeds
becomes its mean and ``<proxy>@std``); ``load_truth`` the accuracies.
"""

from zeronas.predictors._features import ENCODING, PATHS, encode, encoding_names
from zeronas.predictors._io import (
    SEED_STD,
    ScoreSet,
    join_scores,
    load_scores,
    load_truth,
    score_file_metadata,
)
from zeronas.predictors._model import LEARNERS, AccuracyPredictor
from zeronas.predictors._protocol import ProxyProtocol

__all__ = [
    "ENCODING",
    "PATHS",
    "SEED_STD",
    "LEARNERS",
    "AccuracyPredictor",
    "ProxyProtocol",
    "ScoreSet",
    "encode",
    "encoding_names",
    "join_scores",
    "load_scores",
    "load_truth",
    "score_file_metadata",
]
