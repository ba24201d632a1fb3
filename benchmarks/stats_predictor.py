"""Accuracy predictors on the signals of a ``zeronas proxy evolve`` statistics cache (TSS).

Feature sets (fixed, none chosen on held-out cells): the cache's baselines (``meco``, ``meco_opt``);
the same plus the path encoding; the same plus per-layer statistics summarised per arch (sum and mean over
layers of each of the 12 statistics); the evolved formula's value (``--evolved FILE``: only on the cells
its evolution held out, so the formula never saw them) with the baselines; and everything together. For
each number of labels, ``--repeats`` random splits of the cells: the model (random forest, or
``--learner gbt``) is fitted on the labelled cells and judged by Kendall τ / Spearman ρ on all the others.
Mean ± sample std (ddof=1) over the splits. The protocol of the statistics (input kind, batch, seed) is the
cache's own, printed with the table.

    python benchmarks/stats_predictor.py --cache evolved.stats.npz --evolved evolved.json \\
        --benchmark ../shared/data/nats_tss/cifar10.csv --labels 100,200
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from scipy.stats import kendalltau, spearmanr

    from zeronas.evolve import StatsCache
    from zeronas.predictors import PATHS, AccuracyPredictor, ProxyProtocol, load_truth
    from zeronas.proxies._formula import evaluate_formula

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--evolved", type=Path, help="an evolved proxy whose held-out cells to use")
    parser.add_argument("--labels", default="100,200,500,1000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--learner", default="rf")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    cache = StatsCache.load(args.cache)
    p = cache.protocol
    truth, source = load_truth(args.benchmark, p.space, p.dataset)
    cells = [i for i, a in enumerate(cache.archs) if a in truth]
    formula = None
    if args.evolved:
        from zeronas.evolve import sample_archs
        from zeronas.evolve._search import split_cells

        record = json.loads(args.evolved.read_text())
        formula = record["formula"]
        ev = record["evolution"]
        sample = sample_archs(list(truth), ev["sample"], ev["seed"])
        _, held = split_cells(len(sample), ev["held_out_cells"] / ev["sample"], ev["seed"])
        held_archs = {sample[i] for i in held}
        cells = [i for i in cells if cache.archs[i] in held_archs]
    archs = [cache.archs[i] for i in cells]
    acc = np.array([truth[a] for a in archs])
    values, mask = cache.padded(cells)
    rows = []
    for k, i in enumerate(cells):
        row = {b: cache.baselines[b][i] for b in p.baselines}
        for s, name in enumerate(p.stats):
            row[f"sum_{name}"] = float(values[k, s, mask[k]].sum())
            row[f"mean_{name}"] = float(values[k, s, mask[k]].mean())
        rows.append(row)
    if formula is not None:
        for row, v in zip(rows, evaluate_formula(formula, values, mask)):
            row["evolved"] = float(v)
    baselines = list(p.baselines)
    stats = [f"{r}_{n}" for n in p.stats for r in ("sum", "mean")]
    sets = {"baselines": baselines, "baselines+paths": [*baselines, PATHS], "baselines+stats": baselines + stats}
    if formula is not None:
        sets["evolved+baselines"] = ["evolved", *baselines]
    sets["all+paths"] = sorted(set().union(*sets.values()) - {PATHS}) + [PATHS]
    protocol = ProxyProtocol(p.space, p.dataset, p.input_kind, p.batch_size, seed=p.seed)
    print(
        f"{len(archs)} cells ({'held out of ' + str(args.evolved) if formula else 'the cache'}); label {source}; "
        f"{p.input_kind} inputs ({p.data}), batch {p.batch_size} requested, seed {p.seed}; {args.learner}, "
        f"{args.repeats} splits, mean ± sample std"
    )
    records = []
    for n in [int(x) for x in args.labels.split(",")]:
        if n > len(archs) - 20:
            print(f"{n} labels: skipped (only {len(archs)} cells; at least 20 must stay held out)")
            continue
        for label, features in sets.items():
            taus, rhos = [], []
            for seed in range(args.repeats):
                perm = np.random.default_rng(seed).permutation(len(archs))
                train, test = perm[:n], perm[n:]
                model = AccuracyPredictor(features, protocol, learner=args.learner, seed=seed)
                model.fit([rows[i] for i in train], acc[train], [archs[i] for i in train])
                predicted = model.predict([rows[i] for i in test], [archs[i] for i in test])
                taus.append(kendalltau(predicted, acc[test]).statistic)
                rhos.append(spearmanr(predicted, acc[test]).statistic)
            rec = {
                "train_size": n,
                "features": label,
                "kendall_tau": float(np.mean(taus)),
                "kendall_tau_std": float(np.std(taus, ddof=1)) if len(taus) > 1 else float("nan"),
                "spearman": float(np.mean(rhos)),
                "n_test": len(archs) - n,
            }
            records.append(rec)
            print(
                f"{n:>5} {label:<20} tau {rec['kendall_tau']:.3f} ± {rec['kendall_tau_std']:.3f}  "
                f"rho {rec['spearman']:.3f}  (n_test {rec['n_test']})",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(records, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
