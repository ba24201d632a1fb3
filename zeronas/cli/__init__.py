"""``zeronas`` command line. Each subcommand lives in its own module exposing
``add_parser(subparsers)``; the parser's ``func(args) -> int`` runs it."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from zeronas import __version__
from zeronas.cli._docs import docs_epilog
from zeronas.errors import ZeronasError

DESCRIPTION = (
    "Zero-shot neural architecture search: score architectures with zero-cost proxies, search NATS-Bench "
    "spaces with them on a Ray pool of scorers, and analyse the Parquet logs."
)
_SUBCOMMANDS = [
    "_spaces",
    "_benchmark",
    "_data",
    "_score",
    "_search",
    "_analyze",
    "_report",
    "_predict",
    "_proxy",
    "_supernet",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zeronas", description=DESCRIPTION, epilog=docs_epilog("index.md"))
    parser.add_argument("--version", action="version", version=f"zeronas {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        importlib.import_module(f"zeronas.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ZeronasError as err:
        print(f"zeronas {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zeronas {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
