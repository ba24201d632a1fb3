"""Atomic writes of analysis outputs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from zeronas.analysis._report import AnalysisReport
from zeronas.errors import ZeronasError


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


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
    tmp = _temp_beside(path)
    try:
        pq.write_table(report.joined, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise ZeronasError(f"--output {path}: directory {path.parent} does not exist")
    tmp = _temp_beside(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
