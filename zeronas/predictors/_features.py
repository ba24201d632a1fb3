"""Feature vectors from logged proxy values: proxies, optionally params/FLOPs, the ``choices`` one-hot and the
path encoding."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zeronas.errors import ZeronasError

#: the feature name of the one-hot ``choices`` encoding block
ENCODING = "encoding"
#: the feature name of the path-encoding block (spaces with ``path_encoding``: TSS)
PATHS = "paths"
#: feature names that are blocks computed from the arch, not logged values
ARCH_BLOCKS = (ENCODING, PATHS)


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
    """``len(rows) x width`` floats: each named value (NaN where missing), then the encoding and the path
    encoding if asked.

    Values enter as ``sign(x) * log(1 + |x|)``: monotone, so a tree's splits are the same, and small enough
    for scikit-learn's float32 trees (synflow reaches 1e40 on TSS).
    """
    names = [f for f in features if f not in ARCH_BLOCKS]
    values = np.full((len(rows), len(names)), np.nan)
    for i, row in enumerate(rows):
        for j, name in enumerate(names):
            v = row.get(name)
            if v is not None and math.isfinite(float(v)):
                values[i, j] = float(v)
    values = np.sign(values) * np.log1p(np.abs(values))
    blocks = [values]
    if (ENCODING in features or PATHS in features) and len(archs) != len(rows):
        raise ZeronasError(f"{len(rows)} feature rows but {len(archs)} archs to encode")
    if ENCODING in features:
        try:
            blocks.append(
                np.stack([encode(space, a) for a in archs]) if archs else np.zeros((0, len(encoding_names(space))))
            )
        except ValueError as err:
            raise ZeronasError(f"cannot encode an arch for the {space.name} space: {err}") from None
    if PATHS in features:
        if not hasattr(space, "path_encoding"):
            raise ZeronasError(f"the {space.name} space has no path encoding; drop the '{PATHS}' feature")
        width = len(space.path_names())
        blocks.append(np.stack([space.path_encoding(a) for a in archs]) if archs else np.zeros((0, width)))
    return np.hstack(blocks)
