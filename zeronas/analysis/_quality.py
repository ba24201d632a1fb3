"""Proxy quality: rank correlation and top-k precision against ground truth, with
percentile bootstrap confidence intervals (``scipy.stats.bootstrap``, paired, seeded)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

TOP_FRACTION = 0.05
MIN_POINTS = 5


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.spearmanr(x, y).statistic)


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.kendalltau(x, y).statistic)


def top_precision(x: np.ndarray, y: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    """Share of the true top ``fraction`` (by ``y``) among the proxy's top ``fraction`` (by ``x``)."""
    n = len(x)
    m = max(1, math.ceil(fraction * n))
    top_x = np.argsort(-x, kind="stable")[:m]
    top_y = np.argsort(-y, kind="stable")[:m]
    return len(np.intersect1d(top_x, top_y)) / m


@dataclass
class Estimate:
    value: float
    lo: float = math.nan
    hi: float = math.nan


def estimate(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    confidence: float = 0.95,
) -> Estimate:
    """The statistic and its paired percentile-bootstrap interval (NaN when undefined)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant inputs make correlations NaN; reported as such
        value = statistic(x, y)
        if n_resamples <= 0 or len(x) < MIN_POINTS or not np.isfinite(value):
            return Estimate(value)
        res = stats.bootstrap(
            (x, y),
            statistic,
            paired=True,
            vectorized=False,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="percentile",
            rng=rng,
        )
    return Estimate(value, float(res.confidence_interval.low), float(res.confidence_interval.high))


def proxy_quality(
    proxy: np.ndarray, truth: np.ndarray, *, n_resamples: int, rng: np.random.Generator
) -> tuple[int, dict[str, Estimate]] | None:
    """ρ, τ and top-5 % precision on the archs that have both a proxy value and a truth."""
    ok = np.isfinite(proxy) & np.isfinite(truth)
    x, y = proxy[ok], truth[ok]
    if len(x) < 2:
        return None
    return len(x), {
        "spearman": estimate(spearman, x, y, n_resamples=n_resamples, rng=rng),
        "kendall": estimate(kendall, x, y, n_resamples=n_resamples, rng=rng),
        "top5": estimate(top_precision, x, y, n_resamples=n_resamples, rng=rng),
    }


#: the columns of a proxy-quality table (``analyze`` and ``predict eval``)
QUALITY_COLUMNS = [
    "proxy", "n", "spearman", "spearman_lo", "spearman_hi", "kendall", "kendall_lo", "kendall_hi",
    "top5", "top5_lo", "top5_hi",
]  # fmt: skip


def quality_cells(result: tuple[int, dict[str, Estimate]] | None) -> list:
    """The ``QUALITY_COLUMNS`` cells after the name, from a ``proxy_quality`` result."""
    if result is None:
        return [0] + [math.nan] * 9
    n, est = result
    cells = [n]
    for name in ("spearman", "kendall", "top5"):
        cells += [est[name].value, est[name].lo, est[name].hi]
    return cells


@dataclass
class ArchPoints:
    """Per distinct arch of one (space, dataset): proxy means, truth and costs (behind the scatter and
    Pareto plots), and each assessable column's quality estimates."""

    label: str
    source: str  # the truth's source ("" when none)
    archs: list[str]
    values: dict[str, np.ndarray]  # proxy / score columns (short names), "truth", "index", "params", "flops"
    quality: dict[str, tuple[int, dict[str, Estimate]]]  # column -> proxy_quality result
