"""How RoBoT's lookup rule compares with the plain top-k of one proxy, on pools drawn from a proxy table.

No search, no Ray: per seed, a random ``--pool`` of the archs a ``zeronas score`` table holds (the whole
space when the table is whole) is the pool; RoBoT (``zeronas.search_algos.RoBoT.spend_lookups``) and the
top-``--lookups`` of each proxy alone each spend ``--lookups`` lookups of ``cifar10_valid_acc_12ep`` and
return the best of them. Two figures per rule (mean ± std over seeds): that arch's 12-epoch validation accuracy,
the signal a choice of robot's defaults may use, and its ``cifar10_test_acc_200ep``, reported, never chosen on.
It isolates the lookup rule from the proposal search; ``search_quality.py`` measures whole searches.

    python benchmarks/robot_lookups.py --table tss_all_real.parquet \\
        --benchmark ../shared/data/nats_tss/cifar10.csv --pool 2000 --seeds 10 --lookups 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_truth = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nats_tss" / "cifar10.csv"
    p.add_argument("--table", required=True, help="a 'zeronas score' TSS table (directory of part files)")
    p.add_argument("--benchmark", default=str(default_truth), help="TSS ground truth")
    p.add_argument("--proxies", default="meco,meco_opt,meco_distinct,synflow,params,flops,sed")
    p.add_argument("--pool", type=int, default=2000, help="archs per pool (drawn per seed)")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--lookups", type=int, default=10)
    p.add_argument("--bo-fraction", type=float, default=None, help="robot option (default: robot's)")
    p.add_argument("--min-weight", type=float, default=None, help="robot option (default: robot's)")
    args = p.parse_args(argv)
    if args.pool < args.lookups or args.seeds < 2 or args.lookups < 1:
        p.error("need --pool >= --lookups >= 1 and --seeds >= 2")
    return args


def main(argv: list[str] | None = None) -> int:
    import pyarrow.dataset as ds

    from zeronas.predictors import load_truth
    from zeronas.search_algos import RoBoT

    args = parse_args(argv)
    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    rows = ds.dataset(args.table, format="parquet").to_table(columns=["arch", *proxies]).to_pylist()
    rows = [r for r in rows if all(r[p] is not None for p in proxies)]
    valid, _ = load_truth(args.benchmark, "tss", "cifar10", metric="valid", epochs=12)
    test, _ = load_truth(args.benchmark, "tss", "cifar10", metric="test", epochs=200)
    options = {k: v for k, v in (("bo_fraction", args.bo_fraction), ("min_weight", args.min_weight)) if v is not None}
    #: per rule, the returned arch of each seed (the best looked-up by validation)
    returned: dict[str, list[str]] = {"robot": [], **{f"top-{args.lookups} by {p}": [] for p in proxies}}
    rng = np.random.default_rng(0)
    for seed in range(args.seeds):
        pool = [rows[i] for i in rng.choice(len(rows), size=min(args.pool, len(rows)), replace=False)]
        spent = RoBoT("tss", seed=seed, **options).spend_lookups(
            [(r["arch"], {p: r[p] for p in proxies}) for r in pool], valid.get, args.lookups
        )
        returned["robot"].append(max(spent, key=lambda s: s[1] or -1.0)[0])
        for p in proxies:
            top = sorted(pool, key=lambda r: -r[p])[: args.lookups]
            returned[f"top-{args.lookups} by {p}"].append(max(top, key=lambda r: valid[r["arch"]])["arch"])
    print(
        f"table {args.table} ({len(rows)} archs with every proxy), pool {args.pool} drawn per seed, "
        f"{args.seeds} seeds, "
        f"{args.lookups} lookups of cifar10_valid_acc_12ep; figures of the best looked-up arch by validation"
    )
    print(f"robot options: {options or 'defaults'}")
    print(f"{'lookups spent by':<28} {'valid 12ep %':>14} {'test 200ep %':>14}")
    for name, archs in returned.items():
        figures = [f"{statistics.fmean(v):.2f} ± {statistics.stdev(v):.2f}" for v in _columns(archs, valid, test)]
        print(f"{name:<28} {figures[0]:>14} {figures[1]:>14}")
    return 0


def _columns(archs: list[str], *truths: dict[str, float]) -> list[list[float]]:
    return [[truth[a] for a in archs] for truth in truths]


if __name__ == "__main__":
    sys.exit(main())
