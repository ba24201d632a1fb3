"""One conformance check run over every registered proxy (scikit-learn ``check_estimator`` style)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from zeronas.errors import UnknownNameError, ZeronasError
from zeronas.proxies import ArchScorer, Proxy, get_proxy, list_proxies
from zeronas.spaces import get_space

ARCHS = {
    "tss": get_space("tss").sample(np.random.default_rng(7)),
    "sss": get_space("sss").sample(np.random.default_rng(7)),
}
EXPECTED = {"meco", "meco_distinct", "meco_opt", "zico", "params", "flops", "synflow", "snip", "grad_norm",
            "fisher", "grasp", "jacov", "nwot", "zen"}



def test_registry_lists_every_proxy():
    assert EXPECTED <= set(list_proxies())
    assert isinstance(get_proxy("NASWOT"), type(get_proxy("nwot")))  # alias, case-insensitive
    with pytest.raises(UnknownNameError, match="unknown proxy 'mecoo'; choose one of: .*meco"):
        get_proxy("mecoo")


def _hooks(model: nn.Module) -> int:
    from torch.nn.modules import module as torch_module

    global_hooks = sum(
        len(getattr(torch_module, name))
        for name in ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks")
    )
    return global_hooks + sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules()
    )


@pytest.mark.parametrize("space_name", ["tss", "sss"])
@pytest.mark.parametrize("name", list_proxies())
def test_proxy_contract(name: str, space_name: str):
    arch = ARCHS[space_name]
    proxy = get_proxy(name)
    assert isinstance(proxy, Proxy) and proxy.name == name
    assert type(proxy).__doc__ or type(proxy).__module__ and __import__(type(proxy).__module__).__doc__

    scorer = ArchScorer(space=space_name, proxies=[name], seed=1, batch_size=4)
    first = scorer.score(arch)
    value, error = first.values[name], first.errors[name]
    assert (value is not None and math.isfinite(value) and error is None) or (value is None and error), (value, error)
    assert first.seconds[name] >= 0

    # deterministic: a fresh scorer with the same seed gives the identical number
    again = ArchScorer(space=space_name, proxies=[name], seed=1, batch_size=4).score(arch)
    assert again.values[name] == value

    # the proxy itself: hooks removed, no .grad left, parameters untouched
    model = scorer.build(arch)
    params_before = {k: p.detach().clone() for k, p in model.named_parameters()}
    hooks_before = _hooks(model)
    torch.manual_seed(1)
    direct = proxy.compute(scorer.context(scorer.space.validate(arch), model))
    assert _hooks(model) == hooks_before
    assert all(p.grad is None for p in model.parameters()), "gradients left on the model"
    for k, p in model.named_parameters():
        assert torch.equal(p, params_before[k]), f"{name} changed parameter {k}"
    if value is not None:
        assert direct == pytest.approx(value, rel=1e-9)


@pytest.mark.parametrize("name", list_proxies())
def test_proxy_survives_a_broken_network(name: str):
    """Inf weights: the scorer returns a finite value or None with a reason, never raises."""
    scorer = ArchScorer(space="tss", proxies=[name], seed=0, batch_size=4)
    original_build = scorer.build

    def broken_build(arch: str) -> nn.Module:
        model = original_build(arch)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.fill_(float("inf"))
        return model

    scorer.build = broken_build
    result = scorer.score(ARCHS["tss"])
    value, error = result.values[name], result.errors[name]
    assert (value is not None and math.isfinite(value)) or (value is None and error)


def test_scorer_restores_weights_and_buffers_between_proxies():
    names = ["meco", "synflow", "snip", "zen", "zico", "nwot"]
    scorer = ArchScorer(space="tss", proxies=names, seed=2, batch_size=4)
    model = scorer.build(ARCHS["tss"])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    scorer.build = lambda arch: model
    together = scorer.score(ARCHS["tss"])
    for k, v in model.state_dict().items():
        assert torch.equal(v, state[k]), k
    assert all(p.grad is None for p in model.parameters())
    # each value equals the proxy scored alone: sharing and ordering change nothing
    for name in names:
        alone = ArchScorer(space="tss", proxies=[name], seed=2, batch_size=4).score(ARCHS["tss"])
        assert together.values[name] == pytest.approx(alone.values[name], rel=1e-9), name
    assert set(together.seconds) == set(names)


def test_failing_proxy_gives_none_and_reason():
    class Exploding(Proxy):
        name = "exploding"

        def compute(self, ctx):
            raise torch.linalg.LinAlgError("eigvalsh failed to converge\nsecond line")

    class NotFinite(Proxy):
        name = "not_finite"

        def compute(self, ctx):
            return float("nan")

    scorer = ArchScorer(space="tss", proxies=["meco"], seed=0)
    scorer.proxies = {"exploding": Exploding(), "not_finite": NotFinite(), "meco": scorer.proxies["meco"]}
    res = scorer.score(ARCHS["tss"])
    assert res.values["exploding"] is None and res.errors["exploding"] == (
        "LinAlgError: eigvalsh failed to converge second line"
    )
    assert res.values["not_finite"] is None and res.errors["not_finite"] == "non-finite value (nan)"
    assert res.values["meco"] is not None and res.errors["meco"] is None


def test_inputs_depend_on_seed_only():
    a = ArchScorer(space="tss", proxies=["zico"], seed=4, batch_size=8)
    b = ArchScorer(space="tss", proxies=["zico"], seed=4, batch_size=8)
    c = ArchScorer(space="tss", proxies=["zico"], seed=5, batch_size=8)
    assert torch.equal(a.sample, b.sample) and not torch.equal(a.sample, c.sample)
    assert len(a.batches) == 2 and a.batches[0][0].shape == (8, 3, 32, 32)
    assert not torch.equal(a.batches[0][0], a.batches[1][0])
    assert a.batches[0][1].max() < 10
    imagenet = ArchScorer(space="tss", proxies=["meco"], dataset="ImageNet16-120", seed=0)
    assert imagenet.sample.shape == (1, 3, 16, 16) and imagenet.num_classes == 120
    assert imagenet.score(ARCHS["tss"]).values["meco"] is not None


def test_real_images_are_used(images_dir):
    from zeronas.data import load_images, to_tensor

    scorer = ArchScorer(space="tss", proxies=["meco", "zico"], data=images_dir, seed=0, batch_size=8)
    images, labels = load_images(images_dir, "cifar10")
    assert torch.equal(scorer.sample, to_tensor(images[:1], "cifar10"))
    assert [len(y) for _, y in scorer.batches] == [8, 8]
    assert scorer.batches[1][1].tolist() == labels[8:16].tolist()
    noise = ArchScorer(space="tss", proxies=["meco"], seed=0).score(ARCHS["tss"]).values["meco"]
    real = scorer.score(ARCHS["tss"]).values["meco"]
    assert real != noise


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"proxies": ["meco", "nope"]}, "unknown proxy 'nope'"),
        ({"proxies": []}, "no proxies given"),
        ({"dataset": "mnist"}, "unknown dataset 'mnist'"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"device": "tpu:7"}, "unknown device"),
        ({"data": "/nonexistent/dir"}, "does not exist"),
        ({"space": "nas101"}, "nas101"),
    ],
)
def test_scorer_validates_eagerly(kwargs, message):
    with pytest.raises(ZeronasError, match=message):
        ArchScorer(**{"space": "tss", "proxies": ["meco"], **kwargs})


def test_invalid_arch_is_a_user_error():
    scorer = ArchScorer(space="tss", proxies=["params"])
    with pytest.raises(ZeronasError, match="invalid tss architecture"):
        scorer.score("|conv~0|")
