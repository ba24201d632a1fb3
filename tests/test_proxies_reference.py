"""The non-MeCo proxies against their papers' definitions, computed by hand (numpy, float64) on tiny networks.

Each network is small enough that its gradients, Jacobians and Hessian products have closed forms:
an MLP ``x -> W1 x + b1 -> ReLU -> W2 h + b2`` (cross-entropy, mean over the batch) or plain softmax
regression. The proxies see the network through a ``ProxyContext`` as the scorer builds it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from zeronas.proxies import ProxyContext, get_proxy

N, C, R, HIDDEN, CLASSES = 6, 3, 2, 5, 3  # batch, channels, resolution, hidden units, classes
D = C * R * R


def _mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(D, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))


def _batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(N, C, R, R, generator=gen), torch.randint(0, CLASSES, (N,), generator=gen)


def _context(model: nn.Module, batches: list, seed: int = 0) -> ProxyContext:
    return ProxyContext(
        arch="",
        space=None,
        model=model,
        dataset="cifar10",
        num_classes=CLASSES,
        resolution=R,
        seed=seed,
        device=torch.device("cpu"),
        sample=batches[0][0][:1],
        batches=batches,
    )


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mlp_backprop(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> dict[str, np.ndarray]:
    """Forward and backward of mean cross-entropy through the MLP, by hand."""
    w1, b1, w2, b2 = (_np(model[1].weight), _np(model[1].bias), _np(model[3].weight), _np(model[3].bias))
    xs = _np(x).reshape(len(x), -1)
    pre = xs @ w1.T + b1
    h = np.maximum(pre, 0)
    z = h @ w2.T + b2
    dz = (_softmax(z) - np.eye(CLASSES)[y.numpy()]) / len(x)
    dh = dz @ w2
    dpre = dh * (pre > 0)
    return dict(w1=w1, w2=w2, x=xs, pre=pre, h=h, z=z, dz=dz, dpre=dpre, dw1=dpre.T @ xs, dw2=dz.T @ h)


def test_snip_grad_norm_fisher_match_hand_backprop():
    model, (x, y) = _mlp(), _batch(1)
    ref = _mlp_backprop(model, x, y)
    snip = np.abs(ref["w1"] * ref["dw1"]).sum() + np.abs(ref["w2"] * ref["dw2"]).sum()  # sum |w * dL/dw|
    grad_norm = np.linalg.norm(ref["dw1"]) + np.linalg.norm(ref["dw2"])  # per-layer Frobenius norms, summed
    # per layer: sum over channels k of 0.5 * mean_n (a_nk * dL/da_nk)^2, a = the layer's output
    fisher = sum(0.5 * ((a * g) ** 2).mean(axis=0).sum() for a, g in [(ref["pre"], ref["dpre"]), (ref["z"], ref["dz"])])
    for name, expected in [("snip", snip), ("grad_norm", grad_norm), ("fisher", fisher)]:
        assert get_proxy(name).compute(_context(model, [(x, y)])) == pytest.approx(expected, rel=1e-5), name


def test_fisher_sums_conv_saliency_over_spatial_positions():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(C, 2, 1, bias=False), nn.Flatten(), nn.Linear(2 * R * R, CLASSES, bias=False))
    x, y = _batch(4)
    wc, wl = _np(model[0].weight)[:, :, 0, 0], _np(model[2].weight)
    a = np.einsum("ci,nipq->ncpq", wc, _np(x))  # conv output, N x 2 x R x R
    z = a.reshape(N, -1) @ wl.T
    dz = (_softmax(z) - np.eye(CLASSES)[y.numpy()]) / N
    da = (dz @ wl).reshape(a.shape)
    s = (a * da).sum(axis=(2, 3))  # s_nk: per sample and channel, summed over positions
    expected = 0.5 * (s**2).mean(axis=0).sum() + 0.5 * ((z * dz) ** 2).mean(axis=0).sum()
    assert get_proxy("fisher").compute(_context(model, [(x, y)])) == pytest.approx(expected, rel=1e-5)


def test_grasp_is_minus_w_times_hessian_gradient_product():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Flatten(), nn.Linear(D, CLASSES))
    x, y = _batch(6)
    w, b, xs = _np(model[1].weight), _np(model[1].bias), _np(x).reshape(N, -1)
    p = _softmax(xs @ w.T + b)
    g = (p - np.eye(CLASSES)[y.numpy()]).T @ xs / N  # dL/dW
    # softmax regression: H[V] = mean_n (diag(p_n) - p_n p_n^T) (V x_n) x_n^T
    hg = sum(np.outer((np.diag(pn) - np.outer(pn, pn)) @ (g @ xn), xn) for pn, xn in zip(p, xs)) / N
    assert get_proxy("grasp").compute(_context(model, [(x, y)])) == pytest.approx(-(w * hg).sum(), rel=1e-4)


def test_synflow_on_absolute_weights_without_batchnorm():
    torch.manual_seed(7)
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(D, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES)
    )
    w1, b1, w2 = (np.abs(_np(model[1].weight)), np.abs(_np(model[1].bias)), np.abs(_np(model[4].weight)))
    # R = 1^T (|W2| (|W1| 1 + |b1|) + |b2|): every unit is positive, so ReLU passes it and BN is gone
    h = w1 @ np.ones(D) + b1
    dr_dw1 = np.outer(w2.sum(axis=0), np.ones(D))
    dr_dw2 = np.outer(np.ones(CLASSES), h)
    expected = (w1 * dr_dw1).sum() + (w2 * dr_dw2).sum()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert get_proxy("synflow").compute(_context(model, [_batch(8)])) == pytest.approx(expected, rel=1e-9)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # worked on a copy


def test_jacov_from_hand_jacobians():
    model, (x, _) = _mlp(9), _batch(10)
    ref = _mlp_backprop(model, x, torch.zeros(N, dtype=torch.long))
    # d(sum of logits)/dx_n = W1^T (mask_n * (W2^T 1))
    jac = ((ref["pre"] > 0) * ref["w2"].sum(axis=0)) @ ref["w1"]
    v = np.linalg.eigvalsh(np.corrcoef(jac))
    expected = -(np.log(v + 1e-5) + 1 / (v + 1e-5)).sum()
    assert get_proxy("jacov").compute(_context(model, [(x, None)])) == pytest.approx(expected, rel=1e-6)


def test_nwot_counts_agreeing_units():
    # three samples whose ReLU inputs have the sign patterns 1100, 1010 and 1111: every pair agrees on
    # 2 of 4 units, each sample with itself on 4, so K = [[4,2,2],[2,4,2],[2,2,4]] and det K = 32
    signs = torch.tensor([[1, 1, -1, -1], [1, -1, 1, -1], [1, 1, 1, 1]], dtype=torch.float32)
    x = (signs * torch.tensor([0.5, 2.0, 1.0, 3.0])).reshape(3, 1, 2, 2)
    one_relu = nn.Sequential(nn.Flatten(), nn.ReLU())
    assert get_proxy("nwot").compute(_context(one_relu, [(x, None)])) == pytest.approx(math.log(32))
    # a second ReLU sees the first one's output (codes unchanged): K doubles, det 2^3 * 32
    two_relus = nn.Sequential(nn.Flatten(), nn.ReLU(), nn.ReLU())
    assert get_proxy("nwot").compute(_context(two_relus, [(x, None)])) == pytest.approx(math.log(256))


def test_zico_from_two_hand_gradients():
    # in float64: mean/std over two batches magnifies float32 rounding where the two gradients nearly agree
    model = _mlp(11).double()
    first, second = [(x.double(), y) for x, y in (_batch(12), _batch(13))]
    grads = [_mlp_backprop(model, *batch) for batch in (first, second)]
    expected = 0.0
    for key in ("dw1", "dw2"):
        g = np.stack([grad[key] for grad in grads])
        std = g.std(axis=0)  # population std over the two batches
        keep = std != 0
        expected += math.log((np.abs(g).mean(axis=0)[keep] / std[keep]).sum())
    assert get_proxy("zico").compute(_context(model, [first, second])) == pytest.approx(expected, rel=1e-9)


class _ConvBN(nn.Module):
    """conv 1x1 -> BN -> ReLU as the feature map, Zen's ``forward_features`` (pre-pooling)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(C, 4, 1, bias=False)
        self.bn = nn.BatchNorm2d(4)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x).mean(dim=(2, 3))


