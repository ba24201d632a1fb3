"""`zeronas report` on a large log: render time and file size against the targets (< 10 s, < 15 MB).

    python benchmarks/report_size.py [--rows 100000] [--bootstrap 200] [--benchmark TABLE] [--keep FILE.html]

Writes a synthetic TSS log (proxy rows of 4 algorithms x 5 seeds, 16 workers on 4 nodes, their validate and
test rows) through the log's own part-file writer, then times `write_report` on it (the analysis included) and
prints wall and CPU seconds, the file size, and their ratios to the targets (below 1 meets them). Accuracies come
from --benchmark (default: the shared NATS-Bench table, else a synthetic one over every TSS arch); proxy values
are accuracy plus seeded noise. On a loaded machine the wall time exceeds the CPU time: both are printed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ALGORITHMS = {"random": 0.0, "rea": 0.3, "tpe": 0.15, "regularized": 0.2}  # lean towards good archs
SEEDS = 5
WORKERS = 16
NODES = 4
TOP_K = 10
T0 = 1_780_000_000.0
TIME_TARGET_S = 10.0
SIZE_TARGET_MB = 15.0
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nats_tss" / "cifar10.csv"


def _benchmark(path: Path | None, tmp: Path) -> Path:
    if path is not None:
        return path
    if SHARED.is_file():
        return SHARED
    from zeronas.spaces import get_space

    archs = list(get_space("tss").enumerate())
    rng = np.random.default_rng(0)
    test = 10 + 84.37 * rng.beta(8, 1.2, len(archs))
    out = tmp / "cifar10.csv"
    pacsv.write_csv(
        pa.table(
            {
                "index": np.arange(len(archs)),
                "arch": archs,
                "cifar10_test_acc_200ep": test,
                "cifar10_valid_acc_12ep": test - 10 + rng.normal(0, 2, len(archs)),
            }
        ),  # fmt: skip
        out,
    )
    return out


def write_log(root: Path, benchmark: Path, rows: int) -> int:
    """One run of ``rows`` proxy rows; returns the rows written in all."""
    from zeronas.logs import PartFiles, log_schema

    table = pacsv.read_csv(benchmark)
    archs = np.array(table.column("arch").to_pylist())
    test = table.column("cifar10_test_acc_200ep").to_numpy()
    valid = (
        table.column("cifar10_valid_acc_12ep").to_numpy() if "cifar10_valid_acc_12ep" in table.column_names else test
    )
    per_search = rows // (len(ALGORITHMS) * SEEDS)
    schema = log_schema(["meco", "synflow"])
    from zeronas.logs import LogWriter

    LogWriter(
        root, "bench", ["meco", "synflow"], config={"spec": {"algos": list(ALGORITHMS), "seeds": list(range(SEEDS))}}
    ).close()
    parts = PartFiles(root / "run=bench")
    written = 0
    worker_names = np.array([f"w{i:02d}" for i in range(WORKERS)])
    node_names = np.array([f"node-{i % NODES}" for i in range(WORKERS)])
    for j, (algo, lean) in enumerate(ALGORITHMS.items()):
        for seed in range(SEEDS):
            rng = np.random.default_rng([j, seed])
            weights = np.exp(lean * (test - test.max()))
            pick = rng.choice(len(archs), size=min(per_search, len(archs)), replace=False, p=weights / weights.sum())
            n = len(pick)
            meco = test[pick] + rng.normal(0, 4, n)
            synflow = np.exp(test[pick] / 8 + rng.normal(0, 0.5, n))
            failed = rng.random(n) < 0.01
            busy = rng.uniform(0.05, 0.3, n)
            elapsed = np.cumsum(busy) / WORKERS
            worker = rng.integers(0, WORKERS, n)
            sid = f"{algo}-s{seed}"
            start = T0 + 3600.0 * (j * SEEDS + seed) / 10
            cols = {
                "schema_version": np.full(n, 1, np.int16), "run_id": ["bench"] * n, "search_id": [sid] * n,
                "algorithm": [algo] * n, "seed": np.full(n, seed), "space": ["tss"] * n, "dataset": ["cifar10"] * n,
                "stage": ["proxy"] * n, "arch": archs[pick], "index": pick, "canonical": archs[pick], "score": meco,
                "objective": ["meco"] * n, "proxy_meco": meco, "proxy_synflow": np.where(failed, np.nan, synflow),
                "proxy_seconds": busy, "worker_id": worker_names[worker], "node": node_names[worker],
                "device": ["cpu"] * n, "iteration": np.arange(1, n + 1), "n_proposed": np.arange(1, n + 1),
                "elapsed": elapsed,
                "timestamp": _ms(start + elapsed), "scored_at": _ms(start + elapsed - 0.01),
                "error": np.where(failed, "synflow: non-finite value (inf)", None),
                "attempts": np.where(rng.random(n) < 0.001, 2, 1),
            }  # fmt: skip
            proxy = pa.table({f.name: _column(cols, f, n) for f in schema}, schema=schema)
            top = np.argsort(-meco, kind="stable")[:TOP_K]
            chosen = top[np.argmax(valid[pick[top]])]
            other = {
                "stage": ["validate"] * TOP_K + ["test"], "arch": archs[pick[np.r_[top, chosen]]],
                "accuracy": np.r_[valid[pick[top]], test[pick[chosen]]],
                "accuracy_source": ["cifar10_valid_acc_12ep"] * TOP_K + ["cifar10_test_acc_200ep"],
                "iteration": np.r_[np.arange(1, TOP_K + 1), 1], "elapsed": np.full(TOP_K + 1, elapsed[-1]),
            }  # fmt: skip
            m = TOP_K + 1
            base = {"schema_version": np.full(m, 1, np.int16), "run_id": ["bench"] * m, "search_id": [sid] * m,
                    "algorithm": [algo] * m, "seed": np.full(m, seed), "space": ["tss"] * m,
                    "dataset": ["cifar10"] * m, "timestamp": _ms(np.full(m, start + elapsed[-1]))}  # fmt: skip
            extra = pa.table({f.name: _column(base | other, f, m) for f in schema}, schema=schema)
            parts.write(pa.concat_tables([proxy, extra]))
            written += n + m
    return written


def _ms(epoch_s: np.ndarray) -> pa.Array:
    return pa.array((epoch_s * 1000).astype(np.int64), pa.timestamp("ms", tz="UTC"))


def _column(cols: dict, field: pa.Field, n: int) -> pa.Array:
    if field.name not in cols:
        return pa.nulls(n, field.type)
    value = cols[field.name]
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value.cast(field.type)
    return pa.array(value, field.type, from_pandas=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="proxy rows (default 100000)")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples, as --bootstrap (default 200)")
    parser.add_argument("--benchmark", type=Path, help="ground-truth table (default: the shared NATS-Bench one)")
    parser.add_argument("--keep", type=Path, metavar="FILE.html", help="also copy the report here (to open it)")
    args = parser.parse_args()
    from zeronas.report import write_report

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        benchmark = _benchmark(args.benchmark, tmp)
        rows = write_log(tmp / "log", benchmark, args.rows)
        wall, cpu = time.perf_counter(), time.process_time()
        out = write_report(tmp / "log", tmp / "report.html", benchmark=benchmark, n_resamples=args.bootstrap)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        size = out.stat().st_size / 1e6
        if args.keep:
            shutil.copyfile(out, args.keep)
    print(f"log: {rows} rows ({args.rows} proxy rows, {len(ALGORITHMS)} algorithms x {SEEDS} seeds, {WORKERS} workers)")
    print(f"truth: {benchmark.name}; bootstrap resamples: {args.bootstrap}")
    ratios = f"wall {wall / TIME_TARGET_S:.2f}, CPU {cpu / TIME_TARGET_S:.2f}"
    print(f"render: {wall:.1f} s wall, {cpu:.1f} s CPU; time / target ({TIME_TARGET_S:.0f} s): {ratios}")
    print(f"file: {size:.1f} MB; size / target ({SIZE_TARGET_MB:.0f} MB): {size / SIZE_TARGET_MB:.2f}")


if __name__ == "__main__":
    main()
