"""GreenMachine: evolve zero-cost proxies by genetic programming over per-layer network statistics.

``zeronas proxy evolve`` measures a labelled sample once into a :class:`StatsCache`, evolves formulas
with DEAP (:func:`evolve`) and writes the best one; the ``evolved:FILE`` proxy scores with it.
"""

from zeronas.evolve._cache import StatsCache, StatsProtocol, build_cache
from zeronas.evolve._measure import make_measure, sample_archs

__all__ = ["StatsCache", "StatsProtocol", "build_cache", "make_measure", "sample_archs"]
