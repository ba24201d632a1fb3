"""Regularized (aging) evolution, Real et al. 2019, "Regularized Evolution for Image
Classifier Architecture Search", run asynchronously.

Defaults are for a budget of about 1,000 evaluations: a population of 64 (the first 64
proposals are random) leaves ~15 full population turnovers, and a tournament of 16 (a
quarter of the population, the same ratio as the paper's P=100, S=25) keeps selection
pressure high without collapsing diversity.
"""

from __future__ import annotations

import math
from collections import Counter, deque

from zeronas.errors import ZeronasError
from zeronas.search_algos._api import register_algorithm
from zeronas.search_algos._base import SearchAlgorithm
from zeronas.spaces._base import SearchSpace


@register_algorithm("rea", aliases=("regularized_evolution", "evolution"))
class RegularizedEvolution(SearchAlgorithm):
    """Aging evolution: parent = best of ``sample_size`` random members, child = one mutation.

    The population is the ``population_size`` most recently *told* results (the oldest dies).
    Until the population, counting random proposals still being evaluated, is full, proposals
    are uniform random samples. Failed evaluations join the population with score -inf, so they
    age out without ever winning a tournament against a real score.
    """

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        population_size: int = 64,
        sample_size: int = 16,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        super().__init__(
            space, seed, dedup_isomorphic=dedup_isomorphic, avoid_repeats=avoid_repeats, max_retries=max_retries
        )
        if not isinstance(population_size, int) or population_size < 1:
            raise ZeronasError(f"rea population_size must be a positive integer, got {population_size!r}")
        if not isinstance(sample_size, int) or not 1 <= sample_size <= population_size:
            raise ZeronasError(
                f"rea sample_size must be an integer in 1..population_size ({population_size}), got {sample_size!r}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        self._population: deque[tuple[str, float]] = deque(maxlen=population_size)
        self._pending_random: Counter[str] = Counter()

    @property
    def population(self) -> list[tuple[str, float]]:
        """Current members ``(arch, score)``, oldest first."""
        return list(self._population)

    def _ask(self, n: int) -> list[str]:
        proposals = []
        for _ in range(n):
            arch = self._propose_one()
            if arch is None:
                break
            proposals.append(arch)
        return proposals

    def _propose_one(self) -> str | None:
        filling = len(self._population) + sum(self._pending_random.values()) < self.population_size
        if filling or not self._population:
            arch = self._draw_new(lambda: self.space.sample(self.rng))
            if arch is not None:
                self._pending_random[arch] += 1
            return arch
        child = self._draw_new(lambda: self.space.mutate(self._tournament(), self.rng))
        if child is None:  # every neighbour of the good parents is taken: explore instead
            child = self._draw_new(lambda: self.space.sample(self.rng))
        return child

    def _tournament(self) -> str:
        size = min(self.sample_size, len(self._population))
        picks = self.rng.choice(len(self._population), size=size, replace=False)
        # ties go to the earliest pick, which keeps the choice a function of the seed alone
        winner = max(picks, key=lambda i: self._population[i][1])
        return self._population[winner][0]

    def _tell(self, arch: str, score: float | None, costs: dict[str, float]) -> None:
        if self._pending_random[arch] > 0:
            self._pending_random[arch] -= 1
            if not self._pending_random[arch]:
                del self._pending_random[arch]
        self._population.append((arch, -math.inf if score is None else score))
