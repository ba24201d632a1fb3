"""Jacobian covariance (``jacov``).

Mellor, Turner, Storkey, Crowley. "Neural Architecture Search without Training",
arXiv:2006.04647v1 (2020), the first version of NASWOT; as in NASLib / zero-cost-nas.

Definition: train mode, one mini-batch ``x``; ``J = d(sum of logits)/dx`` per sample,
flattened (``N x D``); ``C = corrcoef(J)`` (``N x N``) with eigenvalues ``v``;
``jacov = -sum(log(v + k) + 1 / (v + k))`` with ``k = 1e-5``. Labels are not used.
"""

from __future__ import annotations

import torch

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext

_K = 1e-5


@register_proxy("jacov")
class JacobianCovariance(Proxy):
    needs = Needs(inputs="batches", backward=True)

    def compute(self, ctx: ProxyContext) -> float:
        model = ctx.model
        model.train()
        x = ctx.batches[0][0].clone().requires_grad_(True)
        (jacobian,) = torch.autograd.grad(model(x).sum(), x)
        jacobian = jacobian.reshape(jacobian.shape[0], -1).double()
        corr = torch.nan_to_num(torch.corrcoef(jacobian), nan=0.0, posinf=0.0, neginf=0.0)
        v = torch.linalg.eigvalsh(corr)
        return float(-(torch.log(v + _K) + 1.0 / (v + _K)).sum())
