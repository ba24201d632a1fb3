"""Every registered proxy through zeronas.testing's named checks (scikit-learn ``parametrize_with_checks``
style), the kit's own failure modes, and the scorer around the proxies."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from zeronas.errors import UnknownNameError, ZeronasError
from zeronas.proxies import ArchScorer, Needs, Proxy, get_proxy, list_proxies
from zeronas.proxies._api import _PROXIES
from zeronas.spaces import get_space
from zeronas.testing import check_proxy

ARCHS = {
    "tss": get_space("tss").sample(np.random.default_rng(7)),
    "sss": get_space("sss").sample(np.random.default_rng(7)),
}
EXPECTED = {
    "meco",
    "meco_distinct",
    "meco_opt",
    "zico",
    "params",
    "flops",
    "synflow",
    "snip",
    "grad_norm",
    "fisher",
    "grasp",
    "jacov",
    "nwot",
    "zen",
    "ntk",
    "sed",
    "swap",
}


def test_registry_lists_every_proxy():
    assert EXPECTED <= set(list_proxies())
    assert isinstance(get_proxy("NASWOT"), type(get_proxy("nwot")))  # alias, case-insensitive
    with pytest.raises(UnknownNameError, match="unknown proxy 'mecoo'; choose one of: .*meco"):
        get_proxy("mecoo")


@pytest.mark.parametrize("check", [c for name in list_proxies() for c in check_proxy(name)], ids=str)
def test_proxy(check):
    """zeronas.testing's named checks over every registered proxy (``-k "meco and deterministic"``)."""
    check()


def _install(monkeypatch, name: str, cls: type) -> None:
    """Register ``cls`` for this test only."""
    cls.name = name
    monkeypatch.setitem(_PROXIES._entries, name, cls)


def test_a_proxy_that_always_fails_fails_the_kit(monkeypatch):
    class AlwaysFails(Proxy):
        """Raises on every network."""

        needs = Needs(network=False, inputs="none")

        def compute(self, ctx):
            raise FloatingPointError("no value")

    _install(monkeypatch, "always_fails", AlwaysFails)
    checks = {c.name: c for c in check_proxy("always_fails", spaces=("sss",))}
    with pytest.raises(AssertionError, match="always_fails failed: FloatingPointError: no value"):
        checks["proxy[always_fails,sss]-gives_a_finite_value"]()
    with pytest.raises(AssertionError, match="gave None and None"):
        checks["proxy[always_fails,sss]-deterministic"]()  # None == None is no pass either


def test_kit_catches_a_missing_docstring_and_false_needs(monkeypatch):
    import types

    class ReadsLabels(Proxy):  # declares labels=False and network=False, yet reads both
        needs = Needs(network=False)

        def compute(self, ctx):
            return float(ctx.batches[0][1].sum()) + (0.0 if ctx.model is None else 1.0)

    monkeypatch.setitem(sys.modules, "undocumented_plugin", types.ModuleType("undocumented_plugin"))
    ReadsLabels.__module__ = "undocumented_plugin"
    _install(monkeypatch, "reads_labels", ReadsLabels)
    checks = {c.name.rsplit("-", 1)[1]: c for c in check_proxy("reads_labels", spaces=("sss",))}
    for property_, declared in [
        ("documented", "has a docstring"),
        ("ignores_labels", "declares labels=False"),
        ("needs_no_network", "declares network=False"),
    ]:
        with pytest.raises(AssertionError, match=declared):
            checks[property_]()
    checks["needs_no_autograd"]()  # what it does declare truthfully passes


def test_scorer_restores_weights_and_buffers_between_proxies():
    names = ["meco", "synflow", "snip", "zen", "zico", "nwot"]
    scorer = ArchScorer(space="tss", proxies=names, seed=2, batch_size=4)
    model = scorer.build(ARCHS["tss"])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    scorer.build = lambda arch, seed=None: model
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
