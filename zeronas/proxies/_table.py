"""``ArchScore`` rows -> a pyarrow table / Parquet file (the ``zeronas score`` output)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

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
    """Write to a hidden temp file next to ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
