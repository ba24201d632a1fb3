"""``zeronas report``: one self-contained HTML page of a run (no server, no network: open it from disk).
Sections: the run, what each search returned, anytime curves, proxies vs accuracy, the algorithm comparison,
workers and failures; built on the same analysis as 'zeronas analyze'. Works on a run still in progress."""

from __future__ import annotations

import argparse
import sys

from zeronas.cli._docs import docs_epilog


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report",
        help="an interactive HTML report of a run (one self-contained file)",
        description=__doc__.replace("``", "'"),
        epilog=docs_epilog("report.md"),
    )
    p.add_argument("paths", nargs="+", metavar="LOG_OR_RUN_DIR", help="search output dirs, run=<id> dirs or part files")
    p.add_argument("--out", default="report.html", metavar="FILE.html", help="where to write (default report.html)")
    p.add_argument("--benchmark", metavar="TABLE", help="ground truth: a table (.csv/.parquet) or NATS-Bench directory")
    p.add_argument("--dataset", help="only rows of this dataset (cifar10, cifar100, imagenet16)")
    p.add_argument("--space", help="search space of logs that do not record one (tss, sss, darts)")
    p.add_argument("--metric", choices=("test", "valid"), help="ground-truth split (default test; valid for darts)")
    p.add_argument("--epochs", type=int, help="ground-truth training epochs (default: the full schedule)")
    p.add_argument("--top-k", type=int, default=10, metavar="K", help="archs per search judged by truth (default 10)")
    p.add_argument("--bootstrap", type=int, default=200, metavar="N", help="bootstrap resamples (default 200; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling and of the point sample")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from zeronas.report import write_report

    path = write_report(
        args.paths,
        args.out,
        benchmark=args.benchmark,
        dataset=args.dataset,
        space=args.space,
        metric=args.metric,
        epochs=args.epochs,
        top_k=args.top_k,
        n_resamples=args.bootstrap,
        seed=args.seed,
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser", file=sys.stderr)
    return 0
