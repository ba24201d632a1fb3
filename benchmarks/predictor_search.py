"""Search quality of ``--objective predictor`` against MeCo alone, on NATS-Bench TSS CIFAR-10.

Protocol. Each search is REA (zeronas defaults: population 64, sample 16, no repeats) with ``--budget``
distinct proxy evaluations, the same count for both objectives. Proxies: ``ArchScorer`` in-process on CPU,
Gaussian-noise inputs, batch ``--batch-size``, proxy seed 0 (one network init per cell); the values are cached
per arch in ``--cache``, so seeds that meet the same cell reuse it. The loop is the pipeline's ask/tell loop run
sequentially in one process (tells in ask order, so every seed is reproducible) with the pipeline's own
objectives (``PredictorObjective``, ``Objective``) and top-k rule; no Ray, so it needs no Ray lock.
Every benchmark lookup a search makes is a 12-epoch *validation* accuracy (``cifar10_valid_acc_12ep``):

- predictor (features: meco, meco_opt, synflow, params, flops): ``--label-budget`` labels, then its top-``--top-k``
  by predicted accuracy validated;
- MeCo alone: its top-(``--label-budget`` + ``--top-k``) by MeCo validated: the same number of lookups.

The returned architecture is the one with the best validation accuracy among all the search looked up (for
the predictor its labels and its top-k, for MeCo its top-k): same lookups, selection by validation only. Its
200-epoch *test* accuracy is looked up once, after the search, for this figure only. Reported: mean ± std over
the seeds.
One JSON line per (objective, seed) is appended to ``--results``, so seeds can be run a few at a time:

    python benchmarks/predictor_search.py --seeds 0-9 --results /tmp/predsearch.jsonl
    python benchmarks/predictor_search.py --summary --results /tmp/predsearch.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

DEFAULT_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nats_tss" / "cifar10.csv"
FEATURES = ["meco", "meco_opt", "synflow", "params", "flops"]
OBJECTIVES = ("predictor", "meco")


class CachedScorer:
    """``ArchScorer`` values per arch, kept in a JSON-lines file between runs."""

    def __init__(self, path: Path, batch_size: int) -> None:
        import torch

        from zeronas.proxies import ArchScorer

        torch.set_num_threads(1)
        self.scorer = ArchScorer(
            space="tss", proxies=FEATURES, dataset="cifar10", data=None, seed=0, batch_size=batch_size, device="cpu"
        )
        self.path = path
        self.values: dict[str, dict] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                record = json.loads(line)
                self.values[record["arch"]] = record["values"]

    def __call__(self, arch: str) -> dict:
        if arch not in self.values:
            self.values[arch] = dict(self.scorer.score(arch).values)
            with self.path.open("a") as f:
                f.write(json.dumps({"arch": arch, "values": self.values[arch]}) + "\n")
        return self.values[arch]


def run_search(objective_name: str, seed: int, args: argparse.Namespace, score, truth) -> dict:
    from zeronas.pipeline._objective import Objective
    from zeronas.pipeline._predictor_objective import LABEL_EPOCHS, LABEL_METRIC, PredictorObjective
    from zeronas.pipeline._results import EvaluatedArch, top_k
    from zeronas.predictors import ProxyProtocol
    from zeronas.search_algos import get_algorithm
    from zeronas.spaces import get_space

    lookups: dict[str, float | None] = {}

    def validation(arch: str) -> float | None:
        lookups[arch] = truth.lookup(arch, "cifar10", metric=LABEL_METRIC, epochs=LABEL_EPOCHS)
        return lookups[arch]

    space = get_space("tss")
    algo = get_algorithm("rea", space=space, seed=seed, avoid_repeats=True, dedup_isomorphic=False)
    if objective_name == "predictor":
        protocol = ProxyProtocol.of_scorer("tss", "cifar10", None, args.batch_size, 0)
        objective = PredictorObjective(FEATURES, validation, protocol, args.label_budget, args.label_every, seed)
        k = args.top_k
    else:
        objective = Objective({"meco": 1.0})
        k = args.top_k + args.label_budget
    evaluated: dict[str, EvaluatedArch] = {}
    t0 = time.monotonic()
    while len(evaluated) < args.budget:
        for arch in algo.ask(1):
            if arch in evaluated:
                algo.tell(arch, evaluated[arch].score)
                continue
            values = {p: score(arch).get(p) for p in FEATURES}
            if objective_name == "predictor":
                s = objective.observe(values, arch)
                objective.label_due()
            else:
                s = objective.observe({"meco": values["meco"]})
            evaluated[arch] = EvaluatedArch(arch, space.canonical(arch), values, s, len(evaluated) + 1)
            algo.tell(arch, s)
    for e, _ in top_k(list(evaluated.values()), objective, k):
        validation(e.arch)
    arch, valid = max(((a, v) for a, v in lookups.items() if v is not None), key=lambda av: av[1])
    return {
        "objective": objective_name,
        "seed": seed,
        "budget": args.budget,
        "lookups": len(lookups),  # distinct archs: the predictor's top-k may repeat labelled ones
        "arch": arch,
        "valid_acc_12ep": valid,
        # the one test lookup: the returned arch, after selection on validation accuracy
        "test_acc_200ep": truth.lookup(arch, "cifar10", metric="test", epochs=200),
        "seconds": round(time.monotonic() - t0, 1),  # proxies cached from earlier searches cost nothing here
    }


def summary(path: Path) -> None:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(f"{'objective':<10} {'seeds':>5} {'budget':>6} {'lookups':>7}   test acc % (200 ep)   valid acc % (12 ep)")
    for objective in OBJECTIVES:
        mine = {r["seed"]: r for r in records if r["objective"] == objective}  # the newest per seed
        if not mine:
            continue
        test = [r["test_acc_200ep"] for r in mine.values()]
        valid = [r["valid_acc_12ep"] for r in mine.values()]
        first = next(iter(mine.values()))
        print(
            f"{objective:<10} {len(mine):>5} {first['budget']:>6} {max(r['lookups'] for r in mine.values()):>7}   "
            f"{statistics.mean(test):6.2f} ± {sd(test):<5.2f}        {statistics.mean(valid):6.2f} ± {sd(valid):.2f}"
        )


def sd(xs: list[float]) -> float:
    return statistics.stdev(xs) if len(xs) > 1 else float("nan")


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0-9", help="search seeds: 0-9 or 0,3,5")
    p.add_argument("--budget", type=int, default=200, help="distinct proxy evaluations per search")
    p.add_argument("--label-budget", type=int, default=30)
    p.add_argument("--label-every", type=int, default=10)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--objectives", default=",".join(OBJECTIVES))
    p.add_argument("--benchmark", type=Path, default=DEFAULT_TRUTH)
    p.add_argument("--cache", type=Path, default=Path("/tmp/zeronas-predictor-search-scores.jsonl"))
    p.add_argument("--results", type=Path, required=True, help="JSON lines, appended")
    p.add_argument("--summary", action="store_true", help="only print the table of --results")
    args = p.parse_args(argv)
    if not args.summary:
        from zeronas.groundtruth import open_ground_truth

        truth = open_ground_truth(args.benchmark, "tss")
        score = CachedScorer(Path(f"{args.cache}.b{args.batch_size}"), args.batch_size)
        for seed in parse_seeds(args.seeds):
            for objective in args.objectives.split(","):
                record = run_search(objective, seed, args, score, truth)
                with args.results.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(json.dumps(record), flush=True)
    summary(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
