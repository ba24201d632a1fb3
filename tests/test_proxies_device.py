"""The device code paths of the proxies, exercised on the CPU: the sync-free MeCo path and TF32 off."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeronas._device import full_precision
from zeronas.proxies import ArchScorer, _meco
from zeronas.spaces import get_space


@pytest.mark.parametrize("space_name, n", [("tss", 8), ("sss", 4)])
def test_meco_deferred_checks_give_the_host_filtered_values(space_name, n, monkeypatch):
    """On CUDA the constant-channel shortcut masks on the device instead of filtering on the host;
    forced on here, it must give the CPU path's numbers (the all-none cell has every map constant)."""
    space = get_space(space_name)
    rng = np.random.default_rng(5)
    archs = [space.sample(rng) for _ in range(n)]
    if space_name == "tss":
        archs.append("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    proxies = ["meco", "meco_distinct", "meco_opt"]
    expected = {a: ArchScorer(space=space_name, proxies=proxies, seed=2).score(a).values for a in archs}
    alone = {a: ArchScorer(space=space_name, proxies=["meco"], seed=2).score(a).values["meco"] for a in archs}
    deferred = []
    monkeypatch.setattr(_meco, "_defer_checks", lambda device: deferred.append(device) or True)
    for arch in archs:
        got = ArchScorer(space=space_name, proxies=proxies, seed=2).score(arch).values
        for p in proxies:
            assert got[p] == pytest.approx(expected[arch][p], rel=1e-9, abs=1e-9), (arch, p)
        streamed = ArchScorer(space=space_name, proxies=["meco"], seed=2).score(arch).values["meco"]
        assert streamed == pytest.approx(alone[arch], rel=1e-9, abs=1e-9), arch
    assert deferred, "the deferred path was not taken"


def test_full_precision_turns_tf32_off_and_restores_the_flags():
    backends = torch.backends
    if hasattr(backends.cuda.matmul, "fp32_precision"):
        flags = [(backends.cuda.matmul, "fp32_precision"), (backends.cudnn.conv, "fp32_precision")]
        off = "ieee"
    else:
        flags = [(backends.cuda.matmul, "allow_tf32"), (backends.cudnn, "allow_tf32")]
        off = False
    before = [getattr(owner, name) for owner, name in flags]
    with full_precision():
        assert [getattr(owner, name) for owner, name in flags] == [off, off]
    assert [getattr(owner, name) for owner, name in flags] == before
    with pytest.raises(RuntimeError), full_precision():
        raise RuntimeError("restored on errors too")
    assert [getattr(owner, name) for owner, name in flags] == before
