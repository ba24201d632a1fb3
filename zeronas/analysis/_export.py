"""Atomic writes of analysis outputs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from zeronas._atomic import atomic_write
from zeronas.analysis._report import AnalysisReport
from zeronas.errors import ZeronasError


def check_export_path(path: str | Path) -> Path:
    """Fail early (before any work) on an export path that cannot be written."""
    path = Path(path)
    if path.suffix != ".parquet":
        raise ZeronasError(f"--export {path}: use a .parquet file name")
    if not path.parent.is_dir():
        raise ZeronasError(f"--export {path}: directory {path.parent} does not exist")
    return path


def export_joined(report: AnalysisReport, path: str | Path) -> Path:
    """Write the joined per-architecture table as Parquet (temp file + rename)."""
    path = check_export_path(path)
    with atomic_write(path) as fh:
        pq.write_table(report.joined, fh, compression="zstd")
    return path


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise ZeronasError(f"--output {path}: directory {path.parent} does not exist")
    with atomic_write(path, "w") as fh:
        fh.write(text)
    return path
