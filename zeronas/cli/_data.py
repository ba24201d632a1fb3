"""``zeronas data download``: fetch CIFAR-10/100 once, where searches find it without --data."""

from __future__ import annotations

import argparse
import sys

from zeronas.cli._docs import docs_epilog


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "data", help="download the data sets proxies and training read", epilog=docs_epilog("guide/getting-started.md")
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    download = actions.add_parser(
        "download",
        help="download CIFAR-10 or CIFAR-100 (python batches) into zeronas's cache",
        description="Download a CIFAR archive (torchvision's URL and md5 sums), check it and unpack it in "
        "torchvision's layout under --root (default: $ZERONAS_HOME/data, where `zeronas search` and "
        "`zeronas score` look without --data). An intact copy already there is kept.",
        epilog=docs_epilog("guide/getting-started.md"),
    )
    download.add_argument("dataset", choices=["cifar10", "cifar100"], help="the data set")
    download.add_argument("--root", metavar="DIR", help="folder to unpack into (default: $ZERONAS_HOME/data)")
    download.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    download.set_defaults(func=run_download)


def run_download(args: argparse.Namespace) -> int:
    from zeronas.download import download_cifar

    folder, downloaded = download_cifar(args.dataset, args.root, progress=not args.no_progress and sys.stderr.isatty())
    print(f"{'downloaded' if downloaded else 'already there, intact'}: {args.dataset} in {folder}")
    return 0
