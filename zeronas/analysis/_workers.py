"""Worker view: archs/s per worker and node, idle share, errors by reason, and the
throughput timeline behind the plot."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class WorkerFigures:
    run: str
    name: str  # worker id or node
    node: str
    n_workers: int
    n_archs: int
    busy_s: float
    span_s: float
    archs_per_s: float
    idle_share: float
    n_errors: int


def encode(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Integer codes (-1 for null) and the distinct values, via Arrow's dictionary encoding."""
    enc = pc.dictionary_encode(values)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, enc.dictionary.to_pylist()


def run_spans(
    run: np.ndarray, n_runs: int, timestamp: np.ndarray, elapsed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) epoch seconds per run code: its searches start at ``timestamp - elapsed``."""
    start = np.full(n_runs, np.inf)
    end = np.full(n_runs, -np.inf)
    ok = np.isfinite(timestamp)
    begin = timestamp - np.where(np.isfinite(elapsed), elapsed, 0.0)
    np.minimum.at(start, run[ok], begin[ok])
    np.maximum.at(end, run[ok], timestamp[ok])
    start[~np.isfinite(start)] = np.nan
    end[~np.isfinite(end)] = np.nan
    return start, end


def worker_figures(
    run: np.ndarray,
    runs: list[str],
    worker: np.ndarray,
    workers: list[str],
    node: np.ndarray,
    nodes: list[str],
    busy: np.ndarray,
    timestamp: np.ndarray,
    elapsed: np.ndarray,
    has_error: np.ndarray,
) -> tuple[list[WorkerFigures], list[WorkerFigures]]:
    """Per worker and per node of each run (string columns given as codes + names).

    Idle share = 1 − busy seconds / (workers × run span).
    """
    start, end = run_spans(run, len(runs), timestamp, elapsed)
    span_of_run = end - start
    ok = worker >= 0
    key = run[ok] * max(1, len(workers)) + worker[ok]
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    n = np.bincount(inverse, minlength=len(keys))
    b = np.bincount(inverse, weights=np.where(np.isfinite(busy[ok]), busy[ok], 0.0), minlength=len(keys))
    errors = np.bincount(inverse, weights=has_error[ok].astype(float), minlength=len(keys))
    worker_node = node[ok][first]  # a worker lives on one node: take its first row's
    per_worker = []
    for i, k in enumerate(keys):
        r, w = divmod(int(k), max(1, len(workers)))
        span = float(span_of_run[r])
        per_worker.append(
            WorkerFigures(
                run=runs[r],
                name=str(workers[w]),
                node=str(nodes[worker_node[i]]) if worker_node[i] >= 0 else "?",
                n_workers=1,
                n_archs=int(n[i]),
                busy_s=float(b[i]),
                span_s=span,
                archs_per_s=n[i] / span if span > 0 else math.nan,
                idle_share=1.0 - b[i] / span if span > 0 else math.nan,
                n_errors=int(errors[i]),
            )
        )
    grouped: dict[tuple[str, str], list[WorkerFigures]] = defaultdict(list)
    for wf in per_worker:
        grouped[(wf.run, wf.node)].append(wf)
    per_node = []
    for (r, nd), group in sorted(grouped.items()):
        span = group[0].span_s
        archs = sum(g.n_archs for g in group)
        busy_total = sum(g.busy_s for g in group)
        per_node.append(
            WorkerFigures(
                run=r,
                name=nd,
                node=nd,
                n_workers=len(group),
                n_archs=archs,
                busy_s=busy_total,
                span_s=span,
                archs_per_s=archs / span if span > 0 else math.nan,
                idle_share=1.0 - busy_total / (len(group) * span) if span > 0 else math.nan,
                n_errors=sum(g.n_errors for g in group),
            )
        )
    return per_worker, per_node


def reasons_of(error: str | None) -> list[str]:
    """The reasons of one row's error; a row may carry several (``meco: ...; synflow: ...``)."""
    return [part.strip() for part in str(error).split(";") if part.strip()] if error else []


def error_reasons(error: np.ndarray) -> Counter:
    """Count each reason over rows."""
    counts: Counter = Counter()
    for e in error:
        counts.update(reasons_of(e))
    return counts


