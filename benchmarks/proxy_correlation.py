"""Rank correlation of each proxy with NATS-Bench TSS CIFAR-10 accuracy on a seeded sample.

Spearman (with a 95 % bootstrap interval) and Kendall (scipy.stats) of every proxy against
``cifar10_test_acc_200ep`` on ``--sample`` distinct TSS architectures drawn with ``--seed``
(network init and noise too). ``--inputs`` lists the inputs the data-dependent proxies are run on: ``noise``
(Gaussian noise, random labels) and/or ``real`` (``--data``: a CIFAR batches directory or a
PNG folder; default ``noise,real`` with ``--data``, else ``noise``). MeCo reads one image
(the first), the batch proxies one mini-batch of ``--batch-size`` images (64, their papers'
batch; fewer when the data holds fewer), zico two. Data-free proxies (params, flops,
synflow) and zen (Gaussian input by definition) are run once. Every row states its input,
batch and sample size. The proxy table of
docs/measured/proxy-correlation.md:

    python benchmarks/proxy_correlation.py --sample 100 --data ../shared/data/images

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
import json
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
DEFAULT_PROXIES = "meco,meco_distinct,meco_opt,params,flops,synflow,nwot,jacov,snip,grad_norm,fisher,grasp,zico,zen"
DARTS_TRUTH = DEFAULT_TRUTH.parents[1] / "darts" / "nb301_naslib_725.csv"
#: our proxy -> NASLib's column in the DARTS file
NASLIB_COLUMNS = {p: f"naslib_{p}" for p in ("nwot", "synflow", "params", "flops", "snip")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=("tss", "darts"), default="tss")
    parser.add_argument("--sample", type=int, default=1000, help="distinct archs (default 1000; darts: 0 = all)")
    parser.add_argument("--seed", type=int, default=0, help="sample draw, network init and inputs (default 0)")
    parser.add_argument("--proxies", default=DEFAULT_PROXIES)
    parser.add_argument("--data", help="real images: a CIFAR batches directory or a PNG folder")
    parser.add_argument("--inputs", help="noise, real or noise,real (default: noise,real with --data, else noise)")
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

    print(f"{len(indices)} TSS archs {header}, against {args.column}")
    head = f"{'proxy':<14} {'input':<30} {'n':>5} {'spearman':>9} {'95% CI':>17} {'kendall':>8} {'ms/arch':>8}"
    print(f"{head}  failures")
    for (p, kind), (values, seconds, errors) in columns.items():
        values = np.array([np.nan if v is None else v for v in values], dtype=float)
        ok = ~np.isnan(values)
        rho = stats.spearmanr(values[ok], accuracy[ok]).statistic
        ci = stats.bootstrap(
            (values[ok], accuracy[ok]),
            lambda a, b: stats.spearmanr(a, b).statistic,
            paired=True,
            vectorized=False,
            n_resamples=1000,
            method="percentile",
            random_state=0,
        ).confidence_interval
        tau = stats.kendalltau(values[ok], accuracy[ok]).statistic
        ms = 1000 * statistics.median(seconds)
        reasons = sorted({e for e in errors if e})
        note = f"{(~ok).sum()} ({reasons[0]})" if reasons else "0"
        interval = f"[{ci.low:.3f}, {ci.high:.3f}]"
        print(f"{p:<14} {kind:<30} {ok.sum():>5} {rho:>9.4f} {interval:>17} {tau:>8.4f} {ms:>8.1f}  {note}")


Columns = dict[tuple[str, str], tuple[list, list, list]]  # (proxy, input) -> (values, seconds, errors)
#: proxies that make their own input whatever the scorer holds
OWN_INPUT = {"zen": "Gaussian noise (own)"}


def _input_kind(name: str, scorer: ArchScorer) -> str:
    """What one proxy read: none, or noise/real with the number of images per pass."""
    needs = scorer.proxies[name].needs
    batch = len(scorer.batches[0][0])
    if name in OWN_INPUT:
        return f"{OWN_INPUT[name]}, batch {batch}"
    if needs.inputs == "none" or not needs.network:
        return "none (data-free)"
    kind = "real" if scorer.real_data else "noise"
    if needs.inputs == "sample":
        return f"{kind}, 1 {'image' if scorer.real_data else 'sample'}"
    return f"{kind}, batch {batch}" + (f" x {needs.num_batches}" if needs.num_batches > 1 else "")


def _score_sample(args: argparse.Namespace, space) -> tuple[list[int], Columns, str]:
    rng = np.random.default_rng(args.seed)
    indices = sorted(int(i) for i in rng.choice(space.size, size=args.sample, replace=False))
    return _score_archs(args, space, [space.arch_at(i) for i in indices], indices)


def _score_archs(
    args: argparse.Namespace, space, archs: list[str], indices: list[int]
) -> tuple[list[int], Columns, str]:
    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    inputs = [k.strip() for k in (args.inputs or ("noise,real" if args.data else "noise")).split(",")]
    if not set(inputs) <= {"noise", "real"} or ("real" in inputs and not args.data):
        sys.exit("--inputs takes noise and/or real; real needs --data")
    columns: Columns = {}
    scored: list = []
    walls = []
    for kind in inputs:
        data = args.data if kind == "real" else None
        scorer = ArchScorer(space=space.name, proxies=proxies, seed=args.seed, data=data, batch_size=args.batch_size)
        if kind == "real":  # data-free proxies were run on the noise pass already
            names = [p for p in scorer.proxy_names if "data-free" not in _input_kind(p, scorer) and p not in OWN_INPUT]
            scorer = ArchScorer(space=space.name, proxies=names, seed=args.seed, data=data, batch_size=args.batch_size)
        start = time.perf_counter()
        scores = [scorer.score(a) for a in tqdm(archs, unit="arch", file=sys.stderr, disable=None, desc=kind)]
        walls.append(f"{kind} {time.perf_counter() - start:.0f} s")
        scored.append((scorer, scores))
        for p in scorer.proxy_names:
            columns[(p, _input_kind(p, scorer))] = (
                [s.values[p] for s in scores],
                [s.seconds[p] for s in scores],
                [s.errors[p] for s in scores],
            )
    if args.out:
        scorer, scores = scored[0]
        write_parquet_atomic(scores_to_table(scores, scorer.proxy_names, indices), args.out)
    source = f", real images from {args.data}" if "real" in inputs else ""
    return indices, columns, f"(seed {args.seed}{source}; CPU, {torch.get_num_threads()} thread(s); {', '.join(walls)})"


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
    print(f"{'proxy':<16} {'input':<30} {'n':>5} {'spearman':>9} {'kendall':>8} {'ms/arch':>8}  {'rho vs naslib':>13}")
    for (p, kind), (values, seconds, errors) in columns.items():
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
        print(f"{p:<16} {kind:<30} {ok.sum():>5} {rho:>9.4f} {tau:>8.4f} {ms:>8.1f}  {agreement:>13}  failures {note}")
    print("NASLib's own scores on the same cells:")
    for name in sorted(c for c in table if c.startswith("naslib_") and c != "naslib_compact"):
        naslib = np.array([table[name][i] for i in rows], dtype=float)
        ok = ~np.isnan(naslib)
        rho = stats.spearmanr(naslib[ok], accuracy[ok]).statistic
        tau = stats.kendalltau(naslib[ok], accuracy[ok]).statistic
        print(f"{name:<16} {ok.sum():>5} {rho:>9.4f} {tau:>8.4f}")


def _read_scores(path: Path) -> tuple[list[int], Columns, str]:
    parquet = pq.read_table(path)
    table = parquet.to_pydict()
    if "index" not in table or any(i is None for i in table["index"]):
        sys.exit(f"{path}: every row needs an 'index' (a TSS score file from `zeronas score --space tss`)")
    recorded = (parquet.schema.metadata or {}).get(b"zeronas.proxy_input")
    kind = "as recorded in the file" if recorded else "not recorded"
    if recorded:
        record = json.loads(recorded)
        kind = f"{record['input']}, batch {record['batch_size']}"
    proxies = [c for c in table if f"{c}_seconds" in table and f"{c}_error" in table]
    columns = {(p, kind): (table[p], table[f"{p}_seconds"], table[f"{p}_error"]) for p in proxies}
    return [int(i) for i in table["index"]], columns, f"from {path}"


if __name__ == "__main__":
    main()
