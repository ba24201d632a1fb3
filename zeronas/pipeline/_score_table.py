"""``--scores-from DIR``: proxy values a search takes from a ``zeronas score`` table instead of rescoring.

A cached value is only valid for the same proxy function, so the table's protocol (space, dataset,
input kind and images, batch size, proxy seed, proxy options, zeronas version) must match the run's,
else one line and exit 2. The proxy seed is pinned to the table's unless ``--proxy-seed`` names it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeronas.errors import ZeronasError

_PROTOCOL_KEY = b"zeronas.protocol"
_INPUT_KEY = b"zeronas.proxy_input"
#: cost columns a table may hold as proxies; the search log has its own columns for them
_COSTS = ("params", "flops")


@dataclass(frozen=True)
class TableProtocol:
    """How a table's values were measured (its schema metadata)."""

    protocol: dict[str, Any]
    data: str | None
    proxies: list[str]


def read_protocol(path: str | Path) -> TableProtocol:
    """The table's protocol and proxy columns, read from one part file's schema (cheap)."""
    import pyarrow.parquet as pq

    directory = Path(path).expanduser()
    parts = sorted(directory.glob("part-*.parquet")) if directory.is_dir() else [directory]
    if not parts or not parts[0].is_file():
        raise ZeronasError(f"--scores-from {path}: no part files there; pass a directory 'zeronas score' wrote")
    schema = pq.read_schema(parts[0])
    meta = schema.metadata or {}
    if _PROTOCOL_KEY not in meta:
        raise ZeronasError(
            f"--scores-from {path}: the table does not record how it was measured (older 'zeronas score'); rescore it"
        )
    protocol = json.loads(meta[_PROTOCOL_KEY])
    data = json.loads(meta[_INPUT_KEY]).get("data") if _INPUT_KEY in meta else None
    proxies = [n for n in schema.names if f"{n}_error" in schema.names]
    return TableProtocol(protocol, data, proxies)


def check_protocol(
    table: TableProtocol,
    path: str,
    *,
    run: Mapping[str, Any],
    data: str | None,
    proxies: list[str],
    proxy_seed: int | None,
) -> int:
    """Raise one ZeronasError line when the table was measured otherwise than this run would; return the
    proxy seed the run must use (the table's)."""
    t = table.protocol
    diffs = [f"{k} {t.get(k)!r} (this run: {v!r})" for k, v in run.items() if k != "proxy_options" and t.get(k) != v]
    if t.get("input_kind") == "real" and data and table.data and Path(table.data).resolve() != Path(data).resolve():
        diffs.append(f"images {table.data} (this run: {data})")
    table_options = t.get("proxy_options") or {}
    run_options = run.get("proxy_options") or {}
    for name in proxies:
        if dict(table_options.get(name) or {}) != dict(run_options.get(name) or {}):
            diffs.append(f"{name} options {table_options.get(name) or {}} (this run: {run_options.get(name) or {}})")
    if proxy_seed is not None and proxy_seed != t.get("seed"):
        diffs.append(f"proxy seed {t.get('seed')!r} (this run: --proxy-seed {proxy_seed})")
    missing = [p for p in proxies if p not in table.proxies]
    if missing:
        diffs.append(f"no column for {', '.join(missing)} (it holds {', '.join(table.proxies)})")
    if diffs:
        raise ZeronasError(
            f"--scores-from {path} was measured otherwise than this run: {'; '.join(diffs)}; "
            "run with the table's settings or score a table with yours"
        )
    return int(t["seed"])


def load_values(path: str | Path, proxies: list[str]) -> dict[str, dict[str, Any]]:
    """arch -> ``{"values": {proxy: value}, "errors": {...}, "params", "flops"}`` for every arch in the table."""
    import pyarrow.dataset as ds

    columns = ["arch"] + [c for p in proxies for c in (p, f"{p}_error")]
    names = set(ds.dataset(str(path), format="parquet").schema.names)
    columns += [c for c in _COSTS if c in names and c not in columns]
    rows = ds.dataset(str(path), format="parquet").to_table(columns=columns).to_pylist()
    return {
        r["arch"]: {
            "values": {p: r[p] for p in proxies},
            "errors": {p: r[f"{p}_error"] for p in proxies},
            "params": int(r["params"]) if r.get("params") is not None else None,
            "flops": r.get("flops"),
        }
        for r in rows
    }


def cached_output(arch: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """A table entry in the form a scorer worker returns, marked ``cached`` (no worker, no seconds)."""
    return {
        "result": {
            "arch": arch,
            "values": dict(entry["values"]),
            "errors": dict(entry["errors"]),
            "seconds": {p: 0.0 for p in entry["values"]},
        },
        "params": entry["params"],
        "flops": entry["flops"],
        "cached": True,
    }
