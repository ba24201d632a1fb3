"""A test plugin: a proxy that is NaN for cells with a 1x1 conv, 1.0 otherwise."""

import math

from zeronas.proxies import Needs, Proxy, register_proxy


@register_proxy("nan_on_1x1")
class NanOn1x1(Proxy):
    needs = Needs(network=False, inputs="none")

    def compute(self, ctx):
        return math.nan if "nor_conv_1x1" in ctx.arch else 1.0
