"""``zeronas proxy evolve``: GreenMachine, evolve a zero-cost proxy by genetic programming (DEAP)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from zeronas.cli._docs import docs_epilog
from zeronas.errors import ZeronasError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "proxy",
        help="evolve new proxies (GreenMachine)",
        description="Work on proxies themselves. 'evolve' runs genetic programming over per-layer statistics of "
        "untrained networks (weights, activations, gradients, feature-correlation eigenvalues), measured once per "
        "cell of a labelled sample; fitness is Kendall τ on random and stratified subsets of the evolution cells, "
        "and held-out cells report the result. Score with the output as --proxy evolved:FILE.",
        epilog=docs_epilog("evolve.md"),
    )
    sub = parser.add_subparsers(dest="proxy_command", metavar="ACTION", required=True)
    ev = sub.add_parser("evolve", help="evolve a proxy formula on a labelled sample", epilog=docs_epilog("evolve.md"))
    ev.add_argument("--space", default="tss", help="search space (default tss)")
    ev.add_argument("--dataset", default="cifar10", help="data set of the networks and labels (default cifar10)")
    ev.add_argument("--benchmark", required=True, metavar="TABLE", help="ground truth table or NATS-Bench dir")
    ev.add_argument("--metric", choices=("test", "valid"), default="test", help="ground-truth split (default test)")
    ev.add_argument("--epochs", type=int, help="ground-truth epochs (default: the full schedule)")
    ev.add_argument("--sample", type=int, required=True, metavar="N", help="labelled cells to measure")
    ev.add_argument("--generations", type=int, default=30, metavar="G", help="generations (default 30)")
    ev.add_argument("--population", type=int, default=200, metavar="P", help="formulas per generation (default 200)")
    ev.add_argument("--seed", type=int, default=0, help="seed of the sample, split, networks and evolution (default 0)")
    ev.add_argument("--holdout", type=float, default=0.5, help="share of the sample held out (default 0.5)")
    ev.add_argument("--subsets", type=int, default=3, help="random and as many stratified fitness subsets (default 3)")
    ev.add_argument("--subset-size", type=int, default=200, metavar="N", help="cells per fitness subset (default 200)")
    ev.add_argument("--data", help="real images for the networks' input (default: looked for, see 'zeronas score')")
    ev.add_argument("--input", choices=("auto", "real", "noise"), default="auto", help="input kind (default auto)")
    ev.add_argument("--batch-size", type=int, default=64, help="mini-batch of the statistics pass (default 64)")
    ev.add_argument(
        "--baselines",
        default="meco,meco_opt",
        metavar="LIST",
        help="proxies scored on the same networks for comparison on the held-out cells (default meco,meco_opt; "
        "'' for none)",
    )
    ev.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N")
    ev.add_argument("--cache", type=Path, help="statistics cache file (default: OUT with .stats.npz); reused")
    ev.add_argument("--out", type=Path, required=True, metavar="FILE", help="the evolved proxy (JSON)")
    ev.set_defaults(func=run_evolve)


def _checked(args: argparse.Namespace) -> None:
    for flag, value, low in (("--sample", args.sample, 20), ("--batch-size", args.batch_size, 1)):
        if value < low:
            raise ZeronasError(f"{flag} must be at least {low}, got {value}")
    if args.subsets < 1 or args.subset_size < 10:
        raise ZeronasError("--subsets must be at least 1 and --subset-size at least 10")
    if not args.out.parent.is_dir():
        raise ZeronasError(f"the folder of --out {args.out} does not exist; create it first")


def run_evolve(args: argparse.Namespace) -> int:
    from zeronas.datasets import canonical_dataset
    from zeronas.evolve import StatsProtocol, build_cache, make_measure, sample_archs
    from zeronas.evolve._search import evolve, rank_quality, split_cells
    from zeronas.inputs import resolve_proxy_input
    from zeronas.predictors import load_truth
    from zeronas.proxies import resolve_proxy
    from zeronas.proxies._formula import evaluate_formula, formula_in_words
    from zeronas.proxies._layer_stats import LAYER_STATS
    from zeronas.spaces import get_space

    _checked(args)
    space = get_space(args.space).name
    dataset = canonical_dataset(args.dataset)
    baselines = tuple(resolve_proxy(b, where="--baselines") for b in args.baselines.split(",") if b.strip())
    truth, source = load_truth(args.benchmark, space, dataset, args.metric, args.epochs)
    if len(truth) < args.sample:
        raise ZeronasError(f"--sample {args.sample} but {args.benchmark} labels only {len(truth)} {space} cells")
    proxy_input = resolve_proxy_input(args.data, dataset, args.input)
    print(proxy_input.describe(), flush=True)
    data = str(Path(proxy_input.data).resolve()) if proxy_input.data else None
    protocol = StatsProtocol(space, dataset, proxy_input.kind, data, args.batch_size, args.seed, LAYER_STATS, baselines)
    cache_path = args.cache or args.out.with_suffix(".stats.npz")
    archs = sample_archs(list(truth), args.sample, args.seed)
    start = time.perf_counter()

    def measured(done: int, total: int, seconds: float) -> None:
        if done == total or done % max(1, total // 20) == 0:
            print(f"statistics: {done}/{total} cells measured ({seconds:.2f} s the last)", flush=True)

    cache = build_cache(cache_path, protocol, archs, make_measure(protocol, args.device), measured)
    measure_wall = time.perf_counter() - start
    where = {a: i for i, a in enumerate(cache.archs)}
    rows = [where[a] for a in archs]
    accuracy = np.array([truth[a] for a in archs])
    values, mask = cache.padded(rows)
    train, held = split_cells(len(archs), args.holdout, args.seed)

    def progress(row: dict) -> None:
        print(
            f"generation {row['generation']}/{args.generations}: best τ {row['best']:.4f} (mean {row['mean']:.4f}, "
            f"{row['evaluations']} formulas scored, {row['seconds']:.1f} s) {row['formula']}",
            flush=True,
        )

    result = evolve(
        values[train],
        mask[train],
        accuracy[train],
        population=args.population,
        generations=args.generations,
        seed=args.seed,
        subsets=args.subsets,
        subset_size=args.subset_size,
        progress=progress,
    )
    held_out = {"evolved": rank_quality(evaluate_formula(result.formula, values[held], mask[held]), accuracy[held])}
    for name in baselines:
        held_out[name] = rank_quality(np.array(cache.baselines[name])[rows][held], accuracy[held])
    record = {
        "formula": result.formula,
        "formula_in_words": formula_in_words(result.formula),
        "protocol": {
            **protocol.to_dict(),
            "images_used": _batch_used(protocol),
            "labels": source,
            "benchmark": str(args.benchmark),
        },
        "evolution": {
            "sample": len(archs),
            "evolution_cells": len(train),
            "held_out_cells": len(held),
            "population": args.population,
            "generations": args.generations,
            "seed": args.seed,
            "fitness": "mean Kendall τ on random and stratified subsets of the evolution cells",
            "subsets": {"random": args.subsets, "stratified": args.subsets, "size": min(args.subset_size, len(train))},
            "best_fitness": result.fitness,
            "formulas_scored": result.evaluations,
            "evolution_seconds": round(result.seconds, 2),
            "measure_wall_seconds": round(measure_wall, 2),
            "measure_seconds_per_cell": round(float(np.mean([cache.seconds[i] for i in rows])), 3),
        },
        "held_out": held_out,
        "history": result.history,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"best formula: {record['formula_in_words']}")
    for name, q in held_out.items():
        print(f"held-out ({q['n']} cells) {name}: Kendall τ {q['kendall_tau']:.4f}, Spearman ρ {q['spearman']:.4f}")
    print(f"wrote {args.out}; score with --proxy evolved:{args.out}")
    return 0


def _batch_used(protocol) -> int:
    """Images in the statistics pass: the batch, or fewer when the real image folder holds fewer."""
    if protocol.data is None:
        return protocol.batch_size
    from zeronas.data import load_images

    images, _ = load_images(protocol.data, protocol.dataset, limit=protocol.batch_size)
    return len(images)
