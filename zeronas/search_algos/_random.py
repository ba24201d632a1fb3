"""Uniform random sampling from the space."""

from __future__ import annotations

from zeronas.search_algos._api import register_algorithm
from zeronas.search_algos._base import SearchAlgorithm


@register_algorithm("random", aliases=("rs", "random_search"))
class RandomSearch(SearchAlgorithm):
    """Independent uniform samples; tells are only used to avoid repeats (``avoid_repeats``, ``dedup_isomorphic``).

    A failed evaluation changes nothing but that: random search ranks no scores.
    """

    def _ask(self, n: int) -> list[str]:
        proposals = []
        for _ in range(n):
            arch = self._draw_new(lambda: self.space.sample(self.rng))
            if arch is None:  # the space (up to isomorphism) looks exhausted
                break
            proposals.append(arch)
        return proposals

    def _tell(self, arch: str, score: float | None, costs: dict[str, float]) -> None:
        pass
