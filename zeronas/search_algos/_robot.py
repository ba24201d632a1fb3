"""RoBoT: "Robustifying and Boosting Training-Free NAS" (He et al., ICLR 2024, arXiv 2403.07591).

RoBoT scores an arch by a linear combination of normalised proxies with weights in [-1, 1] and
tunes the weights by Bayesian optimisation against a few validation lookups: each BO step takes
the weights with the best upper confidence bound (UCB) of a Gaussian process fitted to
(weights -> validation accuracy of the arch those weights rank first), looks that arch up, and
tells the GP. The lookups left after the BO steps go greedily down the best weights' ranking;
the search returns the best looked-up arch by validation.

Here the pool RoBoT ranks is what the search scored: proposals come from regularized evolution on
the run's objective (``--proxy``), and every proxy of the run (``--proxy`` and ``--extra-proxies``)
is a dimension of the weights. Proxies are normalised to their percentile among the pool (robust
to synflow's 1e30 scale). The GP is scikit-learn's ``GaussianProcessRegressor`` (Matern 5/2 +
white noise, normalised targets); UCB is maximised over random weight vectors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from zeronas.errors import ZeronasError
from zeronas.search_algos._api import register_algorithm
from zeronas.search_algos._evolution import RegularizedEvolution
from zeronas.spaces._base import SearchSpace

#: RoBoT's own six (grad_norm, snip, grasp, fisher, synflow, jacov) cost 0.1-1.1 s per arch each on a CPU;
#: the default weighs the cheap proxies a whole-space table holds (see docs/robot.md for the measurement)
DEFAULT_PROXIES = ("meco_opt", "meco_distinct", "synflow", "params", "flops", "sed")


@register_algorithm("robot")
class RoBoT(RegularizedEvolution):
    """Regularized evolution on the objective for the proposals; BO over proxy weights for the lookups.

    ``bo_fraction`` of the lookups are BO steps, the rest greedy down the best weights' ranking;
    ``kappa`` is UCB's exploration weight; ``candidates`` random weight vectors in [``min_weight``, 1]
    are scored by UCB at each step (RoBoT: [-1, 1]; the default [0, 1] measured better, see
    docs/robot.md). A failed lookup (no validation figure) counts as the worst accuracy seen; a failed
    proxy value counts as the worst percentile (as in the run's objective).
    """

    default_extra_proxies = DEFAULT_PROXIES

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        population_size: int = 64,
        sample_size: int = 16,
        bo_fraction: float = 0.8,
        kappa: float = 2.0,
        candidates: int = 2000,
        min_weight: float = 0.0,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        super().__init__(
            space,
            seed,
            population_size=population_size,
            sample_size=sample_size,
            dedup_isomorphic=dedup_isomorphic,
            avoid_repeats=avoid_repeats,
            max_retries=max_retries,
        )
        if not 0.0 <= float(bo_fraction) <= 1.0:
            raise ZeronasError(f"robot bo_fraction must be in [0, 1], got {bo_fraction!r}")
        if not math.isfinite(float(kappa)) or kappa < 0:
            raise ZeronasError(f"robot kappa must be >= 0, got {kappa!r}")
        if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
            raise ZeronasError(f"robot candidates must be a positive integer, got {candidates!r}")
        self.bo_fraction = float(bo_fraction)
        self.kappa = float(kappa)
        self.candidates = candidates
        if not -1.0 <= float(min_weight) < 1.0:
            raise ZeronasError(f"robot min_weight must be in [-1, 1), got {min_weight!r}")
        self.min_weight = float(min_weight)

    def spend_lookups(
        self,
        pool: Sequence[tuple[str, Mapping[str, float | None]]],
        lookup: Callable[[str], float | None],
        budget: int,
    ) -> list[tuple[str, float | None, float]]:
        """Spend ``budget`` distinct lookups on the pool; ``(arch, accuracy, score)`` in lookup order,
        ``score`` being the arch's combined score under the weights that chose it."""
        archs = [a for a, _ in pool]
        if not archs or budget < 1:
            return []
        features = _percentiles([v for _, v in pool])
        rng = np.random.default_rng(self.seed)
        known: dict[str, float | None] = {}
        spent: list[tuple[str, float | None, float]] = []
        tried_w: list[np.ndarray] = []
        tried_y: list[float | None] = []

        def take(i: int, score: float) -> float | None:
            arch = archs[i]
            if arch not in known:
                known[arch] = lookup(arch)
                spent.append((arch, known[arch], score))
            return known[arch]

        bo_lookups = min(len(archs), max(1, round(budget * self.bo_fraction)))
        # a step whose weights rank a known arch first costs no lookup; bound the steps all the same
        for _ in range(3 * budget):
            if len(spent) >= bo_lookups:
                break
            w = self._next_weights(tried_w, tried_y, features.shape[1], rng)
            scores = features @ w
            i = int(np.argmax(scores))
            tried_w.append(w)
            tried_y.append(take(i, float(scores[i])))
        best = self._best_weights(tried_w, tried_y, features.shape[1])
        scores = features @ best
        for i in np.argsort(-scores, kind="stable"):
            if len(spent) >= budget:
                break
            take(int(i), float(scores[i]))
        return spent

    def _next_weights(
        self, tried_w: list[np.ndarray], tried_y: list[float | None], dims: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Equal weights first (the plain rank ensemble), then uniform in [-1, 1]^d, then once two steps are
        told the UCB maximiser among random candidates."""
        candidates = rng.uniform(self.min_weight, 1.0, size=(self.candidates, dims))
        if not tried_w:
            return np.ones(dims)
        if len(tried_w) < 2:
            return candidates[0]
        mean, std = self._posterior(tried_w, tried_y, candidates)
        return candidates[int(np.argmax(mean + self.kappa * std))]

    @staticmethod
    def _best_weights(tried_w: list[np.ndarray], tried_y: list[float | None], dims: int) -> np.ndarray:
        """The weights the greedy lookups follow: the best tried ones (a GP's posterior mean fitted to a few
        steps extrapolates to weights that rank broken cells first; measured in docs/robot.md)."""
        if not tried_w:
            return np.ones(dims)
        return tried_w[int(np.argmax(_filled(tried_y)))]

    def _posterior(
        self, tried_w: list[np.ndarray], tried_y: list[float | None], candidates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        dims = candidates.shape[1]
        kernel = ConstantKernel(1.0) * Matern(length_scale=np.ones(dims), nu=2.5) + WhiteKernel(1e-3)
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=self.seed)
        with warnings.catch_warnings():  # a flat or tiny history leaves hyperparameters at their bounds
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(np.array(tried_w), _filled(tried_y))
        return gp.predict(candidates, return_std=True)


def _percentiles(rows: Sequence[Mapping[str, float | None]]) -> np.ndarray:
    """Each proxy's mid-rank percentile (0..1) among the pool; a failed value is 0 (the worst)."""
    names = sorted({n for r in rows for n, v in r.items() if v is not None})
    out = np.zeros((len(rows), max(1, len(names))))
    for j, name in enumerate(names):
        values = np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows])
        ok = np.isfinite(values)
        ordered = np.sort(values[ok])
        lo = np.searchsorted(ordered, values[ok], side="left")
        hi = np.searchsorted(ordered, values[ok], side="right")
        out[ok, j] = (lo + hi) / 2 / len(ordered)
    return out


def _filled(values: list[float | None]) -> np.ndarray:
    """Accuracies with failed lookups as the worst one seen (0 when none was seen)."""
    real = [v for v in values if v is not None]
    worst = min(real) if real else 0.0
    return np.array([worst if v is None else v for v in values], dtype=float)
