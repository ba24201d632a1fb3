"""MeCo: the fast implementation against a plain per-hook-call reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
from meco_reference import reference_meco

from zeronas.proxies import ArchScorer, get_proxy
from zeronas.proxies._meco import min_corr_eigenvalues, record_features
from zeronas.spaces import get_space


def _random_archs(space_name: str, n: int, seed: int) -> list[str]:
    space = get_space(space_name)
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


@pytest.mark.parametrize("space_name,n", [("tss", 10), ("sss", 6)])
@pytest.mark.slow
def test_meco_matches_plain_reference(space_name: str, n: int):
    scorer = ArchScorer(space=space_name, proxies=["meco", "meco_distinct"], seed=3, batch_size=2)
    archs = _random_archs(space_name, n, seed=11)
    if space_name == "tss":  # include the degenerate all-none and all-skip cells
        archs += [
            "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
            "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        ]
    for arch in archs:
        got = scorer.score(arch)
        model = scorer.build(arch)
        expected = reference_meco(model, scorer.sample)
        assert got.errors["meco"] is None
        assert got.values["meco"] == pytest.approx(expected, rel=1e-4, abs=1e-6), arch
        expected_distinct = reference_meco(scorer.build(arch), scorer.sample, distinct=True)
        assert got.values["meco_distinct"] == pytest.approx(expected_distinct, rel=1e-4, abs=1e-6), arch


def test_meco_counts_nested_calls_and_inplace_versions():
    # Sequential(conv, BN, ReLU(inplace)): the BN output is modified in place by ReLU, so
    # BN's map (pre-ReLU) and ReLU's map (post-ReLU) differ; Sequential returns ReLU's tensor.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(inplace=True), nn.Identity())
    x = torch.randn(1, 3, 8, 8)
    record = record_features(net, x)
    assert len(record.calls) == 5 and len(record.maps) == 3
    assert sorted(record.counts()) == [1, 1, 3]  # conv, BN, ReLU == Identity == Sequential
    net.train()
    meco = get_proxy("meco")
    from zeronas.proxies._base import ProxyContext

    ctx = ProxyContext(
        arch="",
        space=None,
        model=net,
        dataset="cifar10",
        num_classes=10,
        resolution=8,
        seed=0,
        device=torch.device("cpu"),
        sample=x,
        batches=[],
    )
    assert meco.compute(ctx) == pytest.approx(reference_meco(net, x), rel=1e-5)


def test_constant_channels_are_zeroed_not_spurious_blocks():
    # A conv with bias on an all-zero input: every channel is exactly its bias (constant).
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=True)
    with torch.no_grad():
        conv.bias.copy_(torch.tensor([0.3, -1.7, 0.3, 2.1, 1e-3]))
    out = conv(torch.zeros(1, 3, 16, 16))[0].reshape(5, -1)
    # float32 corrcoef does not give NaN here (the trap this test guards against) ...
    naive = torch.corrcoef(out)
    assert not torch.isnan(naive).all()
    # ... whereas the correlation of constant channels must be all zeros -> eigenvalue 0
    eig = min_corr_eigenvalues([out.double()])
    assert eig.tolist() == [0.0]
    # mixed: 3 random channels + 2 constant ones -> min eigenvalue exactly 0, finite
    mixed = torch.cat([torch.randn(3, 64, dtype=torch.float64), torch.full((2, 64), 0.7, dtype=torch.float64)])
    eig = min_corr_eigenvalues([mixed])
    assert torch.isfinite(eig).all() and abs(eig.item()) < 1e-12
    # and the non-constant part keeps its own correlation spectrum
    part = min_corr_eigenvalues([mixed[:3]]).item()
    assert 0 < part < 1
    ref = np.linalg.eigvalsh(np.corrcoef(mixed[:3].numpy()))[0]
    assert part == pytest.approx(ref, rel=1e-10)


def test_meco_float64_matches_numpy_correlation():
    rng = np.random.default_rng(0)
    maps = [torch.from_numpy(rng.standard_normal((c, hw))) for c, hw in [(8, 64), (8, 64), (16, 256), (4, 1)]]
    got = min_corr_eigenvalues(maps)
    for g, m in zip(got.tolist()[:3], maps[:3]):
        assert g == pytest.approx(np.linalg.eigvalsh(np.corrcoef(m.numpy()))[0], rel=1e-9, abs=1e-12)
    assert got[3].item() == 0.0  # one observation: every channel constant


def test_meco_opt_semantics_and_seed():
    space = get_space("tss")
    arch = _random_archs("tss", 1, seed=5)[0]
    a = ArchScorer(space="tss", proxies=["meco_opt"], seed=0).score(arch).values["meco_opt"]
    b = ArchScorer(space="tss", proxies=["meco_opt"], seed=0).score(arch).values["meco_opt"]
    assert a == b
    # n >= every channel count -> all channels used, factor 1: equals meco exactly
    full = ArchScorer(space="tss", proxies=["meco", "meco_opt"], seed=0, proxy_options={"meco_opt": {"n": 4096}})
    res = full.score(arch)
    assert res.values["meco_opt"] == pytest.approx(res.values["meco"], rel=1e-12)
    assert space.validate(arch) == res.arch
    with pytest.raises(ValueError, match="n >= 1"):
        get_proxy("meco_opt", n=0)


class _HiddenInplace(nn.Module):
    """BN output modified by a functional in-place op that no pre-hook can see coming."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)

    def forward(self, x):
        y = self.bn(self.conv(x))
        y.relu_()
        return y.mul_(2.0)