def failures_by_reason(error: np.ndarray, search: np.ndarray, arch: np.ndarray) -> dict[str, list[tuple[str, str]]]:
    """reason -> the (search, arch) of every row that gave it, most frequent reason first."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for i in np.flatnonzero([bool(e) for e in error]):
        for reason in reasons_of(error[i]):
            out[reason].append((str(search[i]), str(arch[i])))
    return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))


def throughput_timeline(
    run: np.ndarray, runs: list[str], worker: np.ndarray, workers: list[str], timestamp: np.ndarray, bins: int = 30
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """archs/s per worker in equal time bins (x: seconds since the run's first row)."""
    out = {}
    for r, run_name in enumerate(runs):
        sel_run = (run == r) & np.isfinite(timestamp) & (worker >= 0)
        if not sel_run.any():
            continue
        t0, t1 = timestamp[sel_run].min(), timestamp[sel_run].max()
        edges = np.linspace(t0, t1 if t1 > t0 else t0 + 1.0, bins + 1)
        width = edges[1] - edges[0]
        for w in np.unique(worker[sel_run]):
            counts, _ = np.histogram(timestamp[sel_run & (worker == w)], bins=edges)
            label = f"{run_name}/{workers[w]}" if len(runs) > 1 else str(workers[w])
            out[label] = ((edges[:-1] + edges[1:]) / 2 - t0, counts / width)
    return out


@dataclass
class BusyIntervals:
    """When each worker scored what: one interval per proxy row, on one lane per (run, worker)."""

    lanes: list[str]  # "node / worker" (prefixed by the run when there are several)
    lane: np.ndarray  # lane index per row, -1 without a worker
    start: np.ndarray  # seconds since the run's first interval
    end: np.ndarray
    failed: np.ndarray  # bool: the row has an error
    attempts: np.ndarray  # float, NaN when not logged
    clock: str  # which column the ends come from
    search: np.ndarray  # per row, for hover texts
    arch: np.ndarray


def busy_intervals(
    run: np.ndarray,
    runs: list[str],
    worker: np.ndarray,
    workers: list[str],
    node: np.ndarray,
    nodes: list[str],
    busy: np.ndarray,
    scored_at: np.ndarray,
    timestamp: np.ndarray,
    has_error: np.ndarray,
    attempts: np.ndarray,
    search: np.ndarray,
    arch: np.ndarray,
) -> BusyIntervals:
    """Each row ends when its worker finished (``scored_at``; logs without it: when the search logged it) and
    starts ``proxy_seconds`` earlier."""
    worker_clock = np.isfinite(scored_at)
    end = np.where(worker_clock, scored_at, timestamp)
    start = end - np.where(np.isfinite(busy), busy, 0.0)
    clock = "scored_at (worker clock)" if worker_clock.all() else "timestamp (when the search logged the row)"
    if worker_clock.any() and not worker_clock.all():
        clock = "scored_at where logged, else timestamp"
    lane = np.full(len(run), -1)
    lanes: list[str] = []
    index: dict[tuple[int, int], int] = {}
    ok = (worker >= 0) & np.isfinite(end)
    for r, w, n in sorted({(int(r), int(w), int(n)) for r, w, n in zip(run[ok], worker[ok], node[ok])}):
        if (r, w) in index:
            continue
        index[(r, w)] = len(lanes)
        name = f"{nodes[n] if n >= 0 else '?'} / {workers[w]}"
        lanes.append(f"{runs[r]}: {name}" if len(runs) > 1 else name)
    for (r, w), i in index.items():
        lane[(run == r) & (worker == w)] = i
    t0 = np.zeros(len(runs))
    for r in range(len(runs)):
        sel = (run == r) & ok
        if sel.any():
            t0[r] = start[sel].min()
    return BusyIntervals(
        lanes, lane, start - t0[run], end - t0[run], has_error.astype(bool), attempts.astype(float), clock, search, arch
    )


def utilisation(intervals: BusyIntervals, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Busy share of each lane in equal time bins: (bin centres in seconds, lanes × bins shares)."""
    ok = (intervals.lane >= 0) & np.isfinite(intervals.start) & np.isfinite(intervals.end)
    if not ok.any():
        return np.zeros(0), np.zeros((len(intervals.lanes), 0))
    start, end, lane = intervals.start[ok], intervals.end[ok], intervals.lane[ok]
    t1 = float(end.max())
    edges = np.linspace(0.0, t1 if t1 > 0 else 1.0, bins + 1)
    share = np.zeros((len(intervals.lanes), bins))
    for i in range(len(intervals.lanes)):
        s, e = start[lane == i], end[lane == i]
        # busy seconds before each edge: every interval's overlap with [0, edge]
        before = np.array([np.clip(edge - s, 0.0, e - s).sum() for edge in edges])
        share[i] = np.diff(before) / np.diff(edges)
    return (edges[:-1] + edges[1:]) / 2, share
