"""First-order relaxed architecture search: RARTS and the two baselines it is a setting away from.

RARTS (Xue, Qi, Xin, arXiv 2008.03901) splits the data *and* the network: weights ``w`` see the training half
(loss ``L_t``), weights ``y`` the validation half (loss ``L_v``), both share the architecture ``α``, and one
Lagrangian ties them::

    L(y, w, α) = L_v(y; α) + λ·L_t(w; α) + (β/2)·‖y − w‖²

Each variable takes a first-order step on ``L`` with its own optimiser, Gauss–Seidel (each step sees the
variables already updated in this round)::

    w ← w − η_w ∇_w [λ·L_t(w; α) + (β/2)‖y − w‖²]
    y ← y − η_y ∇_y [L_v(y; α) + (β/2)‖y − w⁺‖²]
    α ← α − η_α ∇_α [L_v(y⁺; α) + λ·L_t(w⁺; α)]

so ``α`` sees both losses and no mixed second derivative is ever formed. Holding ``y = w`` gives MiLeNAS
(``α`` steps on ``L_v + λ·L_t``, ``w`` on ``L_t``); stepping ``α`` on ``L_v(w)`` alone gives first-order DARTS.
The three share this one update, chosen by :attr:`RelaxedMethod`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import torch

from zeronas.errors import ZeronasError

#: a loss of (network weights, architecture weights): the same callable serves ``w`` and ``y``
Loss = Callable[[Sequence[torch.Tensor], Sequence[torch.Tensor]], torch.Tensor]


class RelaxedMethod(str, Enum):
    RARTS = "rarts"
    DARTS_FIRST_ORDER = "darts-1st"
    MILENAS = "milenas"

    @classmethod
    def parse(cls, name: str) -> RelaxedMethod:
        try:
            return cls(name.lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise ZeronasError(f"unknown relaxed search method {name!r}; choose one of: {valid}") from None


@dataclass(frozen=True)
class RelaxedSettings:
    """``lam`` weighs ``L_t`` in the Lagrangian (MiLeNAS's λ); ``beta`` is the coupling ‖y − w‖² (RARTS only);
    ``grad_clip`` bounds the gradient norm of the ``w`` and ``y`` steps (DARTS' search clips at 5; None: off)."""

    method: RelaxedMethod = RelaxedMethod.RARTS
    lam: float = 1.0
    beta: float = 1.0
    grad_clip: float | None = None

    def __post_init__(self) -> None:
        if self.lam < 0 or self.beta < 0:
            raise ZeronasError(f"lam and beta must be >= 0, got lam={self.lam}, beta={self.beta}")
        clip = self.grad_clip
        if clip is not None and (isinstance(clip, bool) or not isinstance(clip, numbers.Real) or not clip > 0):
            raise ZeronasError(f"grad_clip must be > 0 (or None: no clipping), got {self.grad_clip!r}")


def _coupling(y: Sequence[torch.Tensor], w: Sequence[torch.Tensor]) -> torch.Tensor:
    return sum(((yi - wi) ** 2).sum() for yi, wi in zip(y, w))


def _step(optimizer: torch.optim.Optimizer, objective: Callable[[], torch.Tensor], clip: float | None = None) -> float:
    """Differentiate only with respect to the optimiser's own variables (no gradient work for the others)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    loss = objective()
    for param, grad in zip(params, torch.autograd.grad(loss, params, allow_unused=True)):
        param.grad = grad
    if clip is not None:
        torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], clip)
    optimizer.step()
    return float(loss.detach())


@dataclass
class RelaxedSearch:
    """One round of updates per :meth:`step`. ``w``, ``y`` and ``alpha`` are leaf tensors; each optimiser owns
    one of them (``opt_y`` is unused and may be None except for RARTS). ``loss_t`` and ``loss_v`` are called
    afresh for every update, so a caller that draws a mini-batch inside them gets a batch per update."""

    settings: RelaxedSettings
    w: Sequence[torch.Tensor]
    y: Sequence[torch.Tensor] | None
    alpha: Sequence[torch.Tensor]
    opt_w: torch.optim.Optimizer
    opt_y: torch.optim.Optimizer | None
    opt_alpha: torch.optim.Optimizer

    def __post_init__(self) -> None:
        if self.settings.method is RelaxedMethod.RARTS and (self.y is None or self.opt_y is None):
            raise ZeronasError("RARTS needs the second network's weights y and their optimiser")

    def step(self, loss_t: Loss, loss_v: Loss) -> dict[str, float]:
        """One Gauss–Seidel round; returns the objectives each variable stepped on."""
        s, w, a = self.settings, self.w, self.alpha
        if s.method is RelaxedMethod.RARTS:
            y = self.y
            return {
                "w": _step(self.opt_w, lambda: s.lam * loss_t(w, a) + s.beta / 2 * _coupling(y, w), s.grad_clip),
                "y": _step(self.opt_y, lambda: loss_v(y, a) + s.beta / 2 * _coupling(y, w), s.grad_clip),
                "alpha": _step(self.opt_alpha, lambda: loss_v(y, a) + s.lam * loss_t(w, a)),
            }
        stats = {"w": _step(self.opt_w, lambda: loss_t(w, a), s.grad_clip)}
        if s.method is RelaxedMethod.MILENAS:
            stats["alpha"] = _step(self.opt_alpha, lambda: loss_v(w, a) + s.lam * loss_t(w, a))
        else:
            stats["alpha"] = _step(self.opt_alpha, lambda: loss_v(w, a))
        return stats
