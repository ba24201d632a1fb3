"""``flops``: forward FLOPs in millions (the classic baseline; NAS-Bench-Suite-Zero,
Krishnakumar et al., NeurIPS 2022 Datasets and Benchmarks). Taken from the space's cost
model (``space.flops``, NATS-Bench convention) at the dataset's resolution; no inputs."""

from __future__ import annotations

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext


@register_proxy("flops")
class Flops(Proxy):
    needs = Needs(network=False, inputs="none")

    def compute(self, ctx: ProxyContext) -> float:
        return float(ctx.space.flops(ctx.arch, num_classes=ctx.num_classes, resolution=ctx.resolution))
