"""zeronas's cache directory: where `zeronas benchmark export` and `zeronas data download` write by default."""

from __future__ import annotations

import os
from pathlib import Path


def zeronas_home() -> Path:
    """``$ZERONAS_HOME``, else ``$XDG_CACHE_HOME/zeronas``, else ``~/.cache/zeronas`` (torch's own rule for its hub)."""
    if os.environ.get("ZERONAS_HOME"):
        return Path(os.environ["ZERONAS_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "zeronas"


def benchmarks_dir() -> Path:
    """Ground-truth tables: ``<home>/benchmarks/<space>.parquet``."""
    return zeronas_home() / "benchmarks"


def data_dir() -> Path:
    """Data sets in torchvision's layout: ``<home>/data/cifar-10-batches-py`` ..."""
    return zeronas_home() / "data"
