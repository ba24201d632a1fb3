"""One check of a GPU machine right after `bash install.sh`: faithful proxies, MeCo throughput, a whole space, a search.

    python benchmarks/gpu_check.py --small --out small.json                     # first: a few archs, and the
                                                                                 # full run's projected time
    python benchmarks/gpu_check.py --out gpu_check.json [--benchmark PATH]      # on one GPU (steps 4-5 sized
                                                                                 # to end within --minutes, 8)
    python benchmarks/gpu_check.py --device cpu --small --out /tmp/check.json   # the same steps on a few archs

Steps, each printed in one summary table and written to ``--out`` as JSON. Every step sees the same input,
recorded under ``protocol``: Gaussian noise seeded by ``--seed`` (never data found on the machine), batch
``--batch-size`` for the batch proxies, TSS/CIFAR-10 for steps 3-5.

1. the torch / CUDA build and the device name;
2. every proxy (or ``--proxies``) on CPU and on the device for 50 TSS and 20 SSS archs: Spearman rank agreement,
   the largest absolute and relative difference, and ``ok`` when every arch is within the proxy's tolerance
   ``|cpu - device| <= rtol * |cpu| + atol_share * scale`` (``scale``: the largest ``|cpu|`` of that proxy in the
   sample), so a value near zero (``grasp`` crosses zero) is not flagged for a tiny absolute difference; TF32 is
   off while scoring, so the device computes the CPU's function;
3. MeCo arch/s with 1, 2, 4 and 8 scorer actors sharing one GPU (``--gpus-per-worker 1/k``; no GPU share when
   Ray has no GPU) over 600 archs, timed only once every actor is up and has scored a first chunk (pool start and
   teardown excluded);
4. ``zeronas score --space tss --all --proxies meco`` at the best setting of step 3: wall time (Ray join,
   pool start and writing included) and arch/s; target: all 15,625 cells in <= 60 s on one H100/H200-class
   GPU (>= 260 arch/s; AZ-NAS scores the same space at 13.9 arch/s). When step 3's rate says the whole space
   would not fit in what is left of ``--minutes``, a seeded ``--sample`` sized to fit is scored instead (the JSON
   says so: ``sized_to_fit``);
5. a 2,000-evaluation REA search (``zeronas search``) at the same setting (sized to fit like step 4): its wall
   time, and its top-1 validated accuracy when ground truth was used (``--benchmark``, or a table the search
   finds by itself: ``ground_truth`` names it, ``validated`` says whether there was one);
6. RARTS supernet training (``zeronas.weight_sharing.train_supernet``, in this process, on noise images): seconds
   per round (one Gauss–Seidel step of w, y and α, batch 64 from each half) of the paper's supernets, TSS
   16 channels x 5 cells per stage and DARTS 16 x 8 cells, timed over the second of two short epochs; and the
   paper protocol's projection (25,000 images per half: 390 rounds per epoch; TSS 100 epochs, DARTS 50).
   ``--small``: TSS only, 4 channels x 1 cell per stage, batch 4 (the code path, no figure to project from).
7. BossNAS supernet training (``zeronas.bossnas``, docs/bossnas.md): one epoch per block over 1,024 random
   images at batch 256 with the default supernet, images/s per block, and the paper protocol's projected time
   (30 epochs per block over CIFAR's 49,744 training images less the rating's 256), then the rating of all
   1,032 block paths on 8 held-out images, projected to the protocol's 256. The first block's figure includes
   the device's warm-up.

``--small`` shrinks every step to a few archs (step 7: 16 images through a tiny supernet, 8-pixel views) and
adds ``projected_full_s``: the full run's time from the rates ``--small`` measured (steps 2-5 scaled by their
work; actors 4 and 8 at the best rate measured; step 7 by its images only, so it underestimates that step). With
``--device cpu`` the CPU is compared with itself (equal by construction; the code path runs). Steps 4 and 5 run
the real CLI (``zeronas.cli.main``) in this process, on this script's Ray session.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@dataclass(frozen=True)
class Tolerance:
    """Accepted CPU-vs-device difference: ``rtol * |cpu| + atol_share * scale``."""

    rtol: float
    #: share of the largest |value| of the proxy in the sample: the absolute part, in the proxy's own units
    atol_share: float

    def limit(self, cpu_value: float, scale: float) -> float:
        return self.rtol * abs(cpu_value) + self.atol_share * scale


#: stated targets per proxy (float32 networks without TF32; float64 where the proxy computes in float64);
#: ntk is a condition number, which multiplies rounding differences by itself; grasp sums terms of both signs
TOLERANCE = {
    "params": Tolerance(0.0, 0.0),
    "flops": Tolerance(0.0, 0.0),
    "synflow": Tolerance(1e-6, 1e-7),
    "meco": Tolerance(1e-4, 1e-5),
    "meco_distinct": Tolerance(1e-4, 1e-5),
    "meco_opt": Tolerance(1e-4, 1e-5),
    "grasp": Tolerance(1e-3, 1e-3),
    "ntk": Tolerance(1e-2, 1e-3),
}
DEFAULT_TOLERANCE = Tolerance(1e-3, 1e-4)
TARGET_ARCH_PER_S = 15_625 / 60
AZ_NAS_ARCH_PER_S = 13.9
FULL = {
    "agreement": {"tss": 50, "sss": 20},
    "actors": [1, 2, 4, 8],
    "throughput_archs": 600,
    "search": 2000,
    "bossnas": {"images": 1024, "batch_size": 256},
}
SMALL = {
    "agreement": {"tss": 2, "sss": 1},
    "actors": [1, 2],
    "throughput_archs": 8,
    "search": 20,
    "bossnas": {"images": 16, "batch_size": 16, "resolution": 8, "hidden": 32, "dim": 16, "population": 8},
}
#: step 6: (space, channels, layers, batch, rounds per epoch); the paper's supernets at its batch, or a tiny one
RARTS_FULL = [("tss", 16, 5, 64, 10), ("darts", 16, 8, 64, 10)]
RARTS_SMALL = [("tss", 4, 1, 4, 2)]
#: RARTS' protocol: each half of CIFAR's 50,000 training images, and the epochs per space
RARTS_HALF, RARTS_EPOCHS = 25_000, {"tss": 100, "darts": 50}
#: the BossNAS paper protocol step 7 projects: CIFAR training images less the rating's, epochs per block
BOSSNAS_PROTOCOL = {"images": 50_000 - 256, "epochs_per_block": 30, "rating_images": 256}
#: held-out images step 7 rates on
BOSSNAS_RATING_IMAGES = 8
TSS_SIZE = 15_625
#: seconds any one Ray wait may take before the script stops with a message
RAY_WAIT_S = 600


def environment(device: str) -> dict[str, Any]:
    import torch

    info = {
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "device": device,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
    }
    info["device_name"] = torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"
    return info


def _archs(space_name: str, n: int, seed: int = 0) -> list[str]:
    import numpy as np

    from zeronas.spaces import get_space

    space = get_space(space_name)
    order = np.random.default_rng(seed).permutation(space.size)[:n]
    return [space.arch_at(int(i)) for i in order]


def compare(
    space: str, proxy: str, pairs: list[tuple[float | None, float | None]], tolerance: Tolerance
) -> dict[str, Any]:
    """One agreement row: ``pairs`` are (CPU, device) values of one proxy, one pair per arch."""
    from scipy.stats import spearmanr

    both = [(x, y) for x, y in pairs if x is not None and y is not None]
    null_mismatch = sum((x is None) != (y is None) for x, y in pairs)
    scale = max((abs(x) for x, _ in both), default=0.0)
    abs_err = max((abs(x - y) for x, y in both), default=float("nan"))
    rel_err = max((abs(x - y) / abs(x) for x, y in both if x != 0), default=float("nan"))
    outside = sum(abs(x - y) > tolerance.limit(x, scale) for x, y in both)
    rho = float(spearmanr([x for x, _ in both], [y for _, y in both])[0]) if len(both) > 2 else float("nan")
    if len(both) > 2 and len({x for x, _ in both}) == 1:
        rho = 1.0 if len({y for _, y in both}) == 1 else float("nan")  # constant values: no ranking
    return {
        "space": space,
        "proxy": proxy,
        "archs": len(pairs),
        "spearman": rho,
        "max_abs_error": abs_err,
        "max_rel_error": rel_err,
        "scale": scale,
        "outside_tolerance": outside,
        "null_mismatch": null_mismatch,
        "tolerance": asdict(tolerance),
        "ok": null_mismatch == 0 and outside == 0,
    }


def agreement(
    device: str, counts: dict[str, int], proxies: list[str], batch_size: int, seed: int
) -> list[dict[str, Any]]:
    """Per space and proxy: CPU vs device values of the same archs, inputs and init (see :func:`compare`)."""
    from zeronas.proxies import ArchScorer

    rows = []
    for space_name, n in counts.items():
        archs = _archs(space_name, n)
        common = dict(space=space_name, proxies=proxies, data=None, seed=seed, batch_size=batch_size)
        on_cpu, on_device = ArchScorer(device="cpu", **common), ArchScorer(device=device, **common)
        pairs: dict[str, list[tuple[float | None, float | None]]] = {p: [] for p in proxies}
        for arch in archs:
            a, b = on_cpu.score(arch).values, on_device.score(arch).values
            for p in proxies:
                pairs[p].append((a[p], b[p]))
        rows += [compare(space_name, p, pairs[p], TOLERANCE.get(p, DEFAULT_TOLERANCE)) for p in proxies]
    return rows


def _wait(refs: Any, what: str) -> Any:
    import ray

    try:
        return ray.get(refs, timeout=RAY_WAIT_S)
    except ray.exceptions.GetTimeoutError:
        raise SystemExit(
            f"gpu_check: {what} took over {RAY_WAIT_S} s; is the device busy or Ray short of CPUs?"
        ) from None


def meco_throughput(
    device: str, actors: list[int], n: int, *, share_gpu: bool, batch_size: int, seed: int
) -> list[dict[str, Any]]:
    """MeCo arch/s of k scorer actors, each asking for 1/k GPU when ``share_gpu`` (else none), computing on
    ``device``. The clock runs only while ``n`` archs are scored: every actor is up and has scored a first
    chunk before it starts, and the pool is shut down after it stops."""
    from zeronas.pipeline._pool import PoolConfig, start_pool

    archs = _archs("tss", n, seed=1)
    warm = _archs("tss", 2, seed=2)
    kwargs = dict(space="tss", proxies=["meco"], dataset="cifar10", data=None, seed=seed, batch_size=batch_size)
    rows = []
    for k in actors:
        share = 1.0 / k if share_gpu else 0.0
        config = PoolConfig({**kwargs, "device": device}, workers=k, gpus_per_worker=share, cpus_per_worker=0.5)
        pool = start_pool(config)
        try:
            started = time.perf_counter()
            up = _wait(pool.warm_up.remote(), f"starting {k} scorer actor(s)")
            handles: dict[str, Any] = {}
            while len(handles) < k and time.perf_counter() - started < RAY_WAIT_S:
                handles = _wait(pool.worker_handles.remote(), "listing the scorer actors")
            _wait([h.score_many.remote(warm) for h in handles.values()], "the warm-up chunk")
            warm_s = time.perf_counter() - started
            t0 = time.perf_counter()
            out = _wait([pool.score.remote(archs[i : i + 8]) for i in range(0, n, 8)], f"scoring {n} archs")
            timed = time.perf_counter() - t0
        finally:
            with contextlib.suppress(Exception):
                _wait(pool.shutdown.remote(), "the pool shutdown")
            import ray

            ray.kill(pool)
        results = [row for call in out for row in call]
        rows.append(
            {
                "actors": k,
                "gpus_per_worker": share,
                "gpu_ids": sorted(tuple(u["gpu_ids"]) for u in up),
                "archs": len(results),
                "failed": sum(r.get("result") is None for r in results),
                "arch_per_s": len(results) / timed,
                "timed_s": timed,
                "start_and_warm_s": warm_s,
            }
        )
    return rows


def bossnas_throughput(device: str, size: dict[str, Any], seed: int) -> dict[str, Any]:
    """Step 7: one epoch per block of the BossNAS training on random images, and the paper protocol's time."""
    import numpy as np

    from zeronas.bossnas import BossSettings, train_supernet

    n, held_out = size["images"], BOSSNAS_RATING_IMAGES
    images = np.random.default_rng(seed).integers(0, 256, (n + held_out, 3, 32, 32), dtype=np.uint8)
    settings = BossSettings(epochs_per_block=1, seed=seed, **{k: v for k, v in size.items() if k != "images"})
    with tempfile.TemporaryDirectory(prefix="zeronas-gpu-check-") as work:
        state = train_supernet(images[:n], images[n:], settings, Path(work) / "supernet.ckpt", device)
    rates = [n / h["seconds"] for h in state["history"]]
    full = BOSSNAS_PROTOCOL["images"] * BOSSNAS_PROTOCOL["epochs_per_block"]
    return {
        "settings": {k: v for k, v in asdict(settings).items() if k in ("batch_size", "resolution", "hidden", "dim")},
        "images": n,
        "images_per_s": rates,
        "rating_s": state["rating_seconds"],
        "seconds": state["device_seconds"],
        "protocol_hours": (
            sum(full / r for r in rates) + state["rating_seconds"] * BOSSNAS_PROTOCOL["rating_images"] / held_out
        )
        / 3600,
    }