def test_hidden_inplace_falls_back_to_copies():
    torch.manual_seed(1)
    net = _HiddenInplace()
    x = torch.randn(1, 3, 8, 8)
    record = record_features(net, x)
    assert len(record.maps) == 3  # conv, BN (pre-ReLU contents), and the doubled ReLU output
    pre_relu = net.bn(net.conv(x))[0].reshape(6, -1)
    assert torch.equal(record.maps[1], pre_relu)
    got = float((min_corr_eigenvalues(record.maps) * torch.tensor(record.counts(), dtype=torch.float64)).sum())
    assert got == pytest.approx(reference_meco(net, x), rel=1e-5)


@pytest.mark.parametrize("space_name, n", [("tss", 12), ("sss", 6)])
def test_meco_alone_streams_the_same_value_as_with_maps_kept(space_name, n):
    """`meco` alone forms its correlations during the pass and drops the maps; requested with
    `meco_distinct` it keeps them. Both paths must give the same number."""
    space = get_space(space_name)
    rng = np.random.default_rng(21)
    archs = [space.sample(rng) for _ in range(n)]
    streamed = ArchScorer(space=space_name, proxies=["meco"], seed=3)
    kept = ArchScorer(space=space_name, proxies=["meco", "meco_distinct"], seed=3)
    for arch in archs:
        a, b = streamed.score(arch).values["meco"], kept.score(arch).values["meco"]
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), arch


def test_proxy_seed_varies_meco_and_a_seed_repeats_it():
    """The proxy seed sets network init and noise input: two seeds, two values; one seed, one value,
    whichever seed the scorer was built with (one pool serves searches of different seeds)."""
    arch = get_space("tss").arch_at(1234)
    scorer = ArchScorer(space="tss", proxies=["meco"], seed=0)
    s0, s1 = scorer.score(arch, seed=0).values["meco"], scorer.score(arch, seed=1).values["meco"]
    assert s0 is not None and s1 is not None and s0 != pytest.approx(s1, rel=1e-3)
    assert scorer.score(arch, seed=1).values["meco"] == s1
    assert ArchScorer(space="tss", proxies=["meco"], seed=1).score(arch).values["meco"] == s1
    assert scorer.score(arch).values["meco"] == s0  # the default seed is the scorer's
