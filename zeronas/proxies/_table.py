"""``ArchScore`` rows -> a pyarrow table / Parquet file (the ``zeronas score`` output)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zeronas._atomic import atomic_write
from zeronas.proxies._scorer import ArchScore

__all__ = ["scores_to_table", "write_parquet_atomic"]


def scores_to_table(
    scores: Iterable[ArchScore], proxies: Sequence[str], indices: Sequence[int | None] | None = None
) -> pa.Table:
    """One row per arch: ``arch``, ``index``, then per proxy ``<p>``, ``<p>_seconds``, ``<p>_error``."""
    scores = list(scores)
    if indices is None:
        indices = [None] * len(scores)
    columns: dict[str, pa.Array] = {
        "arch": pa.array([s.arch for s in scores], pa.string()),
        "index": pa.array(list(indices), pa.int64()),
    }
    for p in proxies:
        columns[p] = pa.array([s.values.get(p) for s in scores], pa.float64())
        columns[f"{p}_seconds"] = pa.array([s.seconds.get(p) for s in scores], pa.float64())
        columns[f"{p}_error"] = pa.array([s.errors.get(p) for s in scores], pa.string())
    return pa.table(columns)


def write_parquet_atomic(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` atomically (creating the directory): never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        pq.write_table(table, fh)
    return path
