"""Cell operations of the NATS-Bench networks.

Class names, attribute names and module nesting mirror xautodl's ``models/cell_operations.py``
on purpose: proxies such as MeCo hook every module, containers included, so a different nesting
would change their values.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn as nn


class ReLUConvBN(nn.Module):
    def __init__(self, C_in: int, C_out: int, kernel_size: int, stride: int, padding: int, dilation: int = 1) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_out, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(C_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in = C_in
        self.C_out = C_out
        self.stride = stride
        self.is_zero = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.C_in == self.C_out:
            if self.stride == 1:
                return x.mul(0.0)
            return x[:, :, :: self.stride, :: self.stride].mul(0.0)
        shape = list(x.shape)
        shape[1] = self.C_out
        return x.new_zeros(shape)


class POOLING(nn.Module):
    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.preprocess = None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, 0)
        self.op = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class FactorizedReduce(nn.Module):
    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.C_in = C_in
        self.C_out = C_out
        # Created for both strides (as in xautodl) although only the stride-2 path uses it.
        self.relu = nn.ReLU(inplace=False)
        if stride == 2:
            halves = [C_out // 2, C_out - C_out // 2]
            self.convs = nn.ModuleList(nn.Conv2d(C_in, c, 1, stride=stride, padding=0, bias=False) for c in halves)
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0)
        elif stride == 1:
            self.conv = nn.Conv2d(C_in, C_out, 1, stride=stride, padding=0, bias=False)
        else:
            raise ValueError(f"FactorizedReduce supports stride 1 or 2, not {stride}")
        self.bn = nn.BatchNorm2d(C_out, affine=True, track_running_stats=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = self.relu(x)
            y = self.pad(x)
            out = torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)


class ResNetBasicblock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"ResNetBasicblock supports stride 1 or 2, not {stride}")
        self.conv_a = ReLUConvBN(inplanes, planes, 3, stride, 1)
        self.conv_b = ReLUConvBN(planes, planes, 3, 1, 1)
        if stride == 2:
            self.downsample: nn.Module | None = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, padding=0, bias=False),
            )
        elif inplanes != planes:
            self.downsample = ReLUConvBN(inplanes, planes, 1, 1, 0)
        else:
            self.downsample = None
        self.in_dim = inplanes
        self.out_dim = planes
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        residual = self.downsample(x) if self.downsample is not None else x
        return residual + out


def _skip(C_in: int, C_out: int, stride: int) -> nn.Module:
    if stride == 1 and C_in == C_out:
        return Identity()
    return FactorizedReduce(C_in, C_out, stride)


OPS: dict[str, Callable[[int, int, int], nn.Module]] = {
    "none": lambda C_in, C_out, stride: Zero(C_in, C_out, stride),
    "skip_connect": _skip,
    "nor_conv_1x1": lambda C_in, C_out, stride: ReLUConvBN(C_in, C_out, 1, stride, 0),
    "nor_conv_3x3": lambda C_in, C_out, stride: ReLUConvBN(C_in, C_out, 3, stride, 1),
    "avg_pool_3x3": lambda C_in, C_out, stride: POOLING(C_in, C_out, stride),
}
