"""``zeronas benchmark export``: turn an official NATS-Bench directory into a ground-truth table."""

from __future__ import annotations

import argparse
import sys

from zeronas.cli._docs import docs_epilog


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "benchmark", help="work with NATS-Bench ground-truth files", epilog=docs_epilog("guide/ground-truth.md")
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export",
        help="export a NATS-Bench fast-mode directory to a Parquet/CSV ground-truth table",
        description="Read every architecture of an official NATS-Bench fast-mode directory "
        "(NATS-tss-v1_0-3ffb9-simple / NATS-sss-v1_0-50262-simple) and write one table row per "
        "architecture with <dataset>_<split>_acc_<epochs>ep and cost columns.",
        epilog=docs_epilog("guide/ground-truth.md"),
    )
    export.add_argument("--space", required=True, choices=["tss", "sss"], help="search space of the directory")
    export.add_argument(
        "--from", dest="source", metavar="DIR", help="the benchmark directory (default: under $TORCH_HOME)"
    )
    export.add_argument(
        "--out",
        metavar="FILE",
        help="output table, .parquet or .csv (default: <space>.parquet in zeronas's cache, $ZERONAS_HOME/benchmarks, "
        "where `zeronas search` finds it without --benchmark)",
    )
    export.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from zeronas.groundtruth import cached_table_path, export

    out = args.out or cached_table_path(args.space)
    rows = export(args.source, args.space, out, progress=not args.no_progress and sys.stderr.isatty())
    print(f"wrote {rows} {args.space} architectures to {out}")
    return 0
