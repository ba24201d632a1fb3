"""A test plugin: a proxy that takes a fixed time and almost no CPU, so that a search's pace does not depend on
how loaded the machine is (the clock of the recovery tests). Its value is a fixed hash of the arch, so an
algorithm still has scores to rank."""

import time
import zlib

from zeronas.proxies import Needs, Proxy, register_proxy


@register_proxy("fixed_time")
class FixedTime(Proxy):
    needs = Needs(network=False, inputs="none")

    def __init__(self, seconds: float = 0.25) -> None:
        if seconds < 0:
            raise ValueError(f"fixed_time needs seconds >= 0, got {seconds}")
        self.seconds = seconds

    def compute(self, ctx):
        time.sleep(self.seconds)
        return float(zlib.crc32(ctx.arch.encode()) % 10_000)
