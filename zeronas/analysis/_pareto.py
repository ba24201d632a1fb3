"""Pareto front of accuracy (or a proxy) against cost (params, FLOPs)."""

from __future__ import annotations

import numpy as np


def pareto_front(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats (cost no higher and value no lower, one of them strictly),
    by increasing cost; points with a NaN are left out."""
    ok = np.flatnonzero(np.isfinite(cost) & np.isfinite(value))
    order = ok[np.lexsort((-value[ok], cost[ok]))]  # cheapest first, the best value first among equal costs
    front, best = [], -np.inf
    for i in order:
        if value[i] > best:
            front.append(i)
            best = value[i]
    return np.array(front, dtype=np.int64)
