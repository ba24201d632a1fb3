"""Per-search quality figures and the algorithm comparison under a fixed proxy
(mean ± std, median over seeds; Wilcoxon signed-rank test paired by seed)."""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_POWERFUL_PAIRS = 6


@dataclass
class SearchFigures:
    key: str
    label: str
    algorithm: str
    seed: int | None
    group: tuple[str, str, str]  # (space, dataset, objective)
    n_evals: int
    n_proposed: int | None
    duplicate_share: float
    isomorphic_share: float
    best_score: float
    #: test accuracy of the architecture the search returned (its ``test`` row): the headline
    returned_test: float
    #: the returned architecture (None before the search has returned) and its validation accuracy
    returned_arch: str | None
    returned_valid: float
    #: the search validated on the test split (``--select-on-test``)
    selected_on_test: bool
    #: oracle: best true accuracy among the search's top-k by score (not something a search can return)
    final_topk_acc: float
    best_validated: float
    best_trained: float
    #: best test accuracy in the space − returned_test
    regret: float
    n_lookups: int
    #: a supernet-training search's seconds on its device (GPU-seconds on a GPU); NaN for a zero-shot search
    train_device_s: float
    train_epochs: int
    wall_s: float
    evals_per_s: float


def duplicate_share(n_evals: int, n_proposed: np.ndarray) -> tuple[int | None, float]:
    """Proposals that repeated an arch already evaluated, as a share of all proposals."""
    ok = n_proposed[np.isfinite(n_proposed)]
    if not len(ok):
        return None, math.nan
    total = int(ok.max())
    return total, (total - n_evals) / total if total else math.nan


def isomorphic_share(canonical: np.ndarray) -> float:
    """Evaluated archs whose canonical form had already been evaluated."""
    known = [c for c in canonical if c is not None]
    if not known:
        return math.nan
    return 1.0 - len(set(known)) / len(known)


def nanmax(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if len(finite) else math.nan


def summarise(values: list[float]) -> dict[str, float]:
    v = np.array([x for x in values if np.isfinite(x)], dtype=float)
    if not len(v):
        return {"mean": math.nan, "std": math.nan, "median": math.nan}
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "median": float(np.median(v)),
    }


@dataclass
class PairedTest:
    a: str
    b: str
    n_pairs: int
    mean_diff: float
    statistic: float
    p_value: float
    note: str


def paired_test(a: str, b: str, values_a: dict, values_b: dict) -> PairedTest:
    """Wilcoxon signed-rank on the seeds both algorithms ran (``values_*``: seed -> value)."""
    seeds = sorted(s for s in set(values_a) & set(values_b) if np.isfinite(values_a[s]) and np.isfinite(values_b[s]))
    n = len(seeds)
    diff = np.array([values_a[s] - values_b[s] for s in seeds], dtype=float)
    mean_diff = float(diff.mean()) if n else math.nan
    if n < 2:
        return PairedTest(a, b, n, mean_diff, math.nan, math.nan, f"skipped: needs ≥ 2 seeds run by both, got {n}")
    if np.all(diff == 0):
        return PairedTest(a, b, n, mean_diff, math.nan, 1.0, "identical results on every seed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.wilcoxon(diff)
    note = "" if n >= MIN_POWERFUL_PAIRS else f"only {n} pairs: the test has little power"
    return PairedTest(a, b, n, mean_diff, float(res.statistic), float(res.pvalue), note)


def pairwise_tests(by_algorithm: dict[str, dict]) -> list[PairedTest]:
    return [
        paired_test(a, b, by_algorithm[a], by_algorithm[b]) for a, b in itertools.combinations(sorted(by_algorithm), 2)
    ]