def _cli(args: list[str]) -> tuple[float, str]:
    """Run ``zeronas ARGS`` in this process (it joins this script's Ray session): wall seconds and stdout."""
    from zeronas.cli import main

    stdout = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(stdout):
        code = main(args)
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"zeronas {' '.join(args)} failed with exit code {code}")
    return wall, stdout.getvalue()


def _setting(device: str, best: dict[str, Any], protocol: dict[str, Any]) -> list[str]:
    """The CLI flags of step 3's best setting and of the run's input."""
    return [
        "--workers",
        str(best["actors"]),
        "--gpus-per-worker",
        str(best["gpus_per_worker"]),
        "--device",
        device,
        "--input",
        "noise",
        "--batch-size",
        str(protocol["batch_size"]),
        "--seed",
        str(protocol["seed"]),
    ]


def fitting(wanted: int, rate: float, seconds_left: float | None, overhead_s: float = 30.0) -> int:
    """``wanted`` evaluations, or as many as ``rate`` arch/s scores in ``seconds_left`` less a start overhead."""
    if seconds_left is None or math.isnan(rate) or wanted / rate + overhead_s <= seconds_left:
        return wanted
    return max(1, min(wanted, int((seconds_left - overhead_s) * rate)))


def whole_space(device: str, best: dict[str, Any], n: int, protocol: dict[str, Any], work: Path) -> dict[str, Any]:
    which = ["--all"] if n == TSS_SIZE else ["--sample", str(n)]
    out = work / "tss_meco.parquet"
    args = [
        "score",
        "--space",
        "tss",
        *which,
        "--proxies",
        "meco",
        "--out",
        str(out),
        *_setting(device, best, protocol),
    ]
    wall, _ = _cli(args)
    import pyarrow.dataset as ds

    rows = ds.dataset(out, format="parquet").count_rows()
    if rows != n:
        raise SystemExit(f"zeronas score wrote {rows} rows, expected {n}")
    return {"command": "zeronas " + " ".join(args), "archs": rows, "wall_s": wall, "arch_per_s": rows / wall}


