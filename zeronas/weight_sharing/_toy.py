"""RARTS' analytically solvable bilevel model (its Section III-D), run through :class:`RelaxedSearch`.

The stored text of the paper garbles the validation loss, so it is reconstructed here from what the paper states
about the model: ``w*(α) = α``; the bilevel problem ``min_α L_v(w*(α), α)`` has its global minimum at
``(w, α) = (1, 1)``; first-order DARTS and MiLeNAS settle at the spurious ``(2, 2)``; RARTS with
``λ = β = 15`` and learning rates 0.01 from ``(2, 2, y0)`` settles near ``(α, w, y) = (1.053, 1.018, 0.947)``.
The simplest pair with all four properties, and the one used here::

    L_t(w, α) = (w − α)²          so w*(α) = α
    L_v(w, α) = α·(w − 2)         so L_v(w*(α), α) = α² − 2α, minimal at α = 1

First-order DARTS stops where ``w = α`` and ``∂_α L_v = w − 2 = 0``, i.e. at (2, 2); MiLeNAS adds
``λ·∂_α L_t = −2λ(w − α)``, which vanishes there too. RARTS' stationary point solves
``y = w − α/β``, ``w = α(1 − 1/(2λ))``, ``y = 2 − α``, so ``α = 2 / (2 − 1/(2λ) − 1/β)``: 2/1.9 = 1.0526,
w = 1.0175, y = 0.9474 at λ = β = 15 — the paper's figures — and α → 1 as λ, β grow.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from zeronas.weight_sharing._relaxed import RelaxedMethod, RelaxedSearch, RelaxedSettings

#: the bilevel problem's global minimum (w, α)
BILEVEL_OPTIMUM = (1.0, 1.0)


def _loss_t(w, alpha):
    return (w[0] - alpha[0]) ** 2


def _loss_v(w, alpha):
    return alpha[0] * (w[0] - 2.0)


@dataclass(frozen=True)
class ToyResult:
    method: str
    alpha: float
    w: float
    y: float | None
    steps: int
    converged: bool


def rarts_stationary_point(lam: float, beta: float) -> tuple[float, float, float]:
    """(α, w, y) where RARTS' updates stop on the toy model, in closed form."""
    alpha = 2.0 / (2.0 - 1.0 / (2.0 * lam) - 1.0 / beta)
    return alpha, alpha * (1.0 - 1.0 / (2.0 * lam)), 2.0 - alpha


def solve_toy(
    method: RelaxedMethod | str,
    lam: float = 15.0,
    beta: float = 15.0,
    lr: float = 0.01,
    start: tuple[float, float, float] = (2.0, 2.0, 2.0),
    max_steps: int = 100_000,
    tol: float = 1e-9,
) -> ToyResult:
    """Run ``method`` from ``start = (α, w, y)`` with plain gradient steps of size ``lr`` until no variable
    moves more than ``tol`` in a round (``converged``) or ``max_steps`` rounds pass."""
    method = RelaxedMethod.parse(method) if isinstance(method, str) else method
    alpha = [torch.tensor(start[0], dtype=torch.float64, requires_grad=True)]
    w = [torch.tensor(start[1], dtype=torch.float64, requires_grad=True)]
    y = [torch.tensor(start[2], dtype=torch.float64, requires_grad=True)] if method is RelaxedMethod.RARTS else None
    search = RelaxedSearch(
        RelaxedSettings(method, lam=lam, beta=beta),
        w=w,
        y=y,
        alpha=alpha,
        opt_w=torch.optim.SGD(w, lr=lr),
        opt_y=torch.optim.SGD(y, lr=lr) if y else None,
        opt_alpha=torch.optim.SGD(alpha, lr=lr),
    )
    variables = alpha + w + (y or [])
    steps, converged = 0, False
    while steps < max_steps and not converged:
        before = [v.item() for v in variables]
        search.step(_loss_t, _loss_v)
        steps += 1
        converged = max(abs(v.item() - b) for v, b in zip(variables, before)) < tol
    return ToyResult(method.value, alpha[0].item(), w[0].item(), y[0].item() if y else None, steps, converged)
