"""NTK: condition number of the empirical neural tangent kernel (TE-NAS).

Chen, Gong, Wang. "Neural Architecture Search on ImageNet in Four GPU Hours: A
Theoretically Inspired Perspective", ICLR 2021 (official ``get_ntk_n``).

Definition: train mode, one mini-batch of ``N`` inputs (labels unused). For each sample
``n``: zero the gradients, backpropagate the sum of its logits, and concatenate the
gradients of every parameter named ``weight`` into ``g_n``. ``Θ = G G^T`` (``N x N``,
float64); ``κ = λ_max(Θ) / λ_min(Θ)`` from ``eigvalsh``. A small κ trains well, so
**zeronas logs ``ntk = -κ``** (larger is better, like every proxy). A kernel whose
smallest eigenvalue is not positive (numerically singular) gives ``None`` with that
reason, where TE-NAS would substitute 100000.
"""

from __future__ import annotations

import torch

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext


def condition_number(grads: torch.Tensor) -> float:
    """``λ_max / λ_min`` of ``grads @ grads.T`` (rows are per-sample gradients)."""
    g = grads.double()
    eigenvalues = torch.linalg.eigvalsh(g @ g.T)
    if not eigenvalues[0] > 0:
        raise FloatingPointError(f"singular NTK (smallest eigenvalue {float(eigenvalues[0]):.3g})")
    return float(eigenvalues[-1] / eigenvalues[0])


@register_proxy("ntk")
class NTKCondition(Proxy):
    needs = Needs(inputs="batches", backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        model = ctx.model
        model.train()
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        x = ctx.batches[0][0]
        logits = model(x)
        rows = []
        for n in range(x.shape[0]):
            model.zero_grad(set_to_none=True)
            logits[n].sum().backward(retain_graph=n + 1 < x.shape[0])
            rows.append(torch.cat([w.grad.detach().flatten() for w in weights if w.grad is not None]))
        model.zero_grad(set_to_none=True)
        return -condition_number(torch.stack(rows))
