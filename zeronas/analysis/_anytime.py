"""Anytime curves: after n proxy evaluations, the best true accuracy among the k
best-by-score archs seen so far; aggregated over seeds on evaluation and time grids."""

from __future__ import annotations

import heapq
import warnings
from dataclasses import dataclass

import numpy as np


def topk_curve(scores: np.ndarray, truths: np.ndarray, k: int) -> np.ndarray:
    """Value after each evaluation (rows in evaluation order).

    Ties in score keep the earlier arch. Archs without a score never enter the
    top-k; archs without a truth enter it but add nothing (NaN until one is known).
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    heap: list[tuple[float, int, float]] = []  # (score, -position, truth): the root is evicted first
    best = np.nan
    out = np.empty(len(scores))
    for i, (s, t) in enumerate(zip(scores.tolist(), truths.tolist())):
        if s == s:  # not NaN
            item = (s, -i, t)
            if len(heap) < k:
                heapq.heappush(heap, item)
                if t > best or best != best:
                    best = t if t == t else best
            elif s > heap[0][0]:
                evicted = heapq.heapreplace(heap, item)
                if evicted[2] == best:
                    best = max((h[2] for h in heap if h[2] == h[2]), default=np.nan)
                elif t == t and (t > best or best != best):
                    best = t
        out[i] = best
    return out


@dataclass
class CurveBand:
    """Mean and spread over seeds of one algorithm's curves on a shared grid."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n_seeds: int


def _band(label: str, x: np.ndarray, values: np.ndarray) -> CurveBand:
    """``values`` is (seeds, grid); NaN cells (before a search's first point) are left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN grid cells stay NaN
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])
        std = np.where(np.sum(np.isfinite(values), axis=0) > 1, std, 0.0)
        lo = np.nanmin(values, axis=0)
        hi = np.nanmax(values, axis=0)
    return CurveBand(label, x, mean, std, lo, hi, values.shape[0])


def over_iterations(curve: np.ndarray, iterations: np.ndarray) -> np.ndarray:
    """Spread a curve over the rows' ``iteration`` numbers when some evaluations are not rows (a search's
    supernets): the value at an evaluation is the last one reached by then, NaN before the first row."""
    finite = iterations[np.isfinite(iterations)]
    if len(finite) != len(curve) or not len(curve) or finite.max() <= len(curve):
        return curve
    spread = np.full(int(finite.max()), np.nan)
    spread[finite.astype(int) - 1] = curve
    reached = np.maximum.accumulate(np.where(np.isfinite(spread), np.arange(len(spread)), -1))
    return np.where(reached >= 0, spread[np.maximum(reached, 0)], np.nan)


def by_evaluations(label: str, curves: list[np.ndarray]) -> CurveBand:
    """Seeds on the grid 1..max n; a search that stopped earlier keeps its final value."""
    n_max = max(len(c) for c in curves)
    grid = np.arange(1, n_max + 1)
    values = np.full((len(curves), n_max), np.nan)
    for row, c in zip(values, curves):
        row[: len(c)] = c
        if len(c):
            row[len(c) :] = c[-1]
    return _band(label, grid, values)


def by_time(label: str, curves: list[tuple[np.ndarray, np.ndarray]], grid: np.ndarray) -> CurveBand:
    """``curves`` are (elapsed, value) pairs; the value at t is the last one reached by t."""
    values = np.full((len(curves), len(grid)), np.nan)
    for row, (elapsed, c) in zip(values, curves):
        if not len(c):
            continue
        t = np.maximum.accumulate(elapsed)
        pos = np.searchsorted(t, grid, side="right") - 1
        row[pos >= 0] = c[pos[pos >= 0]]
    return _band(label, grid, values)


def checkpoints(n_max: int) -> list[int]:
    """1-2-5 steps up to ``n_max``, always ending at ``n_max``."""
    points = []
    base = 10
    while base <= n_max:
        points += [p for p in (base, 2 * base, 5 * base) if p < n_max]
        base *= 10
    return sorted(set(points)) + [n_max]
