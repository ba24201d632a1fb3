"""The Parquet log of every evaluated architecture (schema version 1).

Layout (see ``docs/ARCHITECTURE.md``)::

    OUT/run=<run_id>/_run.json                       the run's configuration
    OUT/run=<run_id>/part-<seq:06d>-<uuid8>.parquet  one file per flush

Each flush writes a hidden temp file and renames it, so a reader (``pyarrow.dataset``
skips names starting with ``.`` or ``_``) never sees a torn file. No Ray import here:
the driver feeds a :class:`LogWriter` from a Tune callback.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from zeronas._atomic import atomic_write
from zeronas.errors import ZeronasError

__all__ = [
    "SCHEMA_VERSION",
    "STAGES",
    "PROXY_PREFIX",
    "RUN_CONFIG_NAME",
    "log_schema",
    "proxy_columns",
    "LogWriter",
    "PartFiles",
    "open_log",
    "find_part_files",
    "find_run_dirs",
    "read_run_config",
]

SCHEMA_VERSION = 1
STAGES = ("proxy", "label", "derive", "validate", "test", "train", "train_test")
PROXY_PREFIX = "proxy_"
RUN_CONFIG_NAME = "_run.json"
#: the hive partition key of a run directory (``run=<run_id>``)
RUN_PARTITION = "run"

_TIMESTAMP = pa.timestamp("ms", tz="UTC")
_BASE_BEFORE_PROXIES: list[tuple[str, pa.DataType]] = [
    ("schema_version", pa.int16()),
    ("run_id", pa.string()),
    ("search_id", pa.string()),
    ("algorithm", pa.string()),
    ("seed", pa.int64()),
    ("space", pa.string()),
    ("dataset", pa.string()),
    ("stage", pa.string()),
    ("arch", pa.string()),
    ("index", pa.int64()),
    ("canonical", pa.string()),
    ("score", pa.float64()),
    ("objective", pa.string()),
]
_BASE_AFTER_PROXIES: list[tuple[str, pa.DataType]] = [
    ("proxy_seconds", pa.float64()),
    # --objective predictor: the accuracy predicted for the arch when it was evaluated (null otherwise)
    ("predicted_acc", pa.float64()),
    ("accuracy", pa.float64()),
    ("accuracy_source", pa.string()),
    ("epochs", pa.int64()),
    ("params", pa.int64()),
    ("flops", pa.float64()),
    ("supernet", pa.bool_()),
    # proxy rows: False for an arch outside the space's own archs (index null: a supernet, or a DARTS genotype
    # with a none edge or a node reading one state twice); null in logs written before the column existed
    ("in_space", pa.bool_()),
    # --scores-from: the proxy values came from the table (nothing was scored); null in older logs
    ("cached", pa.bool_()),
    ("worker_id", pa.string()),
    ("node", pa.string()),
    ("device", pa.string()),
    ("iteration", pa.int64()),
    ("n_proposed", pa.int64()),
    ("elapsed", pa.float64()),
    ("timestamp", _TIMESTAMP),
    ("error", pa.string()),
    # proxy rows: when the worker finished scoring (timestamp is when the search logged it, in ask order)
    ("scored_at", _TIMESTAMP),
    # proxy rows: scoring attempts of the arch's chunk (more than 1: requeued after a worker failure)
    ("attempts", pa.int64()),
    # derive rows (a supernet-training search, e.g. rarts): seconds its training epochs took on its device, over
    # every resume; GPU-seconds where `device` is cuda:*; null elsewhere and in older logs
    ("train_device_seconds", pa.float64()),
]
_NON_NULL = {"schema_version", "run_id", "search_id", "stage", "arch"}
_KEY = ("search_id", "stage", "arch")
#: a registered name, or a parameterised family's ``prefix:PARAM`` (``evolved:/abs/best.json``)
_PROXY_NAME = re.compile(r"^[a-z][a-z0-9_]*(:[^\x00-\x1f]+)?$")
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PART_NAME = re.compile(r"^part-(\d{6,})-[0-9a-f]{8}\.parquet$")


def _check_proxy_names(proxies: Sequence[str]) -> list[str]:
    if isinstance(proxies, str):
        raise ValueError("proxies must be a sequence of names, not a single string")
    names = [str(p) for p in proxies]
    base = {name for name, _ in _BASE_BEFORE_PROXIES + _BASE_AFTER_PROXIES}
    for name in names:
        if not _PROXY_NAME.match(name):
            raise ValueError(
                f"proxy name {name!r} must be lower-case letters, digits and '_' (e.g. 'meco'), "
                f"optionally with ':PARAM' (e.g. 'evolved:best.json')"
            )
        if PROXY_PREFIX + name in base:
            raise ValueError(f"proxy name {name!r} clashes with the base column {PROXY_PREFIX + name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate proxy names in {names}")
    return names


def log_schema(proxies: Sequence[str]) -> pa.Schema:
    """Base columns plus one nullable ``proxy_<name>`` float64 column per proxy."""
    names = _check_proxy_names(proxies)
    fields = [pa.field(n, t, nullable=n not in _NON_NULL) for n, t in _BASE_BEFORE_PROXIES]
    fields += [pa.field(PROXY_PREFIX + p, pa.float64()) for p in names]
    fields += [pa.field(n, t) for n, t in _BASE_AFTER_PROXIES]
    return pa.schema(fields, metadata={"zeronas.schema_version": str(SCHEMA_VERSION)})


def proxy_columns(schema: pa.Schema) -> list[str]:
    """The ``proxy_<name>`` value columns of a schema (``proxy_seconds`` is not one)."""
    return [n for n in schema.names if n.startswith(PROXY_PREFIX) and n != "proxy_seconds"]


def _as_timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):  # epoch seconds, as time.time() gives
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    raise ValueError(f"timestamp must be a datetime or epoch seconds, got {type(value).__name__}")


class PartFiles:
    """Numbered Parquet part files in one directory, each written atomically.

    ``part-<seq:06d>-<uuid8>.parquet`` through :func:`~zeronas._atomic.atomic_write`, so a
    reader (``pyarrow.dataset`` skips names starting with ``.`` or ``_``) never sees a torn
    file and a process killed mid-write leaves no visible part. Shared by the search log and
    ``zeronas score``.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        existing = self.existing()
        self._next_seq = max((int(_PART_NAME.match(p.name).group(1)) for p in existing), default=-1) + 1

    def existing(self) -> list[Path]:
        """The complete part files already in the directory, in write order."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if _PART_NAME.match(p.name))

    def write(self, table: pa.Table) -> Path:
        final = self.directory / f"part-{self._next_seq:06d}-{uuid.uuid4().hex[:8]}.parquet"
        with atomic_write(final) as fh:
            pq.write_table(table, fh, compression="zstd")
        self._next_seq += 1
        return final


class LogWriter:
    """Buffers rows of one run and writes them as atomic Parquet part files.

    A resumed run (same ``root`` and ``run_id``) loads the keys already written, so a
    ``(search_id, stage, arch)`` key is never written twice. Used by the driver only;
    a lock makes ``append``/``flush`` safe from callback threads.
    """

    def __init__(
        self,
        root: str | Path,
        run_id: str,
        proxies: Sequence[str],
        *,
        flush_rows: int = 256,
        flush_seconds: float = 5.0,
        config: Mapping | None = None,
    ) -> None:
        if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
            raise ZeronasError(
                f"run id {run_id!r} is not usable as a directory name; use letters, digits, '.', '_' or '-'"
            )
        if flush_rows < 1:
            raise ValueError("flush_rows must be at least 1")
        self.run_id = run_id
        self.proxies = _check_proxy_names(proxies)
        self.schema = log_schema(self.proxies)
        self.flush_rows = int(flush_rows)
        self.flush_seconds = float(flush_seconds)
        self.run_dir = Path(root) / f"{RUN_PARTITION}={run_id}"
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ZeronasError(f"cannot create log directory {self.run_dir}: {err.strerror}") from err
        self._lock = threading.Lock()
        self._buffer: list[dict] = []
        self._keys: set[tuple[str, str, str]] = set()
        self._parts = PartFiles(self.run_dir)
        self._closed = False
        self.rows_written = 0
        self._load_existing()
        self._write_run_config(config)
        self._last_flush = time.monotonic()

    # -- setup -----------------------------------------------------------------
    def _load_existing(self) -> None:
        parts = self._parts.existing()
        if not parts:
            return
        keys = ds.dataset([str(p) for p in parts], format="parquet").to_table(columns=list(_KEY))
        self._keys.update(zip(*(keys.column(c).to_pylist() for c in _KEY)))

    def _write_run_config(self, config: Mapping | None) -> None:
        path = self.run_dir / RUN_CONFIG_NAME
        now = datetime.now(timezone.utc).isoformat()
        info: dict[str, Any]
        if path.is_file():
            info = json.loads(path.read_text())
            info.setdefault("resumed", []).append(now)
            info["proxies"] = list(dict.fromkeys(list(info.get("proxies", [])) + self.proxies))
            if config is not None:
                info["config"] = dict(config)
        else:
            info = {
                "run_id": self.run_id,
                "schema_version": SCHEMA_VERSION,
                "created": now,
                "proxies": self.proxies,
                "config": dict(config or {}),
            }
        try:
            data = json.dumps(info, indent=2, sort_keys=True, default=str).encode()
        except (TypeError, ValueError) as err:
            raise ValueError(f"run config is not JSON-serialisable: {err}") from err
        with atomic_write(path) as fh:
            fh.write(data)

    # -- rows --------------------------------------------------------------------
    def _normalise(self, row: Mapping) -> dict:
        out = self._checked(row)
        try:  # type-check now so one bad row cannot poison a whole flush
            pa.Table.from_pylist([out], schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise ValueError(f"row does not fit the log schema: {err}") from err
        return out

    def _checked(self, row: Mapping) -> dict:
        """The row with its defaults filled in, its columns, key and stage checked (not yet its types)."""
        unknown = set(row) - set(self.schema.names)
        if unknown:
            raise ValueError(f"unknown log columns {sorted(unknown)}; known: {self.schema.names}")
        out = dict(row)
        out.setdefault("schema_version", SCHEMA_VERSION)
        if out.setdefault("run_id", self.run_id) != self.run_id:
            raise ValueError(f"row run_id {out['run_id']!r} differs from the writer's {self.run_id!r}")
        for name in _KEY:
            if not isinstance(out.get(name), str) or not out[name]:
                raise ValueError(f"row needs a non-empty string {name!r}")
        if out["stage"] not in STAGES:
            raise ValueError(f"stage {out['stage']!r} is not one of {STAGES}")
        out["timestamp"] = _as_timestamp(out.get("timestamp")) or datetime.now(timezone.utc)
        out["scored_at"] = _as_timestamp(out.get("scored_at"))
        return out

    def append(self, row: Mapping) -> bool:
        """Buffer one row; False (and nothing buffered) if its key was already logged."""
        return self._add([self._normalise(row)]) == 1

    def extend(self, rows: Iterable[Mapping]) -> int:
        """Append many rows; returns how many were new.

        The rows are type-checked together (one Arrow conversion per call, not per row: the writer
        keeps up with a pool delivering tens of thousands of rows a second); if any does not fit,
        they are appended one by one, so the rows before the bad one are kept and it raises."""
        rows = list(rows)
        try:
            outs = [self._checked(row) for row in rows]
            pa.Table.from_pylist(outs, schema=self.schema)
        except (ValueError, pa.ArrowInvalid, pa.ArrowTypeError):
            return sum(self.append(row) for row in rows)
        return self._add(outs)

    def _add(self, outs: list[dict]) -> int:
        """Buffer checked rows whose key is new; flush when due (a part file holds at most ``flush_rows``
        rows, however many arrive at once). Returns how many were new."""
        added = 0
        with self._lock:
            if self._closed:
                raise ValueError("LogWriter is closed")
            for out in outs:
                key = (out["search_id"], out["stage"], out["arch"])
                if key in self._keys:
                    continue
                self._keys.add(key)
                self._buffer.append(out)
                added += 1
                if len(self._buffer) >= self.flush_rows:
                    self._flush_locked()
            if self._buffer and time.monotonic() - self._last_flush >= self.flush_seconds:
                self._flush_locked()
        return added

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        table = pa.Table.from_pylist(self._buffer, schema=self.schema)
        self._parts.write(table)
        self.rows_written += table.num_rows
        self._buffer.clear()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_locked()
                self._closed = True

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LogWriter({str(self.run_dir)!r}, proxies={self.proxies}, buffered={len(self._buffer)})"


# -- reading ---------------------------------------------------------------------
def _is_run_dir(path: Path) -> bool:
    return path.is_dir() and path.name.startswith(f"{RUN_PARTITION}=")


def find_run_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """The ``run=<id>`` directories named by ``paths`` (OUT dirs, run dirs or part files)."""
    found: list[Path] = []
    for raw in _as_path_list(paths):
        path = Path(raw)
        if not path.exists():
            raise ZeronasError(
                f"log path {path} does not exist; pass a search output directory, a run=<id> directory or a part file"
            )
        if path.is_file():
            candidates = [path.parent] if _is_run_dir(path.parent) else []
        elif _is_run_dir(path):
            candidates = [path]
        else:
            candidates = sorted(p for p in path.iterdir() if _is_run_dir(p))
            if not candidates:
                raise ZeronasError(
                    f"{path} holds no run=<id> directories; pass the output directory of 'zeronas search'"
                )
        found += [c for c in candidates if c not in found]
    return found


def _as_path_list(paths: Sequence[str | Path] | str | Path) -> list[str | Path]:
    if isinstance(paths, (str, Path)):
        return [paths]
    paths = list(paths)
    if not paths:
        raise ZeronasError("no log paths given; pass at least one search output directory")
    return paths


def find_part_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every visible part file under ``paths``, in a stable order."""
    files: list[Path] = []
    for raw in _as_path_list(paths):
        path = Path(raw)
        if path.is_file():
            if path.suffix != ".parquet":
                raise ZeronasError(f"{path} is not a Parquet file; pass a .parquet part file or a log directory")
            files.append(path.resolve())
            continue
        for run_dir in find_run_dirs([path]):
            files += sorted(p.resolve() for p in run_dir.glob("*.parquet") if not p.name.startswith((".", "_")))
    return list(dict.fromkeys(files))


