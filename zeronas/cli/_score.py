"""``zeronas score``: compute zero-cost proxies for many architectures, streamed to Parquet part files."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from zeronas.cli._docs import docs_epilog
from zeronas.errors import ZeronasError
from zeronas.inputs import INPUT_KINDS

#: what a resumed run must share with the run it continues (else its rows would not be comparable)
_SETTINGS = ("space", "proxies", "dataset", "data", "seed", "batch_size")
SETTINGS_NAME = "_score.json"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="compute zero-cost proxies for architectures into Parquet files",
        description="Score architectures with zero-cost proxies. One row per arch: arch, index, in_space (false, "
        "and index null, for an arch outside the space: a DARTS genotype with a none edge or a node reading one "
        "state twice), one column per proxy, <proxy>_seconds and <proxy>_error (why a value is null). "
        "Rows stream into part files under --out "
        "(read the directory with pyarrow.parquet.read_table or pandas.read_parquet); --resume skips archs "
        "already there.",
        epilog=docs_epilog("guide/proxies.md"),
    )
    parser.add_argument("--space", default="tss", help="search space (tss, sss, darts; default tss)")
    parser.add_argument("--proxies", default="meco", help="comma-separated proxy names (default meco)")
    parser.add_argument(
        "--proxy-option",
        action="append",
        default=[],
        metavar="PROXY.KEY=VALUE",
        help="proxy constructor option, e.g. bossnas.checkpoint=CKPT (repeatable)",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every architecture of the space")
    which.add_argument("--sample", type=int, metavar="N", help="N distinct architectures drawn with --seed")
    which.add_argument("--archs", type=Path, metavar="FILE", help="a file with one arch string per line")
    parser.add_argument("--seed", type=int, default=0, help="network init, inputs and --sample draw (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output directory of Parquet part files (*.parquet)")
    parser.add_argument("--resume", action="store_true", help="go on with --out: skip the archs already in it")
    parser.add_argument("--limit", type=int, metavar="N", help="score at most N archs not yet in --out, then stop")
    parser.add_argument("--flush-rows", type=int, default=256, help="rows per part file (default 256)")
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
    parser.add_argument(
        "--device",
        default="auto",
        help="in-process: cpu, cuda or cuda:N (auto = cuda when torch sees one); with --workers: "
        "auto = the GPU Ray gives each worker, else CPU; cpu = compute on the CPU even on a GPU "
        "placement; a worker given a GPU that torch cannot use is an error (default auto)",
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads for in-process scoring (default: torch's)")
    parser.add_argument("--predictor", type=Path, metavar="MODEL", help="add a predicted_acc column ('predict fit')")
    placement = parser.add_argument_group("Ray scorer pool (as for search)")
    placement.add_argument("--workers", type=int, default=0, help="Ray scorer actors; 0 = in this process (default)")
    placement.add_argument(
        "--gpus-per-worker",
        type=float,
        help="GPU share per scorer (default 1 when the cluster has GPUs; 0.25 packs 4 per GPU)",
    )
    placement.add_argument(
        "--cpus-per-worker", type=float, default=0.5, help="logical CPUs Ray reserves per scorer (default 0.5)"
    )
    placement.add_argument(
        "--wait-for-workers",
        default="10m",
        metavar="DURATION",
        help="give up when no scorer has been up this long (90s, 10m, 1h; default 10m); --resume goes on",
    )
    placement.add_argument("--address", help="Ray cluster address for --workers (default: start a local one)")
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


def select_archs(args: argparse.Namespace, space) -> tuple[Iterable[str], int]:
    """The archs to score and how many: lazily for ``--all`` and ``--sample`` (no list of strings)."""
    if args.all:
        if space.size > _MAX_ENUMERATED:
            raise ZeronasError(
                f"--all would score {space.size:,} {space.name} archs; use --sample N or --archs FILE instead"
            )
        return space.enumerate(), space.size
    if args.sample is not None:
        if not 1 <= args.sample <= space.size:
            raise ZeronasError(f"--sample must be between 1 and {space.size:,} for {space.name}, got {args.sample}")
        rng = np.random.default_rng(args.seed)
        indices = rng.choice(space.size, size=args.sample, replace=False)
        return (space.arch_at(int(i)) for i in indices), len(indices)
    archs = list(dict.fromkeys(read_arch_file(args.archs, space)))  # a repeated line is scored once
    return archs, len(archs)


def _progress(results: Iterator, total: int) -> Iterator:
    if not sys.stderr.isatty():
        from zeronas._progress_lines import count_lines

        return count_lines(results, total, "scored archs")
    from tqdm import tqdm

    return iter(tqdm(results, total=total, unit="arch", desc="scoring", file=sys.stderr))


def _check_args(args: argparse.Namespace) -> None:
    if args.workers < 0:
        raise ZeronasError(f"--workers must be 0 (in-process) or a positive number of Ray actors, got {args.workers}")
    if args.out.suffix.lower() != ".parquet":
        raise ZeronasError(f"--out {args.out} should end in .parquet (a directory of part files)")
    if args.threads is not None and args.threads < 1:
        raise ZeronasError(f"--threads must be a positive integer, got {args.threads}")
    if args.limit is not None and args.limit < 1:
        raise ZeronasError(f"--limit must be a positive number of archs, got {args.limit}")
    if args.flush_rows < 1:
        raise ZeronasError(f"--flush-rows must be >= 1, got {args.flush_rows}")
    from zeronas.pipeline._placement import parse_duration

    parse_duration(args.wait_for_workers)  # a bad duration fails before anything starts
    if args.gpus_per_worker is not None and args.gpus_per_worker < 0:
        raise ZeronasError(f"--gpus-per-worker must be >= 0, got {args.gpus_per_worker}")
    if args.cpus_per_worker <= 0:
        raise ZeronasError(f"--cpus-per-worker must be > 0, got {args.cpus_per_worker}")


def arch_index(space, arch: str) -> int | None:
    """The arch's index, or None for an arch outside the space (a DARTS genotype with a ``none`` edge)."""
    return int(space.index_of(arch)) if space.in_space(arch) else None


