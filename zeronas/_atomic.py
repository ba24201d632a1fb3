"""The one atomic file write: readers see the old file or the complete new one, never a part."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a hidden temp file beside ``path`` for writing (``mode`` ``"wb"`` or ``"w"``).

    When the block ends normally the file is flushed, fsynced and renamed over ``path``
    (``os.replace``, atomic on POSIX within one directory); when it raises, the temp file is
    removed and ``path`` is left as it was. The parent directory must exist.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # "x": a new file with the usual permissions (0o666 minus the umask), never someone else's
        with open(tmp, mode.replace("w", "x"), **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """A hidden temp directory beside ``path`` to fill; renamed to ``path`` when the block ends
    normally, removed when it raises. An existing directory at ``path`` is replaced (POSIX cannot
    rename over a non-empty directory, so it is removed just before the rename)."""
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
