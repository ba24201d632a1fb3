"""``zeronas score``: compute zero-cost proxies for many architectures into one Parquet file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from zeronas.errors import ZeronasError
from zeronas.inputs import INPUT_KINDS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="compute zero-cost proxies for architectures into a Parquet file",
        description="Score architectures with zero-cost proxies. One row per arch: arch, index, one column per "
        "proxy, <proxy>_seconds and <proxy>_error (why a value is null).",
    )
    parser.add_argument("--space", default="tss", help="search space (tss, sss; default tss)")
    parser.add_argument("--proxies", default="meco", help="comma-separated proxy names (default meco)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every architecture of the space")
    which.add_argument("--sample", type=int, metavar="N", help="N distinct architectures drawn with --seed")
    which.add_argument("--archs", type=Path, metavar="FILE", help="a file with one arch string per line")
    parser.add_argument("--seed", type=int, default=0, help="network init, inputs and --sample draw (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output Parquet file")
    parser.add_argument("--dataset", default="cifar10", help="cifar10, cifar100 or imagenet16 (default cifar10)")
    parser.add_argument(
        "--data",
        help="CIFAR batches directory or PNG folder; default: a copy found in $ZERONAS_DATA, $ZERONAS_HOME/data "
        "(`zeronas data download`), ./data, ~/data or ~/.torch, else Gaussian noise",
    )
    parser.add_argument(
        "--input",
        choices=INPUT_KINDS,
        default="auto",
        help="auto (real images when a copy is found, else noise; default), real (fail without one) or noise",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="mini-batch for batch proxies (default 64)")
    parser.add_argument("--workers", type=int, default=0, help="Ray scorer actors; 0 = in this process (default)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (in-process scoring; default cpu)")
    parser.add_argument("--threads", type=int, help="torch CPU threads for in-process scoring (default: torch's)")
    parser.add_argument("--address", help="Ray cluster address for --workers (default: start a local one)")
    parser.add_argument("--predictor", type=Path, metavar="MODEL", help="add a predicted_acc column ('predict fit')")
    parser.set_defaults(func=run)


def read_arch_file(path: Path, space) -> list[str]:
    """Arch strings from a file: one per line, blank lines and ``#`` comments skipped."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ZeronasError(f"cannot read arch file {path}: {err}") from None
    archs = []
    for lineno, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            archs.append(space.validate(text))
        except ValueError as err:
            raise ZeronasError(f"{path}, line {lineno}: not a {space.name} architecture: {err}") from None
    if not archs:
        raise ZeronasError(f"arch file {path} holds no architectures; write one arch string per line")
    return archs


#: --all enumerates spaces up to this size (the NATS-Bench spaces); DARTS (~10^18) must be sampled
_MAX_ENUMERATED = 10_000_000


def select_archs(args: argparse.Namespace, space) -> list[str]:
    if args.all:
        if space.size > _MAX_ENUMERATED:
            raise ZeronasError(
                f"--all would score {space.size:,} {space.name} archs; use --sample N or --archs FILE instead"
            )
        return list(space.enumerate())
    if args.sample is not None:
        if not 1 <= args.sample <= space.size:
            raise ZeronasError(f"--sample must be between 1 and {space.size:,} for {space.name}, got {args.sample}")
        rng = np.random.default_rng(args.seed)
        indices = rng.choice(space.size, size=args.sample, replace=False)
        return [space.arch_at(int(i)) for i in indices]
    archs = read_arch_file(args.archs, space)
    return list(dict.fromkeys(archs))  # a repeated line is scored once


def _progress(results: Iterator, total: int) -> Iterator:
    if not sys.stderr.isatty():
        from zeronas._progress_lines import count_lines

        return count_lines(results, total, "scored archs")
    from tqdm import tqdm

    return iter(tqdm(results, total=total, unit="arch", desc="scoring", file=sys.stderr))


def _protocol(args: argparse.Namespace, space: str, data: str | None):
    from zeronas.datasets import canonical_dataset
    from zeronas.predictors import ProxyProtocol

    return ProxyProtocol.of_scorer(space, canonical_dataset(args.dataset), data, args.batch_size, args.seed)


def run(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from zeronas.cli._predict import load_for_scoring
    from zeronas.inputs import resolve_proxy_input
    from zeronas.predictors import score_file_metadata
    from zeronas.proxies import ArchScorer, resolve_proxy, scores_to_table, write_parquet_atomic
    from zeronas.spaces import get_space

    space = get_space(args.space)
    proxies = list(dict.fromkeys(resolve_proxy(p) for p in args.proxies.split(",") if p.strip()))
    if not proxies:
        raise ZeronasError("--proxies is empty; give e.g. --proxies meco,synflow")
    if args.workers < 0:
        raise ZeronasError(f"--workers must be 0 (in-process) or a positive number of Ray actors, got {args.workers}")
    if args.out.suffix.lower() != ".parquet":
        raise ZeronasError(f"--out {args.out} should end in .parquet")
    if args.threads is not None and args.threads < 1:
        raise ZeronasError(f"--threads must be a positive integer, got {args.threads}")
    proxy_input = resolve_proxy_input(args.data, args.dataset, args.input)
    protocol = _protocol(args, space.name, proxy_input.data)
    predictor = load_for_scoring(args.predictor, protocol, proxies) if args.predictor else None
    archs = select_archs(args, space)
    print(proxy_input.describe())
    kwargs = dict(
        space=space.name, proxies=proxies, dataset=args.dataset, data=proxy_input.data, seed=args.seed,
        batch_size=args.batch_size,
    )
    if args.workers == 0:
        if args.threads is not None:
            import torch

            torch.set_num_threads(args.threads)
        scorer = ArchScorer(device=args.device, **kwargs)  # validates everything before any work
        results: Iterator = (scorer.score(arch) for arch in archs)
    else:
        ArchScorer(device="cpu", **kwargs)  # same eager validation as in-process
        try:
            from zeronas.pipeline import score_on_ray
        except ImportError:
            raise ZeronasError("Ray scoring not available; use --workers 0") from None
        results = score_on_ray(archs, device=args.device, workers=args.workers, address=args.address, **kwargs)
    by_arch = {score.arch: score for score in _progress(results, len(archs))}
    ordered = [by_arch[a] for a in archs]  # Ray yields in completion order
    table = scores_to_table(ordered, proxies, indices=[space.index_of(a) for a in archs])
    if predictor is not None:
        predicted = predictor.predict([s.values for s in ordered], archs)
        table = table.append_column("predicted_acc", pa.array(predicted, pa.float64()))
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **score_file_metadata(protocol)})
    record = {**proxy_input.record(), "batch_size": args.batch_size, "seed": args.seed}
    metadata = {**(table.schema.metadata or {}), b"zeronas.proxy_input": json.dumps(record)}
    table = table.replace_schema_metadata(metadata)
    write_parquet_atomic(table, args.out)
    failed = {p: sum(s.values[p] is None for s in ordered) for p in proxies}
    notes = ", ".join(f"{p}: {n} null" for p, n in failed.items() if n)
    print(f"wrote {len(ordered)} architectures x {len(proxies)} proxies to {args.out}" + (f" ({notes})" if notes else ""))
    return 0
