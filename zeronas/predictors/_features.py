"""Feature vectors from logged proxy values: proxies, optionally params/FLOPs and the ``choices`` one-hot."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zeronas.errors import ZeronasError

#: the feature name of the one-hot ``choices`` encoding block
ENCODING = "encoding"


def encoding_names(space: Any) -> list[str]:
    return [f"{name}={option}" for name, options in space.choices for option in options]


def encode(space: Any, arch: str) -> np.ndarray:
    """One-hot of ``space.parse(arch)``, decision by decision."""
    code = space.parse(arch)
    blocks = []
    for (_, options), value in zip(space.choices, code):
        block = np.zeros(len(options))
        block[value] = 1.0
        blocks.append(block)
    return np.concatenate(blocks)


def feature_matrix(
    features: Sequence[str], rows: Sequence[Mapping[str, float | None]], archs: Sequence[str], space: Any
) -> np.ndarray:
    """``len(rows) x width`` floats: each named value (NaN where missing), then the encoding if asked.

    Values enter as ``sign(x) * log(1 + |x|)``: monotone, so a tree's splits are the same, and small enough
    for scikit-learn's float32 trees (synflow reaches 1e40 on TSS).
    """
    names = [f for f in features if f != ENCODING]
    values = np.full((len(rows), len(names)), np.nan)
    for i, row in enumerate(rows):
        for j, name in enumerate(names):
            v = row.get(name)
            if v is not None and math.isfinite(float(v)):
                values[i, j] = float(v)
    values = np.sign(values) * np.log1p(np.abs(values))
    if ENCODING not in features:
        return values
    if len(archs) != len(rows):
        raise ZeronasError(f"{len(rows)} feature rows but {len(archs)} archs to encode")
    try:
        onehot = np.stack([encode(space, a) for a in archs]) if archs else np.zeros((0, len(encoding_names(space))))
    except ValueError as err:
        raise ZeronasError(f"cannot encode an arch for the {space.name} space: {err}") from None
    return np.hstack([values, onehot])
