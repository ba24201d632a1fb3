"""RARTS and its first-order baselines on the paper's analytically solvable model (reconstructed in _toy.py)."""

from __future__ import annotations

import pytest
import torch

from zeronas.errors import ZeronasError
from zeronas.weight_sharing import RelaxedMethod, RelaxedSearch, RelaxedSettings, solve_toy
from zeronas.weight_sharing._toy import BILEVEL_OPTIMUM, rarts_stationary_point


def test_rarts_settles_where_the_paper_reports_and_the_closed_form_says():
    result = solve_toy("rarts", lam=15, beta=15, lr=0.01, start=(2.0, 2.0, 2.0))
    assert result.converged
    assert (round(result.alpha, 3), round(result.w, 3), round(result.y, 3)) == (1.053, 1.018, 0.947)
    assert result.alpha == pytest.approx(rarts_stationary_point(15, 15)[0], abs=1e-6)


@pytest.mark.parametrize("method", ["darts-1st", "milenas"])
def test_first_order_baselines_are_drawn_to_the_spurious_point(method):
    # (2, 2) is where both start in the paper, and where they stay; from elsewhere they go there, not to (1, 1)
    assert (solve_toy(method).alpha, solve_toy(method).w) == (2.0, 2.0)
    result = solve_toy(method, lam=1.0, start=(0.0, 0.0, 0.0), tol=1e-9)
    assert result.converged
    assert result.alpha == pytest.approx(2.0, abs=1e-5) and result.w == pytest.approx(2.0, abs=1e-5)


def test_rarts_approaches_the_bilevel_optimum_as_the_coupling_grows():
    gaps = [abs(solve_toy("rarts", lam=c, beta=c, tol=1e-7).alpha - BILEVEL_OPTIMUM[1]) for c in (5.0, 45.0)]
    assert gaps[0] > gaps[1] and gaps[1] < 0.02


def test_each_variable_differentiates_only_its_own_objective():
    w = [torch.tensor(1.0, requires_grad=True)]
    y = [torch.tensor(3.0, requires_grad=True)]
    alpha = [torch.tensor(0.5, requires_grad=True)]
    search = RelaxedSearch(
        RelaxedSettings(RelaxedMethod.RARTS, lam=2.0, beta=4.0),
        w=w,
        y=y,
        alpha=alpha,
        opt_w=torch.optim.SGD(w, lr=0.1),
        opt_y=torch.optim.SGD(y, lr=0.1),
        opt_alpha=torch.optim.SGD(alpha, lr=0.1),
    )
    search.step(lambda w_, a: (w_[0] * a[0]) ** 2, lambda y_, a: y_[0] * a[0])
    # w: d/dw [2 (w a)^2 + 2 (y - w)^2] = 4 a^2 w - 4 (y - w) = 1 - 8 = -7  ->  w = 1.7
    assert w[0].item() == pytest.approx(1.7)
    # y sees w+: d/dy [y a + 2 (y - w+)^2] = 0.5 + 4 (3 - 1.7) = 5.7  ->  y = 2.43
    assert y[0].item() == pytest.approx(2.43)
    # alpha sees y+ and w+: d/da [y+ a + 2 (w+ a)^2] = 2.43 + 4 * 1.7^2 * 0.5 = 8.21  ->  alpha = -0.321
    assert alpha[0].item() == pytest.approx(0.5 - 0.821)


def test_bad_settings_are_one_line_errors():
    with pytest.raises(ZeronasError, match="choose one of: rarts, darts-1st, milenas"):
        RelaxedMethod.parse("darts-2nd")
    with pytest.raises(ZeronasError, match="lam and beta"):
        RelaxedSettings(beta=-1.0)
