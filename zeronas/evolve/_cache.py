"""The statistics cache: per-layer statistics of each (arch, seed), computed once, kept in a NumPy file.

Evolution reads every formula's terminals from here, so a fitness costs array operations, never a
network. The file records how the statistics were measured (space, dataset, input kind and data,
batch, seed); a cache measured another way is refused, not mixed. Baseline proxies (MeCo, ...)
scored on the same networks are kept beside the statistics for the held-out comparison.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zeronas._atomic import atomic_write
from zeronas.errors import ZeronasError

__all__ = ["StatsCache", "StatsProtocol", "build_cache"]


@dataclass(frozen=True)
class StatsProtocol:
    space: str
    dataset: str
    input_kind: str
    data: str | None
    batch_size: int
    seed: int
    stats: tuple[str, ...]
    baselines: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatsProtocol:
        return cls(**{**data, "stats": tuple(data["stats"]), "baselines": tuple(data.get("baselines", ()))})


@dataclass
class StatsCache:
    """``stats[i]`` is the ``len(stats) x layers`` array of ``archs[i]``; ``baselines[name][i]`` its proxy value
    (NaN when that proxy failed); ``seconds[i]`` what arch ``i`` cost to measure."""

    protocol: StatsProtocol
    archs: list[str] = field(default_factory=list)
    stats: list[np.ndarray] = field(default_factory=list)
    baselines: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def save(self, path: Path) -> None:
        lengths = np.array([s.shape[1] for s in self.stats], dtype=np.int64)
        flat = (
            np.concatenate([s for s in self.stats], axis=1) if self.stats else np.zeros((len(self.protocol.stats), 0))
        )
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            protocol=np.array(json.dumps(self.protocol.to_dict())),
            archs=np.array(self.archs, dtype=str),
            lengths=lengths,
            flat=flat,
            seconds=np.array(self.seconds, dtype=np.float64),
            **{f"baseline_{k}": np.array(v, dtype=np.float64) for k, v in self.baselines.items()},
        )
        with atomic_write(path) as fh:
            fh.write(buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> StatsCache:
        try:
            with np.load(path, allow_pickle=False) as data:
                protocol = StatsProtocol.from_dict(json.loads(str(data["protocol"])))
                lengths = data["lengths"]
                flat = data["flat"]
                splits = np.split(flat, np.cumsum(lengths)[:-1], axis=1) if len(lengths) else []
                return cls(
                    protocol=protocol,
                    archs=[str(a) for a in data["archs"]],
                    stats=[np.array(s) for s in splits],
                    baselines={k: list(data[f"baseline_{k}"]) for k in protocol.baselines},
                    seconds=list(data["seconds"]),
                )
        except (OSError, ValueError, KeyError) as err:
            raise ZeronasError(f"{path} is not a statistics cache written by 'zeronas proxy evolve': {err}") from None

    def padded(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(values, mask)``: ``values[k, s, l]`` statistic ``s`` of layer ``l`` of arch ``indices[k]``
        (0 past its last layer), ``mask[k, l]`` True for real layers."""
        width = max((self.stats[i].shape[1] for i in indices), default=0)
        values = np.zeros((len(indices), len(self.protocol.stats), max(width, 1)))
        mask = np.zeros((len(indices), max(width, 1)), dtype=bool)
        for k, i in enumerate(indices):
            n = self.stats[i].shape[1]
            values[k, :, :n] = self.stats[i]
            mask[k, :n] = True
        return values, mask


def build_cache(
    path: Path | None,
    protocol: StatsProtocol,
    archs: Sequence[str],
    measure: Callable[[str], tuple[np.ndarray, dict[str, float | None]]],
    progress: Callable[[int, int, float], None] | None = None,
    save_every: float = 60.0,
) -> StatsCache:
    """The cache at ``path`` (created, or extended to ``archs``); ``measure(arch)`` gives the statistics and
    baseline values of one arch. Saved every ``save_every`` seconds, so an interrupted run keeps its work."""
    if path is not None and path.exists():
        cache = StatsCache.load(path)
        if cache.protocol != protocol:
            raise ZeronasError(
                f"the statistics cache {path} was measured another way ({cache.protocol.to_dict()}); this run "
                f"measures {protocol.to_dict()}; give another --cache"
            )
    else:
        cache = StatsCache(protocol=protocol, baselines={b: [] for b in protocol.baselines})
    have = set(cache.archs)
    todo = [a for a in dict.fromkeys(archs) if a not in have]
    last_save = time.monotonic()
    for done, arch in enumerate(todo, 1):
        start = time.perf_counter()
        stats, baselines = measure(arch)
        cache.archs.append(arch)
        cache.stats.append(stats)
        cache.seconds.append(time.perf_counter() - start)
        for name in protocol.baselines:
            value = baselines.get(name)
            cache.baselines[name].append(np.nan if value is None else float(value))
        if progress is not None:
            progress(done, len(todo), cache.seconds[-1])
        if path is not None and time.monotonic() - last_save > save_every:
            cache.save(path)
            last_save = time.monotonic()
    if path is not None and todo:
        cache.save(path)
    return cache