def open_log(paths: Sequence[str | Path] | str | Path) -> ds.Dataset:
    """A ``pyarrow.dataset`` over one or many runs, with a unified schema.

    Runs with different proxy sets read together: missing ``proxy_*`` columns come
    back as nulls. The ``run`` column is the hive partition key of each file's
    ``run=<id>`` directory, so ``ds.field("run") == ...`` prunes whole files.
    """
    files = find_part_files(paths)
    if not files:
        shown = ", ".join(str(p) for p in _as_path_list(paths))
        raise ZeronasError(f"no log rows under {shown}: the run has not written any part files yet")
    schemas = {}
    for f in files:
        try:
            schema = pq.read_schema(f)
        except (pa.ArrowInvalid, OSError) as err:
            raise ZeronasError(f"{f} is not a readable Parquet log file: {err}") from err
        schemas.setdefault(str(schema), schema)
    try:
        unified = pa.unify_schemas(list(schemas.values()), promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise ZeronasError(f"log files have incompatible schemas: {err}") from err
    unified = unified.with_metadata({"zeronas.schema_version": str(SCHEMA_VERSION)})
    partitioning = ds.partitioning(pa.schema([(RUN_PARTITION, pa.string())]), flavor="hive")
    if RUN_PARTITION not in unified.names:
        unified = unified.append(pa.field(RUN_PARTITION, pa.string()))
    return ds.dataset([str(f) for f in files], schema=unified, format="parquet", partitioning=partitioning)


def read_run_config(run_dir: str | Path) -> dict:
    """The ``_run.json`` of a run directory."""
    path = Path(run_dir) / RUN_CONFIG_NAME
    if not path.is_file():
        raise ZeronasError(f"{path} not found; pass a run=<id> directory written by 'zeronas search'")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ZeronasError(f"{path} is not valid JSON ({err.msg} at line {err.lineno})") from err
