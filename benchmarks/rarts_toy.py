"""Where RARTS, first-order DARTS and MiLeNAS settle on RARTS' analytically solvable bilevel model.

    python benchmarks/rarts_toy.py            # the paper's setting: λ = β = 15, learning rates 0.01, start (2, 2, 2)

The model (reconstructed from the paper's stated facts, see zeronas/weight_sharing/_toy.py):
L_t(w, α) = (w − α)², L_v(w, α) = α(w − 2); the bilevel optimum is (w, α) = (1, 1).
"""

from __future__ import annotations

import argparse
import json

from zeronas.weight_sharing import solve_toy
from zeronas.weight_sharing._toy import BILEVEL_OPTIMUM, rarts_stationary_point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lam", type=float, default=15.0)
    parser.add_argument("--beta", type=float, default=15.0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--start", type=float, nargs=3, default=(2.0, 2.0, 2.0), metavar=("ALPHA", "W", "Y"))
    parser.add_argument("--json", help="write one record per method here")
    args = parser.parse_args()

    records = []
    print(f"bilevel optimum (w, α) = {BILEVEL_OPTIMUM}; start (α, w, y) = {tuple(args.start)}, lr {args.lr}")
    print(f"{'method':<10} {'alpha':>8} {'w':>8} {'y':>8} {'steps':>7}  converged")
    for method in ("rarts", "darts-1st", "milenas"):
        r = solve_toy(method, lam=args.lam, beta=args.beta, lr=args.lr, start=tuple(args.start))
        y = "-" if r.y is None else f"{r.y:.4f}"
        print(f"{r.method:<10} {r.alpha:>8.4f} {r.w:>8.4f} {y:>8} {r.steps:>7}  {r.converged}")
        records.append(r.__dict__)
    closed = rarts_stationary_point(args.lam, args.beta)
    shown = ", ".join(f"{v:.4f}" for v in closed)
    print(f"RARTS closed form (α, w, y) = ({shown}); the paper reports (1.053, 1.018, 0.947)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=2)


if __name__ == "__main__":
    main()
