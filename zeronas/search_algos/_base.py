"""The ask/tell interface every search algorithm implements.

Shaped like Ray Tune's ``tune/search`` searchers: a driver asks for proposals, evaluates
them wherever it likes and tells the results back, in any order. Algorithms keep all their
state in plain Python objects (numpy generators, an in-memory Optuna study), so an instance
can be pickled and restored; it resumes with the same future proposals.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from zeronas.errors import ZeronasError
from zeronas.spaces._base import SearchSpace

__all__ = ["SearchAlgorithm"]


class SearchAlgorithm(ABC):
    """Propose architectures (``ask``) and learn from their scores (``tell``); scores are maximised.

    Several asks may be outstanding, tells may arrive in any order, and an architecture may be
    told that was never asked (a resumed search replays its log this way). ``score=None`` (or
    a non-finite score) marks a failed evaluation, which counts as the worst possible: an
    algorithm that learns from scores must rank it below every real score, never skip it
    (each subclass's docstring says how it does that). A failure never becomes ``best``.

    With ``dedup_isomorphic=True`` an algorithm never proposes an architecture whose
    isomorphism-canonical form (``space.canonical``) it has already proposed or been told;
    after ``max_retries`` duplicates in a row ``ask`` returns fewer proposals than asked.
    ``avoid_repeats=True`` does the same for exact repeats only: every proposal is an
    architecture the algorithm has neither proposed nor been told (what a budget of distinct
    evaluations needs; REA, for one, otherwise keeps re-proposing neighbours it has seen).
    Seeded: the same seed and the same sequence of calls give the same proposals.
    """

    #: registry name, set by ``register_algorithm``
    name: ClassVar[str] = ""

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        self.space = _resolve_space(space)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ZeronasError(f"search seed must be a non-negative integer, got {seed!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, numbers.Integral) or max_retries < 1:
            raise ZeronasError(f"max_retries must be a positive integer, got {max_retries!r}")
        self.seed = int(seed)
        self.dedup_isomorphic = bool(dedup_isomorphic)
        self.avoid_repeats = bool(avoid_repeats) or self.dedup_isomorphic
        self.max_retries = int(max_retries)
        self.rng = np.random.default_rng(self.seed)
        #: proposals returned by ``ask`` so far
        self.n_proposed = 0
        #: results received by ``tell`` so far (failed ones included)
        self.n_told = 0
        self._seen: set[str] = set()  # dedup keys of proposed or told archs (only with dedup)
        self._best: tuple[str, float] | None = None

    # -- public API ----------------------------------------------------------
    def ask(self, n: int) -> list[str]:
        """Up to ``n`` proposals as arch strings; fewer only when no new architecture can be found."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"ask(n) needs a non-negative integer n, got {n!r}")
        proposals = self._ask(int(n)) if n else []
        self.n_proposed += len(proposals)
        return proposals

    def tell(self, arch: str, score: float | None, costs: Mapping[str, float] | None = None) -> None:
        """Report the score of ``arch`` (None: the evaluation failed). ``costs`` e.g. ``{"params": ..}``.

        An arch outside the space (DARTS: a ``none`` edge) counts as told and may be ``best``, but the
        algorithm does not learn from it: it has no code, so it cannot be mutated or modelled."""
        arch = self.space.validate(arch)
        value = _as_score(score)
        costs = dict(costs) if costs else {}
        self.n_told += 1
        if self.avoid_repeats:
            self._seen.add(self._key(arch))
        if value is not None and (self._best is None or value > self._best[1]):
            self._best = (arch, value)
        if not self.space.in_space(arch) and not self.space.is_supernet(arch):
            return  # a given arch outside the space (DARTS: a none edge) has no code to learn from or mutate
        self._tell(arch, value, costs)

    @property
    def best(self) -> tuple[str, float] | None:
        """The best ``(arch, score)`` told so far, or None."""
        return self._best

    @property
    def finished(self) -> bool:
        """True once the algorithm will propose nothing more, whatever it is told (most never finish:
        a budget stops them). A driver stops asking then, and waits for results while ``ask`` returns
        nothing but the algorithm is not finished."""
        return False

    def spend_lookups(
        self,
        pool: Sequence[tuple[str, Mapping[str, float | None]]],
        lookup: Callable[[str], float | None],
        budget: int,
    ) -> list[tuple[str, float | None, float]] | None:
        """Stage 2: spend up to ``budget`` validation lookups on the scored ``pool`` of ``(arch, proxy
        values)``; return ``(arch, accuracy, score)`` in lookup order. None (the default): the pipeline
        validates its top-k by score. An algorithm that learns from lookups (``robot``) overrides it."""
        return None

    # -- for subclasses ------------------------------------------------------
    @abstractmethod
    def _ask(self, n: int) -> list[str]:
        """Return up to ``n`` (n >= 1) proposals."""

    @abstractmethod
    def _tell(self, arch: str, score: float | None, costs: dict[str, float]) -> None:
        """Learn from one result; ``arch`` is normalised and ``score`` is finite or None."""

    def _key(self, arch: str) -> str:
        """What duplicates are judged by: the canonical form with dedup, else the arch itself."""
        return self.space.canonical(arch) if self.dedup_isomorphic else arch

    def _claim(self, arch: str) -> bool:
        """Without dedup always True; with dedup True (and remembered) only for a new key."""
        if not self.avoid_repeats:
            return True
        key = self._key(arch)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _draw_new(self, draw: Callable[[], str]) -> str | None:
        """Call ``draw`` until it gives an arch that ``_claim`` accepts, at most ``max_retries`` times."""
        for _ in range(self.max_retries):
            arch = draw()
            if self._claim(arch):
                return arch
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space.name!r}, seed={self.seed})"


def _resolve_space(space: SearchSpace | str) -> SearchSpace:
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, str):
        from zeronas.spaces import get_space

        return get_space(space)
    raise ZeronasError(f"space must be a SearchSpace or a space name, got {type(space).__name__}")


def _as_score(score: Any) -> float | None:
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, numbers.Real):
        raise ValueError(f"score must be a real number or None, got {score!r}")
    value = float(score)
    return value if math.isfinite(value) else None
