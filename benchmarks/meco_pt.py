"""MeCo-PT (MeCo paper, Algorithm 1) against REA on NATS-Bench TSS CIFAR-10, same proxy, same evaluations.

For each seed, ``meco-pt`` runs to the end through ask/tell in this process (the scores are the
search's proxy, computed with the in-process ``ArchScorer``: CPU, Gaussian-noise inputs unless
``--data``, proxy seed 0 as in ``zeronas search``). Then REA with the same proxy runs for exactly
as many proxy evaluations as meco-pt made (its supernets included). The architecture each search
returns is selected without test data, by one of two rules:

* ``proxy``: the highest proxy score (meco-pt: among its candidates; REA: among all its evaluations);
* ``valid12``: the highest 12-epoch validation accuracy (``cifar10_valid_acc_12ep``) among the
  meco-pt candidates, or among REA's top-N by proxy (N = the number of candidates).

The table gives the 200-epoch test accuracy of the returned architecture (mean ± std over seeds),
the proxy evaluations, the proxy seconds (the sum of the scoring time of every evaluation, i.e. what
one search costs on one CPU worker of this machine) and the wall seconds of the run.

Scores are cached by arch in ``--cache`` (JSON): every search of the run, and a rerun, reuses the
score of an arch already computed (scores are deterministic); the proxy seconds of a cached arch are
those measured when it was first scored.

    python benchmarks/meco_pt.py --seeds 3 --candidates 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.csv as pacsv
import torch

from zeronas.proxies import ArchScorer
from zeronas.search_algos import SearchAlgorithm, get_algorithm
from zeronas.spaces import get_space

DEFAULT_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nats_tss" / "cifar10.csv"


class CachedScorer:
    """``ArchScorer`` with a persistent arch -> (score, seconds) cache."""

    def __init__(self, proxy: str, data: str | None, batch_size: int, cache: Path) -> None:
        self.proxy = proxy
        self.scorer = ArchScorer(
            space="tss", proxies=[proxy], dataset="cifar10", data=data, seed=0, device="cpu", batch_size=batch_size
        )
        self.path = cache
        self.cache: dict[str, list] = json.loads(cache.read_text()) if cache.is_file() else {}

    def __call__(self, arch: str) -> tuple[float | None, float]:
        if arch not in self.cache:
            result = self.scorer.score(arch)
            self.cache[arch] = [result.values[self.proxy], result.total_seconds]
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text(json.dumps(self.cache))
            os.replace(tmp, self.path)
        score, seconds = self.cache[arch]
        return score, seconds


def drive(algo: SearchAlgorithm, score: Callable[[str], tuple[float | None, float]], budget: int) -> dict[str, tuple]:
    """Ask/tell until the algorithm finishes or ``budget`` evaluations; arch -> (score, seconds)."""
    told: dict[str, tuple] = {}
    while len(told) < budget and not algo.finished:
        archs = algo.ask(min(8, budget - len(told)))
        if not archs:
            break
        for arch in archs:
            told[arch] = score(arch)
            algo.tell(arch, told[arch][0])
    return told


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="search seeds 0..S-1 (default 3)")
    parser.add_argument("--candidates", type=int, default=10, help="meco-pt candidates N (default 10)")
    parser.add_argument("--proxy", default="meco")
    parser.add_argument("--data", help="real images instead of Gaussian noise")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH, help="TSS cifar10.csv ground truth")
    parser.add_argument("--cache", type=Path, help="score cache (default /tmp/zeronas-meco-pt-<proxy>.json)")
    parser.add_argument("--rea-population", type=int, default=16, help="REA population (default 16)")
    parser.add_argument("--rea-sample", type=int, default=4, help="REA tournament size (default 4)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    space = get_space("tss")
    columns = ["arch", "cifar10_test_acc_200ep", "cifar10_valid_acc_12ep"]
    truth = pacsv.read_csv(args.truth).select(columns).to_pydict()
    test = dict(zip(truth["arch"], truth["cifar10_test_acc_200ep"], strict=True))
    valid12 = dict(zip(truth["arch"], truth["cifar10_valid_acc_12ep"], strict=True))
    cache = args.cache or Path(f"/tmp/zeronas-meco-pt-{args.proxy}.json")
    score = CachedScorer(args.proxy, args.data, args.batch_size, cache)
    print(
        f"protocol: TSS CIFAR-10, proxy {args.proxy} ({'real images' if args.data else 'Gaussian noise'} inputs, "
        f"batch {args.batch_size}, proxy seed 0, CPU, {args.threads} thread), seeds 0..{args.seeds - 1}, "
        f"meco-pt candidates {args.candidates}; REA population {args.rea_population}, sample {args.rea_sample}, "
        "at the same evaluations",
        flush=True,
    )

    rows: dict[str, list[dict]] = {"meco-pt": [], "rea": []}
    for seed in range(args.seeds):
        t0 = time.monotonic()
        algo = get_algorithm("meco-pt", space=space, seed=seed, candidates=args.candidates)
        told = drive(algo, score, budget=10**9)
        cands = [(a, s) for a, s in algo.candidates if s is not None]
        rows["meco-pt"].append(_summary(told, cands, cands, test, valid12, time.monotonic() - t0))

        t0 = time.monotonic()
        rea = get_algorithm(
            "rea",
            space=space,
            seed=seed,
            avoid_repeats=True,
            population_size=args.rea_population,
            sample_size=args.rea_sample,
        )
        rea_told = drive(rea, score, budget=len(told))
        ranked = sorted(((a, s) for a, (s, _) in rea_told.items() if s is not None), key=lambda a_s: -a_s[1])
        rows["rea"].append(_summary(rea_told, ranked, ranked[: args.candidates], test, valid12, time.monotonic() - t0))
        for name in rows:
            r = rows[name][-1]
            print(
                f"seed {seed} {name:<8} evals {r['evals']:>4}  proxy-pick {r['proxy']:.2f}  valid12-pick "
                f"{r['valid12']:.2f}  proxy s {r['proxy_seconds']:.0f}  wall s {r['wall']:.0f}  {r['arch']}",
                flush=True,
            )
        _print_table(rows, args.proxy, seed + 1)


def _print_table(rows: dict[str, list[dict]], proxy: str, seeds: int) -> None:
    print(
        f"\n{seeds} seed(s); test acc. (%) after 200 epochs of the arch picked by {proxy} / by 12-epoch validation\n"
        "| search | pick by proxy | pick by 12-ep valid among N | proxy evals | proxy seconds | wall seconds |\n"
        "| --- | --- | --- | --- | --- | --- |",
        flush=True,
    )
    for name, rs in rows.items():
        print(
            f"| {name} | {_mean_std([r['proxy'] for r in rs])} | {_mean_std([r['valid12'] for r in rs])} "
            f"| {_mean_std([r['evals'] for r in rs], 0)} | {_mean_std([r['proxy_seconds'] for r in rs], 0)} "
            f"| {_mean_std([r['wall'] for r in rs], 0)} |",
            flush=True,
        )


def _summary(told, by_proxy, pool, test, valid12, wall) -> dict:
    """Test accuracy of the proxy pick (best of ``by_proxy``) and of the 12-epoch-valid pick among ``pool``."""
    proxy_pick = max(by_proxy, key=lambda a_s: a_s[1])[0]
    valid_pick = max((a for a, _ in pool), key=lambda a: valid12[a])
    return {
        "evals": len(told),
        "proxy": test[proxy_pick],
        "valid12": test[valid_pick],
        "proxy_seconds": sum(seconds for _, seconds in told.values()),
        "wall": wall,
        "arch": proxy_pick,
    }


def _mean_std(values: list[float], digits: int = 2) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {std:.{digits}f}"


if __name__ == "__main__":
    main()
