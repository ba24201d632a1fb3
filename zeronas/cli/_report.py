"""``zeronas report``: one self-contained HTML page of a run (no server, no network: open it from disk).
Sections: the run, what each search returned, anytime curves, proxies vs accuracy, the algorithm comparison,
workers and failures; built on the same analysis as 'zeronas analyze'. Works on a run still in progress."""

from __future__ import annotations

import argparse
import sys

from zeronas.cli._analyze import add_analysis_arguments, analysis_options
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
    add_analysis_arguments(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from zeronas.report import write_report

    path = write_report(args.paths, args.out, **analysis_options(args))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser", file=sys.stderr)
    return 0
