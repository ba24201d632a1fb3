"""``bossnas``: the BossNAS rating of an SSS architecture by a supernet trained without labels.

Not zero-cost: it needs ``--proxy-option bossnas.checkpoint=PATH``, a checkpoint written by
``zeronas supernet train --method bossnas`` for the same space and data set. The value is the *negated* sum
of the blocks' distances to their ensemble targets (BossNAS ranks smaller distances higher; zeronas proxies
are larger-is-better). It builds no network and reads no scorer inputs: it looks up the distances the
training stored in the checkpoint. See ``docs/bossnas.md``.
"""

from __future__ import annotations

from typing import Any

from zeronas.errors import ZeronasError
from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext


@register_proxy("bossnas")
class BossNASProxy(Proxy):
    """Minus the BossNAS distance of the architecture (a trained supernet's rating; see the module docstring)."""

    needs = Needs(network=False, inputs="none")
    trained = True

    def __init__(self, checkpoint: str | None = None) -> None:
        from zeronas.bossnas import SupernetRating

        if checkpoint is None:
            raise ZeronasError(
                "the bossnas proxy rates with a trained supernet: pass --proxy-option bossnas.checkpoint=PATH "
                "(write one with 'zeronas supernet train --method bossnas')"
            )
        self.rating = SupernetRating(checkpoint)

    def check(self, space: str, dataset: str) -> None:
        self.rating.check(space, dataset)

    def training_cost(self) -> dict[str, Any]:
        return {"device_seconds": self.rating.device_seconds, "devices": self.rating.devices}

    def compute(self, ctx: ProxyContext) -> float:
        return -self.rating.distance(ctx.space.channels(ctx.arch))

    def __repr__(self) -> str:
        return f"BossNASProxy({str(self.rating.path)!r})"
