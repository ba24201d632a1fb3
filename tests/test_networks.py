"""NATS-Bench networks: module nesting, forward passes, parameter and FLOP counts.

Reference figures are NATS-Bench's own records (``api.get_cost_info``), quoted in
D-X-Y/NATS-Bench issues #18, #24 and #36.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from zeronas.spaces import get_space
from zeronas.spaces._networks import DynamicShapeTinyNet, InferCell, TinyNetwork
from zeronas.spaces._ops import POOLING, FactorizedReduce, Identity, ReLUConvBN, ResNetBasicblock, Zero

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
SKIPPY = "|none~0|+|none~0|skip_connect~1|+|skip_connect~0|skip_connect~1|none~2|"
INDEX_0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
INDEX_1 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.mark.parametrize(
    ("arch", "classes", "params"),
    [
        (ALL_CONV, 10, 1_531_546),
        (ALL_CONV, 100, 1_537_396),
        (ALL_CONV, 120, 1_538_696),
        (SKIPPY, 10, 73_306),
        (INDEX_0, 10, 129_306),
        (INDEX_1, 10, 802_426),
        (INDEX_1, 100, 808_276),
        (INDEX_1, 120, 809_576),
    ],
)
def test_tss_params_match_nats_bench(arch, classes, params):
    tss = get_space("tss")
    assert tss.params(arch, classes) == params
    assert sum(p.numel() for p in tss.build(arch, classes).parameters()) == params


@pytest.mark.parametrize(
    ("arch", "classes", "resolution", "mflops"),
    [
        (INDEX_0, 10, 32, 15.64737),
        (INDEX_0, 100, 32, 15.65322),
        (INDEX_0, 120, 16, 3.91948),
        (INDEX_1, 10, 32, 113.95137),
        (ALL_CONV, 10, 32, 220.11969),
        (ALL_CONV, 120, 16, 55.03756),
    ],
)
def test_tss_flops_match_nats_bench(arch, classes, resolution, mflops):
    assert get_space("tss").flops(arch, classes, resolution) == pytest.approx(mflops, abs=5e-6)


@pytest.mark.parametrize(("classes", "resolution", "mflops"), [(10, 32, 222.86), (10, 16, 55.72), (120, 16, 55.72)])
def test_all_ops_flops_reproduce_the_per_module_counters_figure(classes, resolution, mflops):
    # The issue's 222.86 / 55.72 count BatchNorm, ReLU and pooling as well (ptflops' convention).
    tss = get_space("tss")
    assert round(tss.flops(ALL_CONV, classes, resolution, convention="all-ops"), 2) == mflops
    assert tss.flops(ALL_CONV, classes, resolution) < tss.flops(ALL_CONV, classes, resolution, convention="all-ops")
    with pytest.raises(ValueError, match="use one of nats-bench, all-ops"):
        tss.flops(ALL_CONV, convention="ptflops")


def test_costs_match_a_built_network_and_validate_input():
    from zeronas.spaces._costs import count_flops, count_params

    tss = get_space("tss")
    rng = np.random.default_rng(11)
    for arch in [tss.sample(rng) for _ in range(6)] + [ALL_CONV]:
        for num_classes, resolution in [(10, 32), (120, 16)]:
            net = tss.build(arch, num_classes)
            assert tss.params(arch, num_classes) == count_params(net)
            assert tss.flops(arch, num_classes, resolution) == pytest.approx(count_flops(net, resolution), abs=1e-9)
            assert tss.flops(arch, num_classes, resolution, convention="all-ops") == pytest.approx(
                count_flops(net, resolution, convention="all-ops"), abs=1e-9
            )
    assert tss.flops(" " + ALL_CONV + " ") == tss.flops(ALL_CONV)  # normalised input
    with pytest.raises(ValueError):
        tss.params("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def test_tss_module_nesting_mirrors_xautodl():
    net = get_space("tss").build(ALL_CONV, 10)
    assert isinstance(net, TinyNetwork)
    children = dict(net.named_children())
    assert list(children) == ["stem", "cells", "lastact", "global_pooling", "classifier"]
    assert [type(m) for m in net.stem] == [nn.Conv2d, nn.BatchNorm2d]
    assert [type(m) for m in net.lastact] == [nn.BatchNorm2d, nn.ReLU] and net.lastact[1].inplace
    assert isinstance(net.global_pooling, nn.AdaptiveAvgPool2d)
    assert (net.classifier.in_features, net.classifier.out_features) == (64, 10)
    kinds = [type(c).__name__ for c in net.cells]
    assert (
        kinds == ["InferCell"] * 5 + ["ResNetBasicblock"] + ["InferCell"] * 5 + ["ResNetBasicblock"] + ["InferCell"] * 5
    )
    assert [c.out_dim for c in net.cells] == [16] * 5 + [32] * 6 + [64] * 6
    cell = net.cells[0]
    assert isinstance(cell.layers, nn.ModuleList) and len(cell.layers) == 6
    op = cell.layers[0]
    assert isinstance(op, ReLUConvBN)
    assert [type(m) for m in op.op] == [nn.ReLU, nn.Conv2d, nn.BatchNorm2d]
    assert not op.op[0].inplace and op.op[1].bias is None and op.op[2].affine and op.op[2].track_running_stats
    block = net.cells[5]
    assert [name for name, _ in block.named_children()] == ["conv_a", "conv_b", "downsample"]
    assert [type(m) for m in block.downsample] == [nn.AvgPool2d, nn.Conv2d]
    assert block.conv_a.op[1].stride == (2, 2)
    # 1 net + 3 stem + 1 ModuleList + 15 cells x 32 + 2 blocks x 14 + 3 lastact + pool + classifier
    assert len(list(net.modules())) == 518


def test_tss_op_modules():
    net = get_space("tss").build("|none~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|none~2|")
    layers = net.cells[0].layers
    assert [type(m) for m in layers] == [Zero, Identity, POOLING, ReLUConvBN, Zero, Zero]
    assert layers[2].preprocess is None and layers[2].op.count_include_pad is False
    assert layers[3].op[1].kernel_size == (1, 1)
    x = torch.randn(2, 16, 8, 8)
    assert torch.equal(layers[0](x), torch.zeros_like(x))
    assert layers[1](x) is x


def test_op_modules_with_channel_change():
    assert torch.equal(Zero(8, 16, 1)(torch.ones(1, 8, 4, 4)), torch.zeros(1, 16, 4, 4))
    assert Zero(8, 8, 2)(torch.ones(1, 8, 4, 4)).shape == (1, 8, 2, 2)
    pool = POOLING(8, 16, 1)
    assert isinstance(pool.preprocess, ReLUConvBN) and pool(torch.randn(1, 8, 4, 4)).shape == (1, 16, 4, 4)
    reduce2 = FactorizedReduce(8, 16, 2)
    assert reduce2(torch.randn(1, 8, 4, 4)).shape == (1, 16, 2, 2)
    with pytest.raises(ValueError):
        FactorizedReduce(8, 16, 3)
    with pytest.raises(ValueError):
        ResNetBasicblock(8, 16, 3)


def test_sss_network_follows_dynamic_shape_tiny_net():
    sss = get_space("sss")
    net = sss.build("8:16:24:32:40", 100)
    assert isinstance(net, DynamicShapeTinyNet)
    assert [type(c) for c in net.cells] == [InferCell, ResNetBasicblock, InferCell, ResNetBasicblock, InferCell]
    assert [(c.in_dim, c.out_dim) for c in net.cells] == [(8, 8), (8, 16), (16, 24), (24, 32), (32, 40)]
    assert net.stem[0].out_channels == 8 and net.classifier.in_features == 40 and net.classifier.out_features == 100
    # fixed cell: conv3x3 everywhere except the 3<-0 skip, which changes channels 16 -> 24 in cell 2
    second = net.cells[2].layers
    assert [type(m) for m in second] == [ReLUConvBN, ReLUConvBN, ReLUConvBN, FactorizedReduce, ReLUConvBN, ReLUConvBN]
    assert second[0].op[1].in_channels == 16 and second[2].op[1].in_channels == 24
    skip = second[3]
    assert skip.stride == 1 and skip.conv.in_channels == 16 and skip.conv.out_channels == 24
    assert [name for name, _ in skip.named_children()] == ["relu", "conv", "bn"]
    assert isinstance(net.cells[0].layers[3], Identity)


def test_sss_param_count_by_hand():
    # largest SSS net (all 64) equals the TSS net of its cell with 1 cell per stage and constant width
    sss = get_space("sss")
    net = sss.build("64:64:64:64:64", 10)
    conv3 = 64 * 64 * 9 + 2 * 64  # ReLUConvBN: conv weight + BN affine
    cell = 5 * conv3  # skip is Identity at equal width
    block = 2 * conv3 + 64 * 64
    expected = (3 * 64 * 9 + 2 * 64) + 3 * cell + 2 * block + 2 * 64 + (64 * 10 + 10)
    assert sss.params("64:64:64:64:64") == expected == sum(p.numel() for p in net.parameters())
    assert sss.params("8:8:8:8:8") < sss.params("8:8:8:8:64") < sss.params("64:64:64:64:64")
    assert sss.flops("64:64:64:64:64", 10, 16) == pytest.approx(sss.flops("64:64:64:64:64", 10, 32) / 4, rel=0.01)


@pytest.mark.parametrize("name", ["tss", "sss"])
def test_random_networks_run_forward(name):
    space = get_space(name)
    rng = np.random.default_rng(7)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    for _ in range(4):
        arch = space.sample(rng)
        net = space.build(arch, num_classes=100)
        logits = net(x)
        assert logits.shape == (2, 100) and torch.isfinite(logits).all()
        features = net.forward_features(x)
        assert features.dim() == 4 and features.shape[:2] == (2, net.classifier.in_features)
        assert features.shape[2:] == (8, 8)
        pooled = net.classifier(features.mean(dim=(2, 3)))
        assert torch.allclose(pooled, logits, atol=1e-5)


def test_imagenet16_resolution_forward():
    net = get_space("tss").build(ALL_CONV, 120)
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 120)
    assert net.forward_features(torch.randn(1, 3, 16, 16)).shape == (1, 64, 4, 4)


def test_degenerate_cell_output_ignores_input():
    tss = get_space("tss")
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"
    assert tss.is_degenerate(arch)
    net = tss.build(arch).eval()
    with torch.no_grad():
        a, b = net(torch.randn(1, 3, 32, 32)), net(torch.randn(1, 3, 32, 32))
    assert torch.allclose(a, b)


@pytest.mark.parametrize("name", ["tss", "sss", "darts"])
def test_counting_costs_builds_networks_without_drawing_from_the_callers_rng(name):
    """Costs are counted on networks built for the purpose (uncached here: 7 classes, 24 px); a scorer counts
    them between seeding and building the network it scores, so a draw would change every proxy value."""
    space = get_space(name)
    arch = space.arch_at(7)
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    assert space.params(arch, num_classes=7) > 0 and space.flops(arch, num_classes=7, resolution=24) > 0
    assert torch.equal(torch.rand(3), expected)