def search(
    device: str, best: dict[str, Any], budget: int, protocol: dict[str, Any], work: Path, benchmark: str | None
) -> dict[str, Any]:
    args = ["search", "--algo", "rea", "--budget", str(budget), "--out", str(work / "runs")]
    args += [*_setting(device, best, protocol), "--quiet", "--json"]
    if benchmark:
        args += ["--benchmark", benchmark]
    wall, stdout = _cli(args)
    result = json.loads(stdout[stdout.rfind("\n{\n") + 1 :])  # after what Tune prints to stdout
    top = next(iter(result["top"].values()))
    truth = result.get("ground_truth")
    return {
        "command": "zeronas " + " ".join(args),
        "evaluations": budget,
        "wall_s": wall,
        "ground_truth": truth,
        "ground_truth_from": ("--benchmark" if benchmark else "found by zeronas search") if truth else None,
        "validated": truth is not None,
        "top1_accuracy": top[0].get("accuracy") if top and truth else None,
    }


def rarts_throughput(device: str, settings: list[tuple[str, int, int, int, int]], seed: int) -> list[dict[str, Any]]:
    """Step 6: seconds per RARTS round of each supernet, over the second epoch (the first warms up)."""
    import numpy as np

    from zeronas.spaces import get_space
    from zeronas.weight_sharing import paper_recipe, train_supernet

    rows = []
    for space, channels, layers, batch, rounds in settings:
        n = 2 * batch * rounds
        rng = np.random.default_rng(seed)
        noise = np.clip(rng.normal(128, 64, size=(n, 3, 32, 32)), 0, 255).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.int64)
        recipe = paper_recipe(space, epochs=2, channels=channels, layers=layers, batch_size=batch)
        ends: list[float] = []
        train_supernet(
            get_space(space), "rarts", recipe, data=(noise, labels), seed=seed, device=device,
            on_epoch=lambda report: ends.append(report.seconds),
        )  # fmt: skip
        per_round = (ends[1] - ends[0]) / rounds
        epoch_s = per_round * (RARTS_HALF // batch)
        rows.append(
            {
                "space": space,
                "channels": channels,
                "layers": layers,
                "batch": batch,
                "rounds": rounds,
                "s_per_round": per_round,
                "projected_epoch_s": epoch_s,
                "paper_epochs": RARTS_EPOCHS[space],
                "projected_search_h": epoch_s * RARTS_EPOCHS[space] / 3600,
            }
        )
    return rows


def projection(report: dict[str, Any]) -> dict[str, float]:
    """Seconds the full run would take at the rates this ``--small`` run measured, per step."""
    small_archs = sum(SMALL["agreement"].values())
    rates = [r["arch_per_s"] for r in report["meco_actors"]]
    best = max(rates)
    by_k = {r["actors"]: r for r in report["meco_actors"]}
    start = max(r["start_and_warm_s"] for r in report["meco_actors"])
    ws, s = report["whole_space"], report["search"]
    ws_overhead = max(0.0, ws["wall_s"] - ws["archs"] / best)
    s_overhead = max(0.0, s["wall_s"] - s["evaluations"] / best)
    steps = {
        "agreement": report["agreement_s"] * sum(FULL["agreement"].values()) / small_archs,
        "meco_actors": sum(
            (by_k[k]["start_and_warm_s"] if k in by_k else start)
            + FULL["throughput_archs"] / (by_k[k]["arch_per_s"] if k in by_k else best)
            for k in FULL["actors"]
        ),
        "whole_space": ws_overhead + TSS_SIZE / best,
        "search": s_overhead + FULL["search"] / best,
        "bossnas": (report["bossnas"]["seconds"] - report["bossnas"]["rating_s"])
        * FULL["bossnas"]["images"]
        / SMALL["bossnas"]["images"]
        + report["bossnas"]["rating_s"],
    }
    steps["total"] = sum(steps.values())
    return steps


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def summary(report: dict[str, Any]) -> str:
    env, protocol = report["environment"], report["protocol"]
    lines = [
        f"torch {env['torch']} (CUDA build {env['cuda_build']}, cuDNN {env['cudnn']}), device {env['device']}: "
        f"{env['device_name']}",
        f"input: {protocol['input']}, batch {protocol['batch_size']}, seed {protocol['seed']}",
        "",
        "step                          figure",
    ]
    bad = [r for r in report["agreement"] if not r["ok"]]
    for r in report["agreement"]:
        tol = r["tolerance"]
        lines.append(
            f"agreement {r['space']}/{r['proxy']:<15} spearman {_fmt(r['spearman'])}, max abs err "
            f"{_fmt(r['max_abs_error'])}, max rel err {_fmt(r['max_rel_error'])} (tolerance rtol {tol['rtol']:g} + "
            f"{tol['atol_share']:g} x {_fmt(r['scale'])}){'' if r['ok'] else '  FAIL'}"
        )
    for r in report["meco_actors"]:
        lines.append(
            f"meco, {r['actors']} actor(s) x {_fmt(r['gpus_per_worker'])} GPU  {_fmt(r['arch_per_s'])} arch/s "
            f"(warm pool, {r['archs']} archs)"
        )
    ws = report["whole_space"]
    fit = " (a sample sized to fit --minutes)" if ws["sized_to_fit"] else ""
    lines.append(
        f"zeronas score tss meco        {ws['archs']} archs{fit} in {ws['wall_s']:.1f} s = "
        f"{ws['arch_per_s']:.1f} arch/s (target {TARGET_ARCH_PER_S:.0f} arch/s = 15,625 in 60 s on one "
        f"H100/H200; AZ-NAS {AZ_NAS_ARCH_PER_S} arch/s)"
    )
    s = report["search"]
    validated = f", top-1 validated accuracy {_fmt(s['top1_accuracy'])}" if s["validated"] else ", no ground truth"
    lines.append(
        f"REA search, {s['evaluations']} evaluations   {s['wall_s']:.1f} s{validated}"
        + (" (sized to fit --minutes)" if s["sized_to_fit"] else "")
    )
    for r in report["rarts"]:
        lines.append(
            f"RARTS {r['space']} supernet {r['channels']}x{r['layers']}, batch {r['batch']}  "
            f"{r['s_per_round']:.3g} s per round; paper protocol projected {r['projected_epoch_s']:.0f} s/epoch, "
            f"{r['projected_search_h']:.2f} h for {r['paper_epochs']} epochs"
        )
    b = report["bossnas"]
    lines.append(
        f"BossNAS, 1 epoch per block     {b['images']} images, batch {b['settings']['batch_size']}: "
        f"{', '.join(f'{r:.0f}' for r in b['images_per_s'])} images/s per block, rating {b['rating_s']:.1f} s; "
        f"the paper protocol (30 epochs per block) in {b['protocol_hours']:.2f} h"
    )
    verdict = "all within tolerance" if not bad else f"{len(bad)} FAIL"
    lines.append(f"total {report['seconds']:.0f} s; agreement: {verdict}")
    if "projected_full_s" in report:
        p = report["projected_full_s"]
        lines.append(
            f"projected full run on this machine: {p['total']:.0f} s (agreement {p['agreement']:.0f}, actors "
            f"{p['meco_actors']:.0f}, whole space {p['whole_space']:.0f}, search {p['search']:.0f}, BossNAS "
            f"{p['bossnas']:.0f}); "
            "steps 4-5 of a full run are sized to fit --minutes"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--small", action="store_true", help="a few archs per step, and the full run's projection")
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the figures")
    parser.add_argument("--benchmark", help="NATS-Bench ground truth, for the search's top-k validation")
    parser.add_argument("--batch-size", type=int, default=16, help="mini-batch of the batch proxies (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="network init and noise inputs of every step")
    parser.add_argument("--proxies", help="comma-separated proxies of step 2 (default: every registered proxy)")
    parser.add_argument("--minutes", type=float, default=8.0, help="steps 4-5 are sized to end within (default 8)")
    args = parser.parse_args(argv)
    if args.device not in ("cuda", "cpu"):
        raise SystemExit("--device must be cuda or cpu")

    import ray

    from zeronas._device import parse_device
    from zeronas.pipeline._ray_session import ensure_ray
    from zeronas.proxies import get_proxy, list_proxies

    parse_device(args.device)  # a CUDA check on a machine without CUDA fails here, in one line
    proxies = [get_proxy(p).name for p in args.proxies.split(",")] if args.proxies else list_proxies()
    size = SMALL if args.small else FULL
    t0 = time.perf_counter()
    protocol = {
        "input": "Gaussian noise (every step, whatever data the machine holds)",
        "batch_size": args.batch_size,
        "seed": args.seed,
        "agreement_archs": size["agreement"],
        "proxies": proxies,
        "throughput_archs": size["throughput_archs"],
        "tf32": False,
    }
    report: dict[str, Any] = {"environment": environment(args.device), "small": args.small, "protocol": protocol}
    report["agreement"] = agreement(args.device, size["agreement"], proxies, args.batch_size, args.seed)
    report["agreement_s"] = time.perf_counter() - t0
    report["bossnas"] = bossnas_throughput(args.device, size["bossnas"], args.seed)
    deadline = None if args.small else t0 + 60 * args.minutes
    ours = not ray.is_initialized()
    ensure_ray(None)
    try:
        report["meco_actors"] = meco_throughput(
            args.device,
            size["actors"],
            size["throughput_archs"],
            share_gpu=ray.cluster_resources().get("GPU", 0) >= 1,
            batch_size=args.batch_size,
            seed=args.seed,
        )
        best = max(report["meco_actors"], key=lambda r: r["arch_per_s"])
        rate = best["arch_per_s"]

        def left() -> float | None:
            return None if deadline is None else deadline - time.perf_counter()

        with tempfile.TemporaryDirectory(prefix="zeronas-gpu-check-") as work:
            wanted = 8 if args.small else TSS_SIZE
            # step 5 needs its share of what is left: keep its projected time aside
            later = None if deadline is None else size["search"] / rate + 30
            n = fitting(wanted, rate, None if later is None else left() - later)
            report["whole_space"] = whole_space(args.device, best, n, protocol, Path(work))
            report["whole_space"]["sized_to_fit"] = n < wanted
            budget = fitting(size["search"], rate, left())
            report["search"] = search(args.device, best, budget, protocol, Path(work), args.benchmark)
            report["search"]["sized_to_fit"] = budget < size["search"]
    finally:
        if ours:
            ray.shutdown()
    report["rarts"] = rarts_throughput(args.device, RARTS_SMALL if args.small else RARTS_FULL, args.seed)
    report["seconds"] = time.perf_counter() - t0
    if args.small:
        report["projected_full_s"] = projection(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(summary(report))
    return report


if __name__ == "__main__":
    main()
