"""SWAP: regularised sample-wise activation patterns.

Peng, Song, Fayek, Ciesielski, Chang. "SWAP-NAS: Sample-Wise Activation Patterns for
Ultra-fast NAS", ICLR 2024 (official ``src/metrics/swap.py``).

Definition: train mode, one mini-batch of ``N`` inputs, no gradients, labels unused. The
outputs of every ReLU applied to a 4-D tensor are binarised (``sign``: 1 where positive)
and concatenated per sample into an ``N x F`` matrix; each of the ``F`` neurons then has
a pattern of ``N`` bits (its column), and the SWAP-Score is the number of distinct
patterns. The paper's regularisation multiplies it by ``f(Θ) = exp(-(Θ - μ)^2 / σ)``
with ``Θ`` the parameter count in thousands (the official code's unit):
``swap = |unique patterns| * f(Θ)``.

μ and σ are hyper-parameters the paper sets per experiment; the defaults here are our
choice: ``μ`` = the largest network of the space (every decision at the option that
maximises ``space.params``) and ``σ = (μ - Θ_min)^2 / 4``, so the smallest network is
damped by ``e^-4`` and the largest not at all. Pass ``mu``/``sigma`` (thousands of
parameters) as proxy options to set them, ``regularise=False`` for the bare score. The
official script averages 32 Gaussian re-initialisations; zeronas scores the seeded
network once, like every other proxy.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._features import forward_with_relu_hooks


def count_patterns(codes: torch.Tensor) -> int:
    """Distinct columns of a binary ``N x F`` matrix (each neuron's pattern over the samples)."""
    packed = np.packbits(codes.T.to(torch.uint8).cpu().numpy(), axis=1)  # F x ceil(N/8)
    rows = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))
    return len(np.unique(rows))


def regulariser(params_k: float, mu: float, sigma: float) -> float:
    return math.exp(-((params_k - mu) ** 2) / sigma)


@functools.lru_cache(maxsize=16)
def default_mu_sigma(space_name: str, num_classes: int) -> tuple[float, float]:
    """``(μ, σ)`` from the space's uniform codes (every decision at option i), in thousands."""
    from zeronas.spaces import get_space

    space = get_space(space_name)
    sizes = [len(options) for _, options in space.choices]
    counts = [space.params(space.format([min(i, s - 1) for s in sizes]), num_classes) / 1e3 for i in range(max(sizes))]
    largest, smallest = max(counts), min(counts)
    return largest, max((largest - smallest) ** 2 / 4.0, 1e-12)


@register_proxy("swap")
class SWAP(Proxy):
    needs = Needs(inputs="batches")

    def __init__(self, mu: float | None = None, sigma: float | None = None, regularise: bool = True) -> None:
        if (mu is None) != (sigma is None):
            raise ValueError("give both mu and sigma (thousands of parameters), or neither for the defaults")
        if sigma is not None and sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.mu, self.sigma, self.regularise = mu, sigma, regularise

    def compute(self, ctx: ProxyContext) -> float:
        model = ctx.model
        x = ctx.batches[0][0]
        n = x.shape[0]
        maps: list[torch.Tensor] = []

        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if inputs[0].dim() == 4:
                maps.append(output.detach().reshape(n, -1) > 0)

        forward_with_relu_hooks(model, x, hook, "swap")
        if not maps:
            raise ValueError("no ReLU saw a 4-D feature map")
        score = float(count_patterns(torch.cat(maps, dim=1)))
        if not self.regularise:
            return score
        mu, sigma = (self.mu, self.sigma) if self.mu is not None else default_mu_sigma(ctx.space.name, ctx.num_classes)
        params_k = sum(p.numel() for p in model.parameters()) / 1e3
        return score * regulariser(params_k, mu, sigma)
