"""Numerical references for ``sed``, ``swap`` and ``ntk``: hand computations on tiny cells and networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from zeronas.proxies import ArchScorer, ProxyContext, get_proxy
from zeronas.proxies._swap import count_patterns, default_mu_sigma
from zeronas.spaces import get_space


def _context(model: nn.Module, x: torch.Tensor) -> ProxyContext:
    return ProxyContext(
        arch="",
        space=get_space("tss"),
        model=model,
        dataset="cifar10",
        num_classes=1,
        resolution=1,
        seed=0,
        device=torch.device("cpu"),
        sample=x[:1],
        batches=[(x, torch.zeros(len(x), dtype=torch.long))],
    )


@pytest.mark.parametrize(
    "arch,expected",
    [
        # every edge a 3x3 conv: 6 live edges x 9
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 54.0),
        # only 3<-0 reaches the output: nodes 1 and 2 are dead ends, so one pool edge counts
        ("|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|none~2|", -1.0),
        # 1x1 (1) + skip (-1) + pool (-1) + 3x3 (9) on live edges; 2<-0 is none
        ("|nor_conv_1x1~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|", 8.0),
        # no path from input to output
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|", -7.0),
    ],
)
def test_sed_by_hand(arch: str, expected: float):
    scorer = ArchScorer(space="tss", proxies=["sed"])
    assert scorer.score(arch).values["sed"] == expected


def test_sed_of_sss_is_its_fixed_cell():
    # nor_conv_3x3 on 1<-0, 2<-0, 2<-1, 3<-1, 3<-2 (45) and skip on 3<-0 (-1): one value for every SSS network
    scorer = ArchScorer(space="sss", proxies=["sed"])
    assert {scorer.score(a).values["sed"] for a in ("8:16:24:32:40", "64:64:64:64:64")} == {44.0}


def test_sed_refuses_darts_in_one_line():
    arch = get_space("darts").sample(np.random.default_rng(0))
    score = ArchScorer(space="darts", proxies=["sed"]).score(arch)
    assert score.values["sed"] is None
    assert score.errors["sed"] == "ValueError: sed is defined for the tss and sss spaces, not darts"


def test_swap_counts_distinct_neuron_patterns():
    # 3 samples x 4 neurons: columns (1,0,1) (0,0,0) (1,1,1) (1,1,1) -> 3 distinct patterns
    codes = torch.tensor([[1, 0, 1, 1], [0, 0, 1, 1], [1, 0, 1, 1]], dtype=torch.bool)
    assert count_patterns(codes) == 3
    # more than 8 samples: patterns span several packed bytes; 10 samples, neuron j fires on sample j only
    assert count_patterns(torch.eye(10, dtype=torch.bool).repeat(1, 3)) == 10


def test_swap_on_a_tiny_network_by_hand():
    conv = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
    model = nn.Sequential(conv, nn.ReLU())
    x = torch.tensor([1.0, -1.0, 2.0]).reshape(3, 1, 1, 1)
    # channel 0 fires on samples (1, 0, 1), channel 1 on (0, 1, 0): 2 patterns
    assert get_proxy("swap", regularise=False).compute(_context(model, x)) == 2.0
    # 2 parameters = 0.002 thousand; f = exp(-(0.002 - 0.001)^2 / 1e-6) = e^-1
    value = get_proxy("swap", mu=0.001, sigma=1e-6).compute(_context(model, x))
    assert value == pytest.approx(2.0 * math.exp(-1.0), rel=1e-9)


def test_swap_default_regulariser_spans_the_space():
    mu, sigma = default_mu_sigma("tss", 10)
    space = get_space("tss")
    largest = space.params(space.format([3] * 6))  # every edge nor_conv_3x3
    smallest = space.params(space.format([0] * 6))  # every edge none
    assert mu == pytest.approx(largest / 1e3)
    assert sigma == pytest.approx((largest - smallest) ** 2 / 4e6)


def test_ntk_condition_number_by_hand():
    # logits = w . x, so each sample's gradient is x itself and the NTK is X X^T = [[1, 1], [1, 2]]
    model = nn.Linear(2, 1, bias=False)
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    value = get_proxy("ntk").compute(_context(model, x))
    assert value == pytest.approx(-(3 + math.sqrt(5)) / (3 - math.sqrt(5)), rel=1e-9)
    assert model.weight.grad is None


def test_ntk_refuses_a_singular_kernel():
    model = nn.Linear(2, 1, bias=False)
    x = torch.tensor([[1.0, 1.0], [2.0, 2.0]])  # parallel gradients: rank-1 kernel
    with pytest.raises(FloatingPointError, match="singular NTK"):
        get_proxy("ntk").compute(_context(model, x))
