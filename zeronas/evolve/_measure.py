"""Measure one arch for the statistics cache: its per-layer statistics and the baseline proxies."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from zeronas.evolve._cache import StatsProtocol

__all__ = ["make_measure", "sample_archs"]


def sample_archs(archs: Sequence[str], n: int, seed: int) -> list[str]:
    """The first ``n`` of a seeded permutation of ``archs`` (sorted first): a smaller sample is a prefix of a
    larger one, so a cache built for one size serves every smaller size."""
    ordered = sorted(set(archs))
    order = np.random.default_rng(seed).permutation(len(ordered))
    return [ordered[i] for i in order[:n]]


def make_measure(protocol: StatsProtocol, device: str = "cpu") -> Callable[[str], tuple[np.ndarray, dict]]:
    """``measure(arch) -> (stats, baseline values)``: the network built and fed exactly as ``ArchScorer`` does
    under ``protocol.seed`` (the baselines come from an ``ArchScorer`` of the same protocol)."""
    from zeronas.proxies import ArchScorer
    from zeronas.proxies._layer_stats import layer_statistics

    scorer = ArchScorer(
        space=protocol.space,
        proxies=list(protocol.baselines) or ["params"],
        dataset=protocol.dataset,
        data=protocol.data,
        seed=protocol.seed,
        device=device,
        batch_size=protocol.batch_size,
    )

    def measure(arch: str) -> tuple[np.ndarray, dict]:
        model = scorer.build(arch)
        x, y = scorer.batches[0]
        stats = layer_statistics(model, x, y)
        baselines = scorer.score(arch).values if protocol.baselines else {}
        return stats, baselines

    return measure
