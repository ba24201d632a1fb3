"""``ArchScore`` rows -> a pyarrow table / Parquet file (the ``zeronas score`` output)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zeronas._atomic import atomic_write
from zeronas.proxies._scorer import ArchScore

__all__ = ["ScoreWriter", "scores_to_table", "write_parquet_atomic"]


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


class ScoreWriter:
    """Streams ``ArchScore`` rows into atomic part files of one directory (see :class:`~zeronas.logs.PartFiles`).

    At most ``flush_rows`` rows, or ``flush_seconds`` worth of them, are held before they
    are written, so memory stays flat however many archs are scored and a killed run
    loses at most one buffer. ``finish(table, scores)`` may add columns or metadata to each
    part before it is written. ``pyarrow.parquet.read_table(directory)`` reads what is written.
    """

    def __init__(
        self,
        directory: str | Path,
        proxies: Sequence[str],
        *,
        flush_rows: int = 256,
        flush_seconds: float = 30.0,
        finish: Callable[[pa.Table, list[ArchScore]], pa.Table] | None = None,
    ) -> None:
        if flush_rows < 1:
            raise ValueError("flush_rows must be at least 1")
        self.proxies = list(proxies)
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.finish = finish
        # imported here: zeronas.logs loads pyarrow.dataset and pandas (0.3 CPU-s), and every scorer actor
        # imports this package without writing a table
        from zeronas.logs import PartFiles

        self._parts = PartFiles(directory)
        self._parts.directory.mkdir(parents=True, exist_ok=True)
        self._scores: list[ArchScore] = []
        self._indices: list[int | None] = []
        self._last_flush = time.monotonic()
        self.rows_written = 0

    def add(self, score: ArchScore, index: int | None) -> None:
        self._scores.append(score)
        self._indices.append(index)
        if len(self._scores) >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._scores:
            return
        table = scores_to_table(self._scores, self.proxies, self._indices)
        if self.finish is not None:
            table = self.finish(table, self._scores)
        self._parts.write(table)
        self.rows_written += len(self._scores)
        self._scores, self._indices = [], []

    def __enter__(self) -> ScoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