class ScoredArchs:
    """The archs an output already holds, in memory sized by what was scored: a bit per index where the space
    is small enough for ``--all`` (flat, whatever the progress), else the set of indices; archs without an
    index (outside the space) by their string."""

    def __init__(self, space) -> None:
        self._space = space
        self._bits = np.zeros(space.size, dtype=bool) if space.size <= _MAX_ENUMERATED else None
        self._indices: set[int] = set()
        self._archs: set[str] = set()

    def add(self, indices: np.ndarray, archs: Iterable[str]) -> None:
        """Record archs by index, and ``archs`` (those without one) by string."""
        if self._bits is not None:
            self._bits[indices] = True
        else:
            self._indices.update(indices.tolist())
        self._archs.update(archs)

    def __contains__(self, arch: str) -> bool:
        index = arch_index(self._space, arch)
        if index is None:
            return arch in self._archs
        return bool(self._bits[index]) if self._bits is not None else index in self._indices

    def __len__(self) -> int:
        by_index = int(self._bits.sum()) if self._bits is not None else len(self._indices)
        return by_index + len(self._archs)


def scored_archs(out: Path, settings: dict[str, Any], space, resume: bool) -> ScoredArchs:
    """What ``out`` already holds; an error when it holds scores and ``resume`` is off or the settings differ."""
    from zeronas.logs import PartFiles

    done = ScoredArchs(space)
    if out.exists() and not out.is_dir():
        raise ZeronasError(f"--out {out} is a file (an older single-file output); remove it or choose another --out")
    parts = PartFiles(out).existing()
    saved_path = out / SETTINGS_NAME
    if not parts:
        return done
    if not resume:
        raise ZeronasError(f"--out {out} already holds scores; pass --resume to go on with it, or choose another --out")
    if saved_path.is_file():
        saved = json.loads(saved_path.read_text())
        differ = [k for k in _SETTINGS if saved.get(k) != settings[k]]
        if differ:
            shown = ", ".join(f"{k} {saved.get(k)!r} there, {settings[k]!r} now" for k in differ)
            raise ZeronasError(f"--resume: {out} was scored with other settings ({shown}); use the same flags")
    import pyarrow.dataset as ds

    for batch in ds.dataset([str(p) for p in parts], format="parquet").to_batches(columns=["index", "arch"]):
        index = batch.column(0)
        done.add(index.drop_null().to_numpy(), batch.column(1).filter(index.is_null()).to_pylist())
    return done


def _write_settings(out: Path, settings: dict[str, Any]) -> None:
    from zeronas._atomic import atomic_write

    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / SETTINGS_NAME) as fh:
        fh.write(json.dumps(settings, indent=2, sort_keys=True).encode())


def _protocol(args: argparse.Namespace, space: str, data: str | None):
    from zeronas.datasets import canonical_dataset
    from zeronas.predictors import ProxyProtocol

    return ProxyProtocol.of_scorer(space, canonical_dataset(args.dataset), data, args.batch_size, args.seed)


