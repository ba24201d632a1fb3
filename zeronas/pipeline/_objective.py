"""What a search maximises: one proxy, or a weighted rank combination of several."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from zeronas.errors import ZeronasError


@dataclass
class Objective:
    """``meco`` or ``meco:1,synflow:0.5``.

    With several proxies the score of an arch is ``sum_i w_i * q_i``, where ``q_i`` is the
    arch's percentile (0..1) among the values of proxy ``i`` seen so far in this search.
    Percentiles make proxies on different scales (synflow ~1e30, MeCo ~1e3) comparable and
    are robust to outliers. A failed proxy (None) counts as the worst percentile.
    """

    weights: dict[str, float]
    _seen: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, spec: str) -> Objective:
        """``--proxy`` text -> objective; names and aliases resolve like ``get_proxy`` (``naswot`` -> ``nwot``)."""
        from zeronas.proxies import proxy_families, resolve_proxy  # here, not at the top: search trials stay torch-free

        weights: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, sep, weight = part.rpartition(":")
            if not sep:
                name, weight = part, ""
            try:
                w = float(weight) if weight else 1.0
            except ValueError:
                if part.split(":", 1)[0].strip().lower() not in proxy_families():  # evolved:FILE is a name
                    raise ZeronasError(
                        f"bad weight {weight!r} for proxy {name.strip()!r} in --proxy {spec!r}; "
                        "use e.g. meco:1,synflow:0.5"
                    ) from None
                name, w = part, 1.0
            key = resolve_proxy(name, where="--proxy")
            if key in weights:
                raise ZeronasError(f"proxy {key!r} appears twice in --proxy {spec!r}; give each proxy once")
            weights[key] = w
        if not weights:
            raise ZeronasError("--proxy is empty; name at least one proxy, e.g. --proxy meco")
        return cls(weights)

    @property
    def proxies(self) -> list[str]:
        return list(self.weights)

    @property
    def is_single(self) -> bool:
        return len(self.weights) == 1

    def spec(self) -> str:
        if self.is_single:
            return self.proxies[0]
        return ",".join(f"{k}:{v:g}" for k, v in self.weights.items())

    def observe(self, values: Mapping[str, float | None]) -> float | None:
        """Record one arch's proxy values and return its score now."""
        if self.is_single:
            return values.get(self.proxies[0])
        score = 0.0
        for name, w in self.weights.items():
            seen = self._seen.setdefault(name, [])
            v = values.get(name)
            if v is not None:
                bisect.insort(seen, v)
            score += w * (_percentile(seen, v) if v is not None else 0.0)
        return score

    def final_scores(self, rows: list[Mapping[str, float | None]]) -> list[float | None]:
        """Scores of all archs against the whole search's values (used for the final top-k)."""
        if self.is_single:
            return [r.get(self.proxies[0]) for r in rows]
        ordered = {n: sorted(r[n] for r in rows if r.get(n) is not None) for n in self.weights}
        return [
            sum(
                w * (_percentile(ordered[n], r.get(n)) if r.get(n) is not None else 0.0)
                for n, w in self.weights.items()
            )
            for r in rows
        ]


def _percentile(sorted_values: list[float], v: float) -> float:
    if not sorted_values:
        return 0.0
    # mid-rank of v among the values, scaled to [0, 1]
    lo = bisect.bisect_left(sorted_values, v)
    hi = bisect.bisect_right(sorted_values, v)
    return ((lo + hi) / 2) / len(sorted_values)
