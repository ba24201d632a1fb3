"""Proxy ensembles that predict accuracy (GreenFactory-style) on NATS-Bench TSS CIFAR-10.

A predictor (``zeronas.predictors``, random forest by default) is fitted on the proxy
scores of ``--train-sizes`` labelled cells and judged by Kendall τ and Spearman ρ on
*all the other cells of the sample* (held out), per feature set:

- ``meco``: MeCo alone;
- ``meco+params``: the three MeCo variants and #params;
- ``cheap``: the proxies of the ``cheap`` group (MeCo variants, params, flops, synflow, sed);
- ``proxies``: every proxy (``cheap`` plus the batch proxies nwot and swap), on the cells both groups scored;
- ``...+encoding``: the same plus the one-hot ``choices`` encoding;
- ``sed+encoding``: the data-free ensemble, on all 15,625 cells (sed needs no network).

Label: 200-epoch CIFAR-10 *test* accuracy, the column GreenFactory predicts. This is a
benchmark of predictor quality (how well a model fitted on some cells ranks the others),
not an architecture selection: nothing here picks a network by its test accuracy.

Sample: the first ``--cells`` cells of a fixed random permutation (seed 0) of the 15,625
TSS indices, so any smaller run is a prefix of a larger one. Proxies are computed
in-process with ``ArchScorer`` (Gaussian-noise inputs, ``--batch-size``, seed 0, one
network init per cell, CPU) and cached per proxy group under ``--cache`` as Parquet parts
in the ``zeronas score`` format, so reruns only score the missing cells; ``--scores FILE``
reads a ``zeronas score`` output instead. Splits are repeated over ``--repeats`` seeds and
reported as mean ± sample std (ddof=1). Each fixed feature set is reported on the held-out cells; the
``selected on validation`` row chooses, per split, the feature set whose model fitted on 80 % of the
labelled cells ranks the other 20 % best, refits it on all the labelled cells and reports it on the held-out
cells: no choice is made on held-out cells. ``input`` in ``--json`` is the input kind the proxies really saw
(the ``zeronas score`` file's protocol with ``--scores``). The table also gives each proxy alone: on the
sample, ``sed`` on all 15,625 cells (it needs no network) and ``ntk`` on the cells its group has cached.

**Labels curve** (``--held-out N`` with ``--scores``): the first ``N`` scored cells in the seed-0 permutation
order are a fixed held-out pool that no fit and no choice ever sees; for each of ``--labels`` (100, 200, 500,
1,000) and each of ``--repeats`` seeds, that many labelled cells are drawn from the other scored cells, every
(feature set, learner) pair of ``--learners`` is fitted on 80 % of them and judged on the other 20 %
(validation), the pair with the best validation τ is refitted on all of them and reported on the held-out pool.
Feature sets: ``proxies`` (the first ``--scores`` file's), ``+paths`` (TSS path encoding), ``+batch`` (the
other ``--scores`` files' proxies), ``+inits`` (``--seed-scores``: the same proxies under other seeds, as
``<proxy>@mean`` and ``<proxy>@std`` over all seeds). ``--importance`` adds scikit-learn's permutation
importance (drop in validation τ when a column is shuffled) of the pair chosen with the most labels.

    python benchmarks/ensemble.py --compute --cells 3000 --compute-budget 2400   # fill the cache
    python benchmarks/ensemble.py --cells 3000 --json /tmp/ensemble.json
    python benchmarks/ensemble.py --scores tss_scores.parquet   # a 'zeronas score' output (docs/measured/ensemble.md)
    python benchmarks/ensemble.py --scores table.parquet batch.parquet --seed-scores s1.parquet s2.parquet \\
        --held-out 1000 --labels 100,200,500,1000 --learners rf,gbt --importance   # the labels curve
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from zeronas.proxies import ArchScorer, scores_to_table, write_parquet_atomic
from zeronas.spaces import get_space

DEFAULT_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "data" / "nats_tss" / "cifar10.csv"
DEFAULT_CACHE = Path("/tmp/zeronas-ensemble")
#: proxy groups scored together (one network build per cell and group), cheapest first
GROUPS = {
    "cheap": ["meco", "meco_distinct", "meco_opt", "params", "flops", "synflow", "sed"],
    "batch": ["nwot", "swap"],
    "ntk": ["ntk"],  # one backward per sample: scored on a shorter prefix
}
CHUNK = 50


def sample_indices(cells: int) -> np.ndarray:
    return np.random.default_rng(0).permutation(get_space("tss").size)[:cells]


def group_dir(cache: Path, group: str, batch_size: int) -> Path:
    return cache / f"tss-cifar10-noise-b{batch_size}-seed0" / group


def cached_table(directory: Path) -> pa.Table | None:
    parts = sorted(directory.glob("part-*.parquet")) if directory.is_dir() else []
    return ds.dataset(parts, format="parquet").to_table() if parts else None


def compute_group(cache: Path, group: str, cells: int, batch_size: int, budget_s: float) -> int:
    """Score the missing cells of the sample prefix for one proxy group; returns cells cached."""
    directory = group_dir(cache, group, batch_size)
    have = cached_table(directory)
    done = set(have.column("index").to_pylist()) if have is not None else set()
    todo = [int(i) for i in sample_indices(cells) if int(i) not in done]
    space = get_space("tss")
    scorer = ArchScorer(space="tss", proxies=GROUPS[group], seed=0, batch_size=batch_size)
    start = time.perf_counter()
    part = len(list(directory.glob("part-*.parquet"))) if directory.is_dir() else 0
    for lo in range(0, len(todo), CHUNK):
        if time.perf_counter() - start > budget_s:
            break
        chunk = todo[lo : lo + CHUNK]
        scores = [scorer.score(space.arch_at(i)) for i in chunk]
        write_parquet_atomic(scores_to_table(scores, GROUPS[group], chunk), directory / f"part-{part:05d}.parquet")
        part += 1
        done.update(chunk)
        print(f"{group}: {len(done)} cells cached ({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return len(done)


FEATURE_SETS = {
    "meco": ["meco"],
    "meco+params": ["meco", "meco_distinct", "meco_opt", "params"],
}
ENSEMBLE_GROUPS = ("cheap", "batch")
#: the row of the feature set chosen per split on a validation split of the labelled cells
SELECTED = "selected on validation"


def load_sample(args: argparse.Namespace, groups: tuple[str, ...]) -> tuple[list, list, np.ndarray, list, str, object]:
    """Archs, feature rows, accuracies, proxy names, a description and the proxy protocol (its real input kind)
    of the cells every one of ``groups`` was scored on."""
    from zeronas.predictors import ProxyProtocol, load_scores, load_truth

    truth, source = load_truth(args.truth, "tss", "cifar10")
    if args.scores:
        scores = load_scores(args.scores)
        archs, rows, names = scores.archs, scores.rows, scores.names
        protocol = scores.protocol
        where = f"{args.scores} ({protocol.input_kind} inputs, batch {protocol.batch_size}, seed {protocol.seed})"
    else:
        protocol = ProxyProtocol("tss", "cifar10", "noise", args.batch_size, seed=0)
        by_index: dict[int, dict] | None = None
        for group in groups:
            table = cached_table(group_dir(args.cache, group, args.batch_size))
            if table is None:
                return [], [], np.zeros(0), [], f"nothing cached for {group}", protocol
            names_t = [
                c for c in table.column_names if c not in ("arch", "index") and not c.endswith(("_seconds", "_error"))
            ]
            fresh = {rec.pop("index"): rec for rec in table.select(["index"] + names_t).to_pylist()}
            by_index = fresh if by_index is None else {i: {**r, **fresh[i]} for i, r in by_index.items() if i in fresh}
        order = [int(i) for i in sample_indices(get_space("tss").size) if int(i) in by_index]
        space = get_space("tss")
        archs = [space.arch_at(i) for i in order][: args.cells]
        rows = [by_index[i] for i in order][: args.cells]
        names = list(rows[0]) if rows else []
        where = f"the first {len(rows)} cells of the seed-0 permutation (noise inputs, batch {args.batch_size}, seed 0)"
    keep = [i for i, a in enumerate(archs) if a in truth]
    return (
        [archs[i] for i in keep],
        [rows[i] for i in keep],
        np.array([truth[archs[i]] for i in keep]),
        names,
        f"{where}; label {source}",
        protocol,
    )


def fit(args, protocol, features, archs, rows, acc, train, seed, learner=None):
    from zeronas.predictors import AccuracyPredictor

    model = AccuracyPredictor(features, protocol, learner=learner or args.learner, seed=seed)
    return model.fit([rows[i] for i in train], acc[train], [archs[i] for i in train])


def fit_predict(args, protocol, features, archs, rows, acc, train, test, seed, learner=None) -> np.ndarray:
    model = fit(args, protocol, features, archs, rows, acc, train, seed, learner)
    return model.predict([rows[i] for i in test], [archs[i] for i in test])


def split_scores(args, sets, archs, rows, acc, size, protocol) -> dict[str, dict]:
    """Per feature set: τ and ρ on the held-out cells, and τ on a validation split of the labelled cells, for
    each of ``--repeats`` random splits; plus ``SELECTED``: per split, the set with the best validation τ
    (its model fitted on 80 % of the ``size`` labelled cells, judged on the other 20 %), refitted on all
    ``size`` labelled cells and judged on the held-out cells. Held-out cells never choose anything."""
    from zeronas.analysis._quality import kendall, spearman

    per: dict[str, dict[str, list]] = {label: {"tau": [], "rho": [], "val": []} for label in [*sets, SELECTED]}
    per[SELECTED]["chosen"] = []
    for seed in range(args.repeats):
        perm = np.random.default_rng(seed).permutation(len(archs))
        train, test = perm[:size], perm[size:]
        n_fit = int(0.8 * size)
        for label, features in sets.items():
            val = fit_predict(args, protocol, features, archs, rows, acc, train[:n_fit], train[n_fit:], seed)
            predicted = fit_predict(args, protocol, features, archs, rows, acc, train, test, seed)
            per[label]["val"].append(kendall(val, acc[train[n_fit:]]))
            per[label]["tau"].append(kendall(predicted, acc[test]))
            per[label]["rho"].append(spearman(predicted, acc[test]))
        chosen = max(sets, key=lambda label: per[label]["val"][-1])
        per[SELECTED]["chosen"].append(chosen)
        for key in ("tau", "rho", "val"):
            per[SELECTED][key].append(per[chosen][key][-1])
    return {label: summary(args, values, len(archs) - size) for label, values in per.items()}


def summary(args, values: dict[str, list], n_test: int) -> dict:
    """Mean and sample std (ddof=1, as the other benchmark scripts) over the repeats."""

    def std(xs: list) -> float:
        return float(np.std(xs, ddof=1)) if len(xs) > 1 else float("nan")

    out = {
        "kendall_tau": float(np.mean(values["tau"])),
        "kendall_tau_std": std(values["tau"]),
        "spearman": float(np.mean(values["rho"])),
        "spearman_std": std(values["rho"]),
        "validation_tau": float(np.mean(values["val"])),
        "n_test": n_test,
        "repeats": args.repeats,
        "learner": args.learner,
    }
    if "chosen" in values:
        out["chosen"] = values["chosen"]
    return out


def train_sizes(n: int) -> list[int]:
    """100, 1,000 and 80 % of the cells, where at least 50 cells stay held out."""
    return sorted({s for s in (100, 1000, int(0.8 * n)) if s <= n - 50})


def evaluate(args, archs, rows, acc, names, every_label: str, protocol) -> list[dict]:
    from zeronas.predictors import ENCODING

    sets = {k: v for k, v in FEATURE_SETS.items() if set(v) <= set(names)}
    sets[every_label] = list(names)
    sets[f"{every_label}+encoding"] = list(names) + [ENCODING]
    records = []
    for size in train_sizes(len(archs)):
        for label, result in split_scores(args, sets, archs, rows, acc, size, protocol).items():
            records.append(
                {
                    "dataset": "cifar10",
                    "train_size": size,
                    "features": label if label != SELECTED else f"{SELECTED} ({every_label})",
                    "sample": len(archs),
                    "input": protocol.input_kind,
                    **result,
                }
            )
            r = records[-1]
            print(
                f"  {size:>5} {r['features']:<24} tau {r['kendall_tau']:.3f} ± {r['kendall_tau_std']:.3f}",
                file=sys.stderr,
                flush=True,
            )
    return records


def every_cell_sed(args) -> tuple[list[str], list[dict], np.ndarray]:
    """``sed`` (no network, milliseconds) for all 15,625 cells, with their accuracies."""
    from zeronas.predictors import load_truth

    truth, _ = load_truth(args.truth, "tss", "cifar10")
    scorer = ArchScorer(space="tss", proxies=["sed"])
    archs = list(get_space("tss").enumerate())
    return archs, [scorer.score(a).values for a in archs], np.array([truth[a] for a in archs])


def evaluate_data_free(args, archs, rows, acc) -> list[dict]:
    """The data-free ensemble (sed + encoding) on the whole space: every size has thousands of held-out cells."""
    from zeronas.predictors import ENCODING, ProxyProtocol

    protocol = ProxyProtocol("tss", "cifar10", "noise", args.batch_size)  # sed reads no input
    records = []
    for size in train_sizes(len(archs)):
        result = split_scores(args, {"sed+encoding": ["sed", ENCODING]}, archs, rows, acc, size, protocol)
        records.append(
            {
                "dataset": "cifar10",
                "train_size": size,
                "features": "sed+encoding",
                "sample": len(archs),
                "input": "none (data-free)",
                **result["sed+encoding"],
            }
        )
    return records


def single_proxies(args, samples, every) -> list[tuple[str, int, float, float]]:
    """τ and ρ of each proxy alone on the first (largest) sample that has it, sed on every cell, ntk on its cells."""
    from zeronas.analysis._quality import kendall, spearman
    from zeronas.predictors import load_truth

    out, done = [], set()
    for _, rows, acc, names in samples:
        for name in names:
            if name in done:
                continue
            done.add(name)
            x = np.array([np.nan if r.get(name) is None else r[name] for r in rows])
            ok = np.isfinite(x)
            out.append((name, int(ok.sum()), kendall(x[ok], acc[ok]), spearman(x[ok], acc[ok])))
    all_archs, all_rows, all_acc = every
    sed = np.array([r["sed"] for r in all_rows])
    out.append(("sed (all cells)", len(sed), kendall(sed, all_acc), spearman(sed, all_acc)))
    ntk = cached_table(group_dir(args.cache, "ntk", args.batch_size)) if not args.scores else None
    if ntk is not None:
        truth, _ = load_truth(args.truth, "tss", "cifar10")
        space = get_space("tss")
        vals = np.array([np.nan if v is None else v for v in ntk["ntk"].to_pylist()])
        y = np.array([truth[space.arch_at(i)] for i in ntk["index"].to_pylist()])
        ok = np.isfinite(vals)
        out.append(
            (f"ntk ({len(vals) - ok.sum()} null)", int(ok.sum()), kendall(vals[ok], y[ok]), spearman(vals[ok], y[ok]))
        )
    return out


def curve_sample(args) -> tuple[list, list, np.ndarray, dict[str, list[str]], str, object]:
    """The cells every ``--scores`` file scored, in seed-0 permutation order, with the feature sets of the
    curve; ``--seed-scores`` add ``<proxy>@mean`` and ``<proxy>@std`` over all the seeds."""
    from zeronas.predictors import PATHS, SEED_STD, load_scores, load_truth

    single = load_scores(args.scores)
    first = load_scores(args.scores[0]).names
    by_arch = dict(zip(single.archs, single.rows))
    sets = {"proxies": first, "proxies+paths": [*first, PATHS]}
    batch = [n for n in single.names if n not in first]
    if batch:
        sets["proxies+paths+batch"] = [*first, PATHS, *batch]
    if args.seed_scores:
        joined = load_scores([*args.scores, *args.seed_scores])
        spread = [n.removesuffix(SEED_STD) for n in joined.names if n.endswith(SEED_STD)]
        for arch, row in zip(joined.archs, joined.rows):
            extra = {f"{n}@mean": row[n] for n in spread} | {n + SEED_STD: row[n + SEED_STD] for n in spread}
            by_arch[arch] = {**by_arch[arch], **extra} if arch in by_arch else None
        by_arch = {a: r for a, r in by_arch.items() if r is not None and f"{spread[0]}@mean" in r}
        sets["all+inits"] = [*list(sets.values())[-1], *[f"{n}@mean" for n in spread], *[n + SEED_STD for n in spread]]
    truth, source = load_truth(args.truth, "tss", "cifar10")
    rank = {int(i): k for k, i in enumerate(sample_indices(get_space("tss").size))}
    space = get_space("tss")
    archs = sorted((a for a in by_arch if a in truth), key=lambda a: rank[space.index_of(a)])
    p = single.protocol
    where = (
        f"{len(archs)} cells scored by every file ({p.input_kind} inputs, batch {p.batch_size}, seed {p.seed}"
        f"{', other seeds: ' + str(len(args.seed_scores)) + ' files' if args.seed_scores else ''}); label {source}"
    )
    return archs, [by_arch[a] for a in archs], np.array([truth[a] for a in archs]), sets, where, p


def label_curve(args) -> list[dict]:
    """Held-out τ per number of labels, with the (feature set, learner) pair chosen on validation only."""
    from zeronas.analysis._quality import kendall, spearman

    archs, rows, acc, sets, where, protocol = curve_sample(args)
    held, pool = np.arange(args.held_out), np.arange(args.held_out, len(archs))
    learners = args.learners.split(",")
    pairs = [(s, learner) for s in sets for learner in learners]
    print(f"labels curve: {where}; held out: the first {len(held)}; label pool: {len(pool)}", flush=True)
    records, chosen_last = [], None
    for size in [int(x) for x in args.labels.split(",")]:
        if size > len(pool):
            print(f"{size} labels: skipped (label pool {len(pool)})")
            continue
        per = {pair: {"tau": [], "rho": [], "val": []} for pair in pairs}
        picks = []
        for seed in range(args.repeats):
            labelled = np.random.default_rng(seed).permutation(pool)[:size]
            n_fit = int(0.8 * size)
            for name, learner in pairs:
                features = sets[name]
                val = fit_predict(
                    args, protocol, features, archs, rows, acc, labelled[:n_fit], labelled[n_fit:], seed, learner
                )
                predicted = fit_predict(args, protocol, features, archs, rows, acc, labelled, held, seed, learner)
                per[(name, learner)]["val"].append(kendall(val, acc[labelled[n_fit:]]))
                per[(name, learner)]["tau"].append(kendall(predicted, acc[held]))
                per[(name, learner)]["rho"].append(spearman(predicted, acc[held]))
            picks.append(max(pairs, key=lambda pair: per[pair]["val"][-1]))
        selected = {key: [per[pick][key][k] for k, pick in enumerate(picks)] for key in ("tau", "rho", "val")}
        for pair, values in [*per.items(), ((SELECTED, "per split"), selected)]:
            records.append(
                {
                    "dataset": "cifar10",
                    "train_size": size,
                    "features": pair[0],
                    "sample": len(archs),
                    "input": protocol.input_kind,
                    **summary(args, values, len(held)),
                    "learner": pair[1],
                    **({"chosen": [f"{n}/{lr}" for n, lr in picks]} if pair[0] == SELECTED else {}),
                }
            )
            r = records[-1]
            print(
                f"  {size:>5} {r['features']:<24} {r['learner']:<9} held-out tau {r['kendall_tau']:.3f} ± "
                f"{r['kendall_tau_std']:.3f} (validation {r['validation_tau']:.3f})",
                flush=True,
            )
        chosen_last = (size, picks[0])
    if args.importance and chosen_last:
        importance(args, archs, rows, acc, sets, protocol, pool, *chosen_last)
    return records


def importance(args, archs, rows, acc, sets, protocol, pool, size, pair) -> None:
    """Permutation importance of the seed-0 chosen pair on its validation split: drop in τ per shuffled column."""
    from sklearn.inspection import permutation_importance

    from zeronas.analysis._quality import kendall

    name, learner = pair
    labelled = np.random.default_rng(0).permutation(pool)[:size]
    n_fit = int(0.8 * size)
    model = fit(args, protocol, sets[name], archs, rows, acc, labelled[:n_fit], 0, learner)
    val = labelled[n_fit:]
    x = model.matrix([rows[i] for i in val], [archs[i] for i in val])
    columns = [f for f in model.features if f != "paths"] + (
        get_space("tss").path_names() if "paths" in model.features else []
    )
    result = permutation_importance(
        model.estimator,
        x,
        acc[val],
        scoring=lambda est, xs, y: kendall(est.predict(xs), y),
        n_repeats=10,
        random_state=0,
    )
    order = np.argsort(-result.importances_mean)
    print(
        f"\npermutation importance ({name}/{learner}, {size} labels, seed 0: fitted on {n_fit}, shuffled on the "
        f"{len(val)} validation cells; drop in Kendall tau, mean ± std over 10 shuffles)"
    )
    for j in order[: args.importance]:
        print(f"  {columns[j]:<40} {result.importances_mean[j]:.4f} ± {result.importances_std[j]:.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=3000, help="sample size: prefix of the seed-0 permutation")
    parser.add_argument("--compute", action="store_true", help="score the missing cells first (slow: minutes)")
    parser.add_argument("--groups", default="cheap,batch,ntk", help="proxy groups --compute scores")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--compute-budget", type=float, default=3600.0, help="seconds of scoring per group")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--scores", type=Path, nargs="+", help="'zeronas score' outputs to use instead of the cache (joined per arch)"
    )
    parser.add_argument("--seed-scores", type=Path, nargs="*", default=[], help="the same proxies under other seeds")
    parser.add_argument("--held-out", type=int, help="labels curve: the fixed held-out pool (first N scored cells)")
    parser.add_argument("--labels", default="100,200,500,1000", help="labels curve: numbers of labelled cells")
    parser.add_argument("--learners", default="rf,gbt", help="labels curve: learners the validation chooses among")
    parser.add_argument("--importance", type=int, default=0, metavar="K", help="labels curve: top-K importance")
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH, help="TSS cifar10.csv ground truth")
    parser.add_argument("--repeats", type=int, default=5, help="random splits per (train size, feature set)")
    parser.add_argument("--learner", default="rf", help="rf (default) or gbt")
    parser.add_argument("--json", type=Path, help="write one record per (dataset, train size, feature set)")
    parser.add_argument(
        "--parts",
        default="sample,data-free",
        help="ensembles to fit: 'sample' (cached proxies), 'data-free' (sed+encoding on all cells)",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.compute:
        for group in args.groups.split(","):
            compute_group(args.cache, group, args.cells, args.batch_size, args.compute_budget)
    if args.held_out:
        records = label_curve(args)
        if args.json:
            args.json.write_text(json.dumps(records, indent=2) + "\n")
        return 0
    print(f"{args.learner}, {args.repeats} random splits per row (mean ± std), tau/rho on the held-out cells")
    records, samples = [], []
    plan = [(("cheap",), "proxies")] if args.scores else [(("cheap",), "cheap"), (ENSEMBLE_GROUPS, "proxies")]
    for groups, label in plan if "sample" in args.parts else []:
        archs, rows, acc, names, where, protocol = load_sample(args, groups)
        print(f"{label}: {', '.join(names)} on {len(archs)} cells, {where}", flush=True)
        records += evaluate(args, archs, rows, acc, names, label, protocol)
        samples.append((archs, rows, acc, names))
    every = every_cell_sed(args)
    if "data-free" in args.parts:
        records += evaluate_data_free(args, *every)
    print(f"\n{'train':>6} {'features':<20} {'sample':>6} {'kendall tau':>14} {'spearman rho':>14} {'n_test':>7}")
    for r in records:
        print(
            f"{r['train_size']:>6} {r['features']:<20} {r['sample']:>6} {r['kendall_tau']:>7.3f} ± "
            f"{r['kendall_tau_std']:.3f} {r['spearman']:>7.3f} ± {r['spearman_std']:.3f} {r['n_test']:>7}"
        )
    for r in records:
        if r["features"].startswith(SELECTED):
            counts = {c: r["chosen"].count(c) for c in dict.fromkeys(r["chosen"])}
            print(
                f"\n{r['features']}, {r['train_size']} labels: held-out tau {r['kendall_tau']:.3f} ± "
                f"{r['kendall_tau_std']:.3f} (chosen per split on a validation split of the labelled cells: "
                f"{', '.join(f'{c} x{k}' for c, k in counts.items())}; GreenFactory reports 0.921)"
            )
    print(f"\n{'proxy alone':<34} {'n':>6} {'kendall':>8} {'spearman':>9}")
    for name, n, tau, rho in single_proxies(args, samples, every):
        print(f"{name:<34} {n:>6} {tau:>8.3f} {rho:>9.3f}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2) + "\n")
        print(f"wrote {len(records)} records to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