def test_zen_is_log_feature_response_plus_bn_scale():
    seed = 4
    model = _ConvBN()
    # the definition's re-initialisation: conv weights N(0, 1), BN gamma 1, beta 0; inputs seeded noise
    w = _np(torch.randn(model.conv.weight.shape, generator=torch.Generator().manual_seed(seed)))[:, :, 0, 0]
    x = _np(torch.randn(N, C, R, R, generator=torch.Generator().manual_seed(seed * 1_000_003 + 1)))
    e = _np(torch.randn(N, C, R, R, generator=torch.Generator().manual_seed(seed * 1_000_003 + 2)))
    running_var = np.ones(4)

    def features(inp: np.ndarray) -> np.ndarray:
        nonlocal running_var
        a = np.einsum("ci,nipq->ncpq", w, inp)
        mean, var = a.mean(axis=(0, 2, 3)), a.var(axis=(0, 2, 3))  # train-mode BN: batch statistics
        count = a.size / a.shape[1]
        running_var = 0.9 * running_var + 0.1 * var * count / (count - 1)
        return np.maximum((a - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5), 0)

    response = np.abs(features(x) - features(x + 0.01 * e)).sum(axis=(1, 2, 3)).mean()
    expected = math.log(response) + math.log(math.sqrt(running_var.mean()))
    assert get_proxy("zen").compute(_context(model, [_batch(0)], seed=seed)) == pytest.approx(expected, rel=1e-4)
