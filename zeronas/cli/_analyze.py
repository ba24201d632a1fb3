"""``zeronas analyze``: proxy quality, search quality, anytime curves, algorithm
comparison and worker view from one or many runs' Parquet logs."""

from __future__ import annotations

import argparse
import shutil
import sys

from zeronas.cli._docs import docs_epilog

# zeronas.analysis pulls in scipy.stats, pyarrow.dataset and matplotlib: import it only when
# `zeronas analyze` runs, so that every other subcommand starts fast.
FORMATS = ("table", "csv", "json", "markdown")


def add_analysis_arguments(p: argparse.ArgumentParser) -> None:
    """The options every view of a run shares (``analyze``, ``report``): ground truth, filters, bootstrap."""
    p.add_argument("--benchmark", metavar="PATH", help="ground truth: a table (.csv/.parquet) or NATS-Bench directory")
    p.add_argument("--dataset", help="only rows of this dataset (cifar10, cifar100, imagenet16)")
    p.add_argument("--space", help="search space of logs that do not record one (tss, sss, darts)")
    p.add_argument("--metric", choices=("test", "valid"), help="ground-truth split (default test; valid for darts)")
    p.add_argument(
        "--epochs", type=int, help="ground-truth training epochs (default: the full schedule, 200 for tss, 90 for sss)"
    )
    p.add_argument("--top-k", type=int, default=10, metavar="K", help="archs per search judged by truth (default 10)")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        metavar="N",
        help="bootstrap resamples for confidence intervals (default 200; 0: none)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (and of the report's point sample)")


def analysis_options(args: argparse.Namespace) -> dict:
    """What :func:`add_analysis_arguments` parsed, as keyword arguments of ``zeronas.analysis.analyze``."""
    return {
        "benchmark": args.benchmark,
        "dataset": args.dataset,
        "space": args.space,
        "metric": args.metric,
        "epochs": args.epochs,
        "top_k": args.top_k,
        "n_resamples": args.bootstrap,
        "seed": args.seed,
    }


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "analyze",
        help="tables and plots from search logs",
        description=__doc__.replace("``", "'"),
        epilog=docs_epilog("guide/analysis.md"),
    )
    p.add_argument("paths", nargs="+", metavar="RUN_DIR", help="search output dirs, run=<id> dirs or part files")
    add_analysis_arguments(p)
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: rich tables)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots to DIR")
    p.add_argument("--export", metavar="FILE.parquet", help="write the joined per-architecture table")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from zeronas.analysis import analyze, export_joined, render, write_plots
    from zeronas.analysis._export import check_export_path, write_text

    if args.export:
        check_export_path(args.export)
    report = analyze(args.paths, **analysis_options(args))
    width = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() and not args.output else 160
    text = render(report, args.format, width=width)
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    if args.export:
        path = export_joined(report, args.export)
        print(f"wrote {report.joined.num_rows} rows to {path}", file=sys.stderr)
    if args.plots:
        for path in write_plots(report, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    return 0