def _finisher(space, predictor, metadata: dict[bytes, bytes]):
    """Per part file: the ``in_space`` flag, the predictor's ``predicted_acc`` column (if any) and the scorer's
    protocol metadata."""
    import pyarrow as pa

    def finish(table: pa.Table, scores: list) -> pa.Table:
        flags = pa.array([space.in_space(s.arch) for s in scores], pa.bool_())
        table = table.add_column(table.schema.get_field_index("index") + 1, "in_space", flags)
        if predictor is not None:
            predicted = predictor.predict([s.values for s in scores], [s.arch for s in scores])
            table = table.append_column("predicted_acc", pa.array(predicted, pa.float64()))
        return table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})

    return finish


def run(args: argparse.Namespace) -> int:
    from itertools import islice

    from zeronas.cli._predict import load_for_scoring
    from zeronas.inputs import resolve_proxy_input
    from zeronas.predictors import score_file_metadata
    from zeronas.proxies import ArchScorer, ScoreWriter, resolve_proxy
    from zeronas.spaces import get_space

    _check_args(args)
    space = get_space(args.space)
    proxies = list(dict.fromkeys(resolve_proxy(p) for p in args.proxies.split(",") if p.strip()))
    if not proxies:
        raise ZeronasError("--proxies is empty; give e.g. --proxies meco,synflow")
    proxy_input = resolve_proxy_input(args.data, args.dataset, args.input)
    protocol = _protocol(args, space.name, proxy_input.data)
    predictor = load_for_scoring(args.predictor, protocol, proxies) if args.predictor else None
    archs, total = select_archs(args, space)
    print(proxy_input.describe())
    kwargs = dict(
        space=space.name,
        proxies=proxies,
        dataset=args.dataset,
        data=proxy_input.data,
        seed=args.seed,
        batch_size=args.batch_size,
    )
    if args.proxy_option:
        from zeronas.cli._search import parse_proxy_options
        from zeronas.pipeline._spec import check_proxy_options

        kwargs["proxy_options"] = check_proxy_options(parse_proxy_options(args.proxy_option), proxies)
    if args.workers == 0:
        import torch

        if args.threads is not None:
            torch.set_num_threads(args.threads)
        device = args.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        scorer = ArchScorer(device=device, **kwargs)  # validates everything before any work
    else:
        from zeronas.pipeline._worker_device import check_worker_device

        ArchScorer(device="cpu", **kwargs)  # same eager validation as in-process
        check_worker_device(args.device)
    settings = {**kwargs, "data": str(kwargs["data"]) if kwargs["data"] else None}
    done = scored_archs(args.out, settings, space, args.resume)
    if args.all:
        already = len(done)
    else:  # a second lazy pass over the same selection
        already = sum(a in done for a in select_archs(args, space)[0]) if len(done) else 0
    todo: Iterable[str] = (a for a in archs if a not in done)
    expected = total - already
    if args.limit is not None:
        todo = islice(todo, args.limit)
        expected = min(expected, args.limit)
    if args.workers == 0:
        results: Iterator = (scorer.score(arch) for arch in todo)
    else:
        from zeronas.pipeline._placement import parse_duration

        try:
            from zeronas.pipeline import score_on_ray
        except ImportError:
            raise ZeronasError("Ray scoring not available; use --workers 0") from None
        results = score_on_ray(
            todo,
            device=args.device,
            workers=args.workers,
            gpus_per_worker=args.gpus_per_worker,
            cpus_per_worker=args.cpus_per_worker,
            wait_for_workers=parse_duration(args.wait_for_workers),
            address=args.address,
            **kwargs,
        )
    existed = args.out.exists()
    _write_settings(args.out, settings)
    failed = dict.fromkeys(proxies, 0)
    record = {**proxy_input.record(), "batch_size": args.batch_size, "seed": args.seed}
    metadata = {**score_file_metadata(protocol), b"zeronas.proxy_input": json.dumps(record).encode()}
    finish = _finisher(space, predictor, metadata)
    writer = ScoreWriter(args.out, proxies, flush_rows=args.flush_rows, finish=finish)
    try:
        with writer:
            for score in _progress(results, expected):
                writer.add(score, arch_index(space, score.arch))
                for p in proxies:
                    failed[p] += score.values[p] is None
    except BaseException:
        if not existed and not writer.rows_written:  # nothing scored (a worker failed to start): leave nothing
            shutil.rmtree(args.out, ignore_errors=True)
        raise
    notes = ", ".join(f"{p}: {n} null" for p, n in failed.items() if n)
    skipped = f"; {already} already there" if already else ""
    print(
        f"wrote {writer.rows_written} architectures x {len(proxies)} proxies to {args.out}{skipped}"
        + (f" ({notes})" if notes else "")
    )
    return 0
