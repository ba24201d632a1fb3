"""NATS-Bench size search space (SSS): channel counts of 5 layers around a fixed cell."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from zeronas.spaces import _tss_cell as cell
from zeronas.spaces._api import register_space
from zeronas.spaces._base import check_flop_convention
from zeronas.spaces._categorical import CategoricalSpace

if TYPE_CHECKING:
    import torch.nn as nn

SSS_CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
SSS_LAYERS = 5
#: the fixed cell of every SSS network (TSS index 9930, best on CIFAR-100 validation)
SSS_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
_CHANNEL_INDEX = {c: i for i, c in enumerate(SSS_CHANNELS)}


@register_space("sss", aliases=("size",))
class SizeSpace(CategoricalSpace):
    """32,768 channel configurations, indexed like NATS-Bench (``itertools.product``, first layer slowest)."""

    size = len(SSS_CHANNELS) ** SSS_LAYERS
    channel_options = SSS_CHANNELS
    cell = SSS_CELL

    @property
    def choices(self) -> list[tuple[str, list]]:
        return [(f"layer_{i}", list(SSS_CHANNELS)) for i in range(SSS_LAYERS)]

    def parse(self, arch: str) -> tuple[int, ...]:
        if not isinstance(arch, str):
            raise ValueError(f"an SSS arch must be a string like '8:16:24:32:40', got {type(arch).__name__}")
        parts = arch.strip().split(":")
        if len(parts) != SSS_LAYERS:
            raise ValueError(f"SSS arch {arch!r} needs {SSS_LAYERS} channel counts joined by ':', found {len(parts)}")
        code = []
        for layer, part in enumerate(parts):
            try:
                channels = int(part)
            except ValueError:
                raise ValueError(f"layer {layer} of SSS arch {arch!r} is {part!r}, not an integer") from None
            if channels not in _CHANNEL_INDEX:
                options = ", ".join(map(str, SSS_CHANNELS))
                raise ValueError(f"layer {layer} of SSS arch {arch!r} has {channels} channels; choose one of {options}")
            code.append(_CHANNEL_INDEX[channels])
        return tuple(code)

    def format(self, code: Sequence[int]) -> str:
        return ":".join(str(SSS_CHANNELS[c]) for c in self.check_code(code))

    def channels(self, arch: str) -> list[int]:
        return [SSS_CHANNELS[c] for c in self.parse(arch)]

    def index_of(self, arch: str) -> int:
        index = 0
        for c in self.parse(arch):
            index = index * len(SSS_CHANNELS) + c
        return index

    def arch_at(self, index: int) -> str:
        index = int(index)
        if not 0 <= index < self.size:
            raise ValueError(f"SSS index {index} is outside 0..{self.size - 1}")
        code = []
        for _ in range(SSS_LAYERS):
            index, digit = divmod(index, len(SSS_CHANNELS))
            code.append(digit)
        return self.format(code[::-1])

    def build(self, arch: str, num_classes: int = 10) -> nn.Module:
        from zeronas.spaces._networks import DynamicShapeTinyNet

        genotype = cell.genotype(cell.parse_cell(SSS_CELL))
        return DynamicShapeTinyNet(self.channels(arch), genotype, int(num_classes))

    def params(self, arch: str, num_classes: int = 10) -> int:
        return _params(self.validate(arch), int(num_classes))

    def flops(self, arch: str, num_classes: int = 10, resolution: int = 32, convention: str = "nats-bench") -> float:
        return _flops(self.validate(arch), int(num_classes), int(resolution), check_flop_convention(convention))


@functools.lru_cache(maxsize=4096)
def _params(arch: str, num_classes: int) -> int:
    import torch

    from zeronas.spaces._costs import count_params

    with torch.device("meta"):  # shapes only: no weights initialised
        return count_params(SizeSpace().build(arch, num_classes))


@functools.lru_cache(maxsize=4096)
def _flops(arch: str, num_classes: int, resolution: int, convention: str) -> float:
    from zeronas.spaces._costs import count_flops, counting_build

    with counting_build():
        network = SizeSpace().build(arch, num_classes)
    return count_flops(network, resolution, convention=convention)
