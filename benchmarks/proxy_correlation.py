"""Rank correlation of each proxy with NATS-Bench TSS CIFAR-10 accuracy on a seeded sample.

Spearman and Kendall (scipy.stats) of every proxy against ``cifar10_test_acc_200ep``
on ``--sample`` distinct TSS architectures drawn with ``--seed``. Without ``--data``
the inputs are Gaussian noise; with it (a CIFAR batches directory or a PNG folder)
MeCo uses the first image and batch proxies the first ``--batch-size`` images.

    python benchmarks/proxy_correlation.py --sample 1000 --proxies meco,meco_distinct,meco_opt
    python benchmarks/proxy_correlation.py --sample 1000 --proxies meco --data /work/shared/data/images

``--space darts`` correlates with NAS-Bench-301 CIFAR-10 validation accuracy of the 725 DARTS
cells in ``darts/nb301_naslib_725.csv`` (``--sample`` of them, or all with ``--sample 0``) and adds
the rank agreement (Spearman) of our scores with NASLib's scores in that file:

    python benchmarks/proxy_correlation.py --space darts --sample 0 \
        --proxies meco,meco_opt,zico,nwot,synflow,snip,params,flops

``--scores FILE`` takes the scores from a ``zeronas score`` Parquet file instead (every
row in it, e.g. the whole space scored on the Ray pool):

    zeronas score --space tss --all --proxies meco,meco_distinct,meco_opt --workers 2 --out tss_all.parquet
    python benchmarks/proxy_correlation.py --scores tss_all.parquet
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import torch
from scipy import stats
from tqdm import tqdm

from zeronas.proxies import ArchScorer, scores_to_table, write_parquet_atomic
from zeronas.spaces import get_space

DEFAULT_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nats_tss" / "cifar10.csv"
DEFAULT_PROXIES = "meco,meco_distinct,meco_opt,params,flops,synflow,nwot,jacov,snip,grad_norm,zen"
DARTS_TRUTH = DEFAULT_TRUTH.parents[1] / "darts" / "nb301_naslib_725.csv"
#: our proxy -> NASLib's column in the DARTS file
NASLIB_COLUMNS = {p: f"naslib_{p}" for p in ("nwot", "synflow", "params", "flops", "snip")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=("tss", "darts"), default="tss")
    parser.add_argument("--sample", type=int, default=1000, help="distinct archs (default 1000; darts: 0 = all)")
    parser.add_argument("--seed", type=int, default=0, help="sample draw, network init and inputs (default 0)")
    parser.add_argument("--proxies", default=DEFAULT_PROXIES)
    parser.add_argument("--data", help="real images instead of Gaussian noise")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH, help="TSS cifar10.csv (or the DARTS CSV)")
    parser.add_argument("--column", default="cifar10_test_acc_200ep")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the raw scores to this Parquet file")
    parser.add_argument("--scores", type=Path, help="read scores from a `zeronas score` Parquet file instead")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.space == "darts":
        return _darts(args)

    truth = pacsv.read_csv(args.truth).select(["index", "arch", args.column]).to_pydict()
    space = get_space("tss")
    if truth["index"][: space.size] != list(range(space.size)):
        sys.exit(f"{args.truth} is not in NATS-Bench index order")
    if args.scores:
        indices, columns, header = _read_scores(args.scores)
    else:
        indices, columns, header = _score_sample(args, space)
    accuracy = np.array([truth[args.column][i] for i in indices], dtype=float)

    print(f"{len(indices)} TSS archs {header}, {args.column}")
    print(f"{'proxy':<14} {'n':>5} {'spearman':>9} {'kendall':>8} {'ms/arch':>8}  failures")
    for p, (values, seconds, errors) in columns.items():
        values = np.array([np.nan if v is None else v for v in values], dtype=float)
        ok = ~np.isnan(values)
        rho = stats.spearmanr(values[ok], accuracy[ok]).statistic
        tau = stats.kendalltau(values[ok], accuracy[ok]).statistic
        ms = 1000 * statistics.median(seconds)
        reasons = sorted({e for e in errors if e})
        note = f"{(~ok).sum()} ({reasons[0]})" if reasons else "0"
        print(f"{p:<14} {ok.sum():>5} {rho:>9.4f} {tau:>8.4f} {ms:>8.1f}  {note}")


Columns = dict[str, tuple[list, list, list]]  # proxy -> (values, seconds, errors)


def _score_sample(args: argparse.Namespace, space) -> tuple[list[int], Columns, str]:
    rng = np.random.default_rng(args.seed)
    indices = sorted(int(i) for i in rng.choice(space.size, size=args.sample, replace=False))
    return _score_archs(args, space, [space.arch_at(i) for i in indices], indices)


def _score_archs(
    args: argparse.Namespace, space, archs: list[str], indices: list[int]
) -> tuple[list[int], Columns, str]:
    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    scorer = ArchScorer(space=space.name, proxies=proxies, seed=args.seed, data=args.data, batch_size=args.batch_size)
    start = time.perf_counter()
    scores = [scorer.score(a) for a in tqdm(archs, unit="arch", file=sys.stderr, disable=None)]
    wall = time.perf_counter() - start
    if args.out:
        write_parquet_atomic(scores_to_table(scores, scorer.proxy_names, indices), args.out)
    inputs = f"real images from {args.data}" if args.data else "Gaussian noise"
    columns = {
        p: ([s.values[p] for s in scores], [s.seconds[p] for s in scores], [s.errors[p] for s in scores])
        for p in scorer.proxy_names
    }
    return indices, columns, f"(seed {args.seed}), inputs: {inputs}, batch {args.batch_size}, {wall:.0f} s"


def _darts(args: argparse.Namespace) -> None:
    """ρ/τ against NB301 validation accuracy, then our scores' rank agreement with NASLib's."""
    truth_file = DARTS_TRUTH if args.truth == DEFAULT_TRUTH else args.truth
    table = pacsv.read_csv(truth_file).to_pydict()
    space = get_space("darts")
    rows = range(len(table["genotype"]))
    if args.sample:
        rows = sorted(int(i) for i in np.random.default_rng(args.seed).choice(len(rows), args.sample, replace=False))
    archs = [space.validate(table["genotype"][i]) for i in rows]
    _, columns, header = _score_archs(args, space, archs, [space.index_of(a) for a in archs])
    column = "cifar10_valid_acc_nb301"
    accuracy = np.array([table[column][i] for i in rows], dtype=float)
    print(f"{len(archs)} of {len(table['genotype'])} DARTS cells {header}, {column}")
    print(f"{'proxy':<16} {'n':>5} {'spearman':>9} {'kendall':>8} {'ms/arch':>8}  {'rho vs naslib':>13}  failures")
    for p, (values, seconds, errors) in columns.items():
        values = np.array([np.nan if v is None else v for v in values], dtype=float)
        ok = ~np.isnan(values)
        rho = stats.spearmanr(values[ok], accuracy[ok]).statistic
        tau = stats.kendalltau(values[ok], accuracy[ok]).statistic
        agreement = ""
        if p in NASLIB_COLUMNS:
            naslib = np.array([table[NASLIB_COLUMNS[p]][i] for i in rows], dtype=float)
            agreement = f"{stats.spearmanr(values[ok], naslib[ok]).statistic:.4f}"
        reasons = sorted({e for e in errors if e})
        note = f"{(~ok).sum()} ({reasons[0]})" if reasons else "0"
        ms = 1000 * statistics.median(seconds)
        print(f"{p:<16} {ok.sum():>5} {rho:>9.4f} {tau:>8.4f} {ms:>8.1f}  {agreement:>13}  {note}")
    print("NASLib's own scores on the same cells:")
    for name in sorted(c for c in table if c.startswith("naslib_") and c != "naslib_compact"):
        naslib = np.array([table[name][i] for i in rows], dtype=float)
        ok = ~np.isnan(naslib)
        rho = stats.spearmanr(naslib[ok], accuracy[ok]).statistic
        tau = stats.kendalltau(naslib[ok], accuracy[ok]).statistic
        print(f"{name:<16} {ok.sum():>5} {rho:>9.4f} {tau:>8.4f}")


def _read_scores(path: Path) -> tuple[list[int], Columns, str]:
    table = pq.read_table(path).to_pydict()
    if "index" not in table or any(i is None for i in table["index"]):
        sys.exit(f"{path}: every row needs an 'index' (a TSS score file from `zeronas score --space tss`)")
    proxies = [c for c in table if f"{c}_seconds" in table and f"{c}_error" in table]
    columns = {p: (table[p], table[f"{p}_seconds"], table[f"{p}_error"]) for p in proxies}
    return [int(i) for i in table["index"]], columns, f"from {path}"


if __name__ == "__main__":
    main()
