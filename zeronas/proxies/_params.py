"""``params``: the parameter count (the classic baseline; NAS-Bench-Suite-Zero,
Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks). Taken from the space's
cost model (``space.params``), not from a network; no inputs."""

from __future__ import annotations

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext


@register_proxy("params")
class Params(Proxy):
    needs = Needs(network=False, inputs="none")

    def compute(self, ctx: ProxyContext) -> float:
        return float(ctx.space.params(ctx.arch, num_classes=ctx.num_classes))
