"""Anytime curves after n proxy evaluations, aggregated over seeds on evaluation and time grids:

- returned: what the search would return if stopped at n (the best validation accuracy among the k
  best-by-score archs so far, as ``select_returned`` picks) and that arch's test accuracy;
- oracle: the best true accuracy among the same k archs, a pick no search can make.

Spreads over seeds are quantiles, so a band never leaves the range of the seeds' values."""

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


def returned_curves(scores: np.ndarray, valid: np.ndarray, test: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """After each evaluation: the best validation accuracy among the top-``k`` by score so far, and the test
    accuracy of that arch (ties: the better score, then the earlier arch), i.e. what the search would return
    if it stopped there. Archs without a validation figure are never picked; NaN until one has one."""
    if k < 1:
        raise ValueError("k must be at least 1")
    heap: list[tuple[float, int, float, float]] = []  # (score, -position, valid, test)
    picked_valid = picked_test = np.nan
    out_valid = np.empty(len(scores))
    out_test = np.empty(len(scores))
    for i, (s, v, t) in enumerate(zip(scores.tolist(), valid.tolist(), test.tolist())):
        if s == s:
            changed = True
            if len(heap) < k:
                heapq.heappush(heap, (s, -i, v, t))
            elif s > heap[0][0]:
                heapq.heapreplace(heap, (s, -i, v, t))
            else:
                changed = False
            if changed:
                known = [h for h in heap if h[2] == h[2]]
                if known:
                    best = max(known, key=lambda h: (h[2], h[0], h[1]))
                    picked_valid, picked_test = best[2], best[3]
                else:
                    picked_valid = picked_test = np.nan
        out_valid[i] = picked_valid
        out_test[i] = picked_test
    return out_valid, out_test


#: quantiles of the spread drawn around the median
SPREAD = (0.25, 0.75)


@dataclass
class CurveBand:
    """Mean, median and spread over seeds of one algorithm's curves on a shared grid."""

    label: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    lo: np.ndarray  # min over seeds
    hi: np.ndarray  # max over seeds
    n_seeds: int
    median: np.ndarray
    q_lo: np.ndarray  # SPREAD quantiles over seeds: inside [lo, hi] by construction
    q_hi: np.ndarray


def nan_quantiles(values: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """``np.nanquantile(values, q, axis=0)`` (linear interpolation) for each q, vectorised over the columns:
    numpy's own loops in Python over them, seconds on 100,000-evaluation grids."""
    ordered = np.sort(values, axis=0)  # NaN last
    n = np.sum(np.isfinite(values), axis=0)
    cols = np.arange(values.shape[1])
    out = []
    for q in qs:
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        below, above = ordered[lo, cols], ordered[hi, cols]
        value = below + (above - below) * frac
        out.append(np.where(n > 0, np.where(frac > 0, value, below), np.nan))
    return out


def _band(label: str, x: np.ndarray, values: np.ndarray) -> CurveBand:
    """``values`` is (seeds, grid); NaN cells (before a search's first point) are left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN grid cells stay NaN
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])
        std = np.where(np.sum(np.isfinite(values), axis=0) > 1, std, 0.0)
        lo = np.nanmin(values, axis=0)
        hi = np.nanmax(values, axis=0)
    median, q_lo, q_hi = nan_quantiles(values, (0.5, *SPREAD))
    return CurveBand(label, x, mean, std, lo, hi, values.shape[0], median, q_lo, q_hi)


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


@dataclass
class AnytimePanel:
    """One kind of anytime curve of one (space, dataset, objective) group, against evaluations and time."""

    label: str  # the group
    what: str  # "returned" (test accuracy of the arch returned at n), "validated", or "oracle"
    title: str
    y_label: str
    eval_bands: list[CurveBand]
    time_bands: list[CurveBand]
