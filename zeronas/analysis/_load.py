"""Read the log with projection and filters pushed down to ``pyarrow.dataset`` and
arrange the proxy rows per search as numpy arrays (no pandas round trip).

Supernet rows (``supernet`` true, scored by meco-pt for its own decisions) are left out of the
proxy rows: proxy quality, regret and top-k are about architectures; ``LogData.supernet_rows``
counts them. Their evaluations still count in ``iteration``, so anytime curves keep the budget axis.

A supernet-training search (rarts, darts-1st, milenas) has no proxy rows: its one ``derive`` row (the arch
it derived, with ``train_device_seconds``) stands in the proxy table as its only candidate, unscored, so
that it is a search like the others; ``stage`` tells the two kinds of row apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from zeronas.errors import ZeronasError
from zeronas.logs import RUN_PARTITION, log_schema, open_log, proxy_columns

_BASE = log_schema([])
_PROXY_STAGE_COLUMNS = [
    "run_id", "search_id", "algorithm", "seed", "space", "dataset", "arch", "index", "canonical", "score",
    "objective", "predicted_acc", "proxy_seconds", "params", "flops", "worker_id", "node", "device", "iteration",
    "n_proposed", "elapsed", "timestamp", "error", "scored_at", "attempts", "stage", "train_device_seconds",
]  # fmt: skip
_OTHER_STAGE_COLUMNS = [
    "run_id", "search_id", "stage", "algorithm", "seed", "space", "dataset", "arch", "accuracy",
    "accuracy_source", "epochs", "elapsed",
]  # fmt: skip
_REQUIRED = ("search_id", "stage", "arch")


@dataclass
class Search:
    key: str  # run/search_id: unique across runs
    run: str
    search_id: str
    algorithm: str
    seed: int | None
    space: str
    dataset: str
    objective: str
    rows: slice  # into LogData.proxy arrays


@dataclass
class LogData:
    proxy: pa.Table  # proxy-stage rows sorted by search then iteration, plus a "search" key column
    other: pa.Table  # validate / train rows
    proxies: list[str]  # proxy_<name> columns with at least one value
    missing: list[str]  # log columns absent from every file
    supernet_rows: int = 0  # proxy-stage rows of supernets, not in ``proxy``
    searches: list[Search] = field(default_factory=list)
    n_runs: int = 0
    _arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def array(self, name: str) -> np.ndarray:
        """A proxy-row column as numpy (numbers as float with NaN, timestamps as epoch seconds); cached."""
        if name not in self._arrays:
            col = self.proxy.column(name)
            if pa.types.is_timestamp(col.type):
                arr = pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False).astype(float) / 1000.0
            elif pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
                arr = pc.cast(col, pa.float64(), safe=False).fill_null(np.nan).to_numpy(zero_copy_only=False)
            else:
                arr = col.to_numpy(zero_copy_only=False)
            arr.flags.writeable = False
            self._arrays[name] = arr
        return self._arrays[name]


def _project(dataset: ds.Dataset, wanted: list[str], filt: ds.Expression) -> tuple[pa.Table, list[str]]:
    present = [c for c in wanted if c in dataset.schema.names]
    table = dataset.to_table(columns=present + [RUN_PARTITION], filter=filt)
    missing = [c for c in wanted if c not in present]
    for name in missing:
        table = table.append_column(_BASE.field(name), pa.nulls(table.num_rows, _BASE.field(name).type))
    return table, missing


def _search_key(table: pa.Table) -> pa.ChunkedArray:
    run = pc.coalesce(table.column(RUN_PARTITION), table.column("run_id"), pa.scalar("?"))
    return pc.binary_join_element_wise(run, table.column("search_id"), "/")


def _first(values: np.ndarray, default):
    for v in values:
        if v is not None and v == v:
            return v
    return default


def _objective(score: np.ndarray, proxies: dict[str, np.ndarray]) -> str:
    """Which proxy the search maximised: the one equal to ``score`` on every row."""
    ok = np.isfinite(score)
    if not ok.any():
        return "unknown"
    for name, values in proxies.items():
        if np.allclose(values[ok], score[ok], rtol=1e-9, atol=0.0, equal_nan=False):
            return name
    return "combined" if proxies else "score"


def load(paths: Sequence[str | Path], dataset: str | None = None, space: str | None = None) -> LogData:
    dset = open_log(paths)
    absent = [c for c in _REQUIRED if c not in dset.schema.names]
    if absent:
        raise ZeronasError(f"the log lacks the columns {absent}; pass logs written by 'zeronas search'")
    # a log without a dataset column is taken to be of the --dataset given
    has_dataset = "dataset" in dset.schema.names
    dataset_filter = ds.field("dataset") == dataset if dataset and has_dataset else None

    def filt(expr: ds.Expression) -> ds.Expression:
        return expr if dataset_filter is None else expr & dataset_filter

    pcols = proxy_columns(dset.schema)
    proxy_stage = ds.field("stage") == "proxy"
    plain = proxy_stage
    if "supernet" in dset.schema.names:  # a search's own supernets (meco-pt) are no candidates: left out
        plain = proxy_stage & (ds.field("supernet").is_null() | ~ds.field("supernet"))
    derive = ds.field("stage") == "derive"
    proxy, missing = _project(dset, _PROXY_STAGE_COLUMNS + pcols, filt(plain | derive))
    supernets = dset.count_rows(filter=filt(proxy_stage | derive)) - proxy.num_rows
    other, _ = _project(dset, _OTHER_STAGE_COLUMNS, filt(~ds.field("stage").isin(["proxy", "derive"])))
    if proxy.num_rows == 0 and other.num_rows == 0:
        where = f" for dataset {dataset!r}" if dataset else ""
        raise ZeronasError(f"the log holds no rows{where}; check the path (and --dataset)")
    if proxy.num_rows == 0:
        raise ZeronasError("the log holds no proxy-stage (or derive) rows; nothing to analyse yet")

    proxy = proxy.append_column("search", _search_key(proxy))
    other = other.append_column("search", _search_key(other))
    proxy = proxy.sort_by([("search", "ascending"), ("iteration", "ascending"), ("elapsed", "ascending")])
    used = [c for c in pcols if proxy.column(c).null_count < proxy.num_rows]
    data = LogData(proxy=proxy, other=other, proxies=used, missing=missing, supernet_rows=supernets)
    data.n_runs = len(pc.unique(pc.coalesce(proxy.column(RUN_PARTITION), proxy.column("run_id"))))
    data.searches = _split_searches(data, space or "?", dataset or "?")
    return data


def _split_searches(data: LogData, default_space: str, default_dataset: str) -> list[Search]:
    keys = data.array("search")
    starts = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1, [len(keys)]])
    score = data.array("score")
    proxies = {c[len("proxy_") :]: data.array(c) for c in data.proxies}
    cols = {c: data.array(c) for c in ("algorithm", "seed", "space", "dataset", "search_id", "objective")}
    searches = []
    for a, b in zip(starts[:-1], starts[1:]):
        sl = slice(int(a), int(b))
        seed = _first(cols["seed"][sl], None)
        searches.append(
            Search(
                key=str(keys[a]),
                run=str(keys[a]).rsplit("/", 1)[0],
                search_id=str(cols["search_id"][a]),
                algorithm=str(_first(cols["algorithm"][sl], "?")),
                seed=None if seed is None else int(seed),
                space=str(_first(cols["space"][sl], default_space)),
                dataset=str(_first(cols["dataset"][sl], default_dataset)),
                # logs since the `objective` column name it; older ones are inferred
                objective=str(
                    _first(cols["objective"][sl], None) or _objective(score[sl], {k: v[sl] for k, v in proxies.items()})
                ),
                rows=sl,
            )
        )
    return searches


def per_arch_means(archs: pa.ChunkedArray | pa.Array, values: dict[str, np.ndarray]) -> tuple[list[str], dict]:
    """Distinct archs and the NaN-ignoring mean of each value column per arch."""
    enc = pc.dictionary_encode(archs)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    n = len(enc.dictionary)
    out = {}
    for name, v in values.items():
        ok = np.isfinite(v)
        total = np.bincount(codes[ok], weights=v[ok], minlength=n)
        count = np.bincount(codes[ok], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return enc.dictionary.to_pylist(), out
