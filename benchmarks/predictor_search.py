"""Search quality of ``--objective predictor`` against MeCo alone, on NATS-Bench TSS CIFAR-10.

Protocol. Each search is REA with ``--budget`` distinct proxy evaluations (the same count for both
objectives), run through the real pipeline (Ray Tune trial, scorer pool; proxies on CPU with Gaussian-noise
inputs, batch ``--batch-size``, proxy seed 0). Every benchmark lookup during the search is a 12-epoch
*validation* accuracy (``cifar10_valid_acc_12ep``):

- predictor: ``--label-budget`` labels plus the final top-``--top-k`` (ranked by the predictor) validated;
- MeCo alone: the top-(``--label-budget`` + ``--top-k``) by MeCo validated, i.e. the same number of lookups.

The returned architecture is the validated one with the best validation accuracy; its 200-epoch *test*
accuracy is looked up once, after the search, for the figure only. Reported: mean ± std over the seeds.

Runs append one JSON line per (objective, seed) to ``--results``, so the seeds can be run a few at a
time (each call starts Ray: run it under the machine's Ray lock) and summarised with ``--summary``:

    flock /tmp/zeronas-ray.lock python benchmarks/predictor_search.py --seeds 0,1,2 --results /tmp/ps.jsonl
    python benchmarks/predictor_search.py --summary --results /tmp/ps.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

DEFAULT_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nats_tss" / "cifar10.csv"
FEATURES = ["meco_opt", "synflow", "params", "flops"]
OBJECTIVES = ("predictor", "meco")


def run_searches(args: argparse.Namespace, objective: str) -> list[dict]:
    from zeronas.groundtruth import open_ground_truth
    from zeronas.pipeline import ExperimentSpec, run_experiment

    predictor = objective == "predictor"
    spec = ExperimentSpec(
        objective="predictor" if predictor else "proxy",
        proxy="meco",
        extra_proxies=FEATURES if predictor else [],
        algos=["rea"],
        seeds=args.seeds,
        budget=args.budget,
        top_k=args.top_k if predictor else args.top_k + args.label_budget,
        label_budget=args.label_budget,
        label_every=args.label_every,
        benchmark=str(args.benchmark),
        metric="valid",
        epochs=12,
        batch_size=args.batch_size,
        workers=args.workers,
        out=tempfile.mkdtemp(prefix="zeronas-predsearch-"),
        quiet=True,
    )
    result = run_experiment(spec)
    truth = open_ground_truth(args.benchmark, "tss")
    records = []
    for sid, rows in result.top.items():
        best = max((r for r in rows if r["accuracy"] is not None), key=lambda r: r["accuracy"])
        records.append({
            "objective": objective,
            "seed": int(sid.rsplit("-s", 1)[1]),
            "budget": args.budget,
            "lookups": args.label_budget + args.top_k,
            "arch": best["arch"],
            "valid_acc_12ep": best["accuracy"],
            # the one test lookup: the returned arch, after selection
            "test_acc_200ep": truth.lookup(best["arch"], "cifar10", metric="test", epochs=200),
            "run_dir": str(result.run_dir),
            "seconds": round(result.seconds, 1),
        })
    return records


def summary(path: Path) -> None:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(f"{'objective':<10} {'seeds':>5} {'budget':>6} {'lookups':>7} {'test acc % (mean ± std)':>24} "
          f"{'valid acc % 12ep':>17}")
    for objective in OBJECTIVES:
        mine = {r["seed"]: r for r in records if r["objective"] == objective}  # the newest per seed
        if not mine:
            continue
        test = [r["test_acc_200ep"] for r in mine.values()]
        valid = [r["valid_acc_12ep"] for r in mine.values()]
        first = next(iter(mine.values()))
        std = statistics.stdev(test) if len(test) > 1 else float("nan")
        print(f"{objective:<10} {len(mine):>5} {first['budget']:>6} {first['lookups']:>7} "
              f"{statistics.mean(test):>15.2f} ± {std:<6.2f} {statistics.mean(valid):>17.2f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1", help="comma list of search seeds")
    p.add_argument("--budget", type=int, default=100, help="distinct proxy evaluations per search")
    p.add_argument("--label-budget", type=int, default=20)
    p.add_argument("--label-every", type=int, default=5)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--objectives", default=",".join(OBJECTIVES))
    p.add_argument("--benchmark", type=Path, default=DEFAULT_TRUTH)
    p.add_argument("--results", type=Path, required=True, help="JSON lines, appended")
    p.add_argument("--summary", action="store_true", help="only print the table of --results")
    args = p.parse_args(argv)
    if not args.summary:
        args.seeds = [int(s) for s in args.seeds.split(",")]
        for objective in args.objectives.split(","):
            for record in run_searches(args, objective):
                with args.results.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                print(json.dumps(record), flush=True)
    summary(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
