"""Cost of each proxy relative to one plain forward pass, on fixed random TSS networks.

For every arch the network is built once; then, interleaved within the same loop,
a plain forward pass (batch 1, train mode, no grad), MeCo as implemented, the
straightforward per-hook-call MeCo (float32 corrcoef + general eig, the authors'
code) and every other proxy are timed. Each timing is the best of ``--repeats``;
printed are the medians over archs, the median of the per-arch ratios to the
forward pass, the ratio of the medians and the ratio of the total times (the sum over
archs: what a whole-space run pays). Batch proxies run at ``--batch-size``, so
their ratios compare with a batch-1 forward pass. With ``--device cuda`` every timing
starts and ends with ``torch.cuda.synchronize()`` (the work is asynchronous), and TF32
is off as when scoring.

    python benchmarks/proxy_cost.py --archs 50 [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from zeronas._device import full_precision, parse_device
from zeronas.proxies import ArchScorer, get_proxy, list_proxies
from zeronas.spaces import get_space

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from meco_reference import reference_meco  # noqa: E402  (the tests' plain MeCo: one implementation)


def _best_of(fn, repeats: int, device: torch.device) -> float:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    best = float("inf")
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="mini-batch for the batch proxies")
    parser.add_argument("--proxies", default="all", help="comma list, or 'all' (default) or 'meco' (MeCo only)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = parse_device(args.device)
    with full_precision():
        _measure(args, device)


def _measure(args: argparse.Namespace, device: torch.device) -> None:

    space = get_space("tss")
    rng = np.random.default_rng(args.seed)
    archs = [space.sample(rng) for _ in range(args.archs)]
    others = list_proxies() if args.proxies == "all" else [p for p in args.proxies.split(",") if p]
    others = [p for p in others if p != "meco"]
    scorer = ArchScorer(
        space="tss", proxies=["meco", *others], seed=args.seed, batch_size=args.batch_size, device=device
    )
    proxies = {name: get_proxy(name) for name in ["meco", *others]}

    times: dict[str, list[float]] = {k: [] for k in ["forward", "meco", "meco_reference", *others]}
    for arch in archs:
        model = scorer.build(arch)
        model.train()
        x = scorer.sample

        def forward() -> None:
            with torch.no_grad():
                model(x)

        def run(name: str):
            def call() -> None:
                # a fresh context per call: shared passes are not reused between timings
                proxies[name].compute(scorer.context(arch, model))

            return call

        forward()  # warm-up
        times["forward"].append(_best_of(forward, args.repeats, device))
        times["meco"].append(_best_of(run("meco"), args.repeats, device))
        times["meco_reference"].append(_best_of(lambda: reference_meco(model, x), args.repeats, device))
        for name in others:
            times[name].append(_best_of(run(name), args.repeats, device))

    fwd = times["forward"]
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, torch threads {args.threads}"
    print(
        f"{len(archs)} TSS archs, batch 1 forward, best of {args.repeats}, {device} ({where}), "
        f"batch proxies at batch {args.batch_size}"
    )
    print(f"{'what':<16} {'median ms':>10} {'x forward':>10} {'(ratio of medians)':>19} {'(ratio of totals)':>18}")
    for name, values in times.items():
        ratio = statistics.median(v / f for v, f in zip(values, fwd, strict=True))
        of_medians = statistics.median(values) / statistics.median(fwd)
        of_totals = sum(values) / sum(fwd)
        print(
            f"{name:<16} {1000 * statistics.median(values):>10.2f} {ratio:>10.2f} {of_medians:>19.2f} "
            f"{of_totals:>18.2f}"
        )


if __name__ == "__main__":
    main()
