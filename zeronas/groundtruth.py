"""Ground-truth accuracies and costs of NATS-Bench architectures.

Two backends behind one interface, picked by :func:`open_ground_truth`:

* **table** — a Parquet or CSV file with an ``arch`` column (optionally ``index``) and metric
  columns ``<dataset>_<split>_acc_<epochs>ep`` (``cifar10_test_acc_200ep``), plus optional cost
  columns ``<dataset>_params`` (millions), ``<dataset>_flops`` (MFLOPs) and
  ``<dataset>_latency`` (seconds). ``zeronas benchmark export`` writes this format. A DARTS table
  (``nb301_naslib_725.csv``) names its arch column ``genotype`` and its one metric column after
  NAS-Bench-301's training protocol: ``cifar10_valid_acc_nb301`` (validation only).
* **nats** — an official NATS-Bench fast-mode directory (``NATS-tss-v1_0-3ffb9-simple`` /
  ``NATS-sss-v1_0-50262-simple``) read through the ``nats_bench`` API.

Accuracies are in %, averaged over the benchmark's seeds, and follow
``get_more_info(..., is_random=False)``: test accuracy of CIFAR-10 comes from the network trained on
train+valid (``cifar10``/``ori-test``), its validation accuracy from the one trained on train only
(``cifar10-valid``/``x-valid``); CIFAR-100 and ImageNet16-120 use their ``x-test``/``x-valid`` halves.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zeronas._atomic import atomic_write
from zeronas.datasets import DATASETS, canonical_dataset
from zeronas.errors import ZeronasError
from zeronas.spaces import SearchSpace, get_space

__all__ = [
    "GroundTruth",
    "GroundTruthLocation",
    "NatsBenchGroundTruth",
    "TableGroundTruth",
    "cached_table_path",
    "column_name",
    "export",
    "locate_ground_truth",
    "open_ground_truth",
]

METRICS = ("test", "valid")
#: default training schedule per space: NATS-Bench's full training (epochs), NAS-Bench-301's protocol
DEFAULT_EPOCHS: dict[str, int | str] = {"tss": 200, "sss": 90, "darts": "nb301"}
#: default split per space: NAS-Bench-301 holds validation accuracy only
DEFAULT_METRIC = {"tss": "test", "sss": "test", "darts": "valid"}
#: names of the arch column, in order of preference
ARCH_COLUMNS = ("arch", "genotype")
#: schedule of the default validation signal per space: NATS-Bench's short (``hp='12'``) runs on the
#: valid split; NAS-Bench-301's validation column for DARTS
VALIDATION_EPOCHS: dict[str, int | str] = {"tss": 12, "sss": 12, "darts": "nb301"}
#: fast-mode directory names of the official benchmark files
NATS_DIRS = {"tss": "NATS-tss-v1_0-3ffb9-simple", "sss": "NATS-sss-v1_0-50262-simple"}
#: zeronas dataset name -> NATS-Bench dataset name
NATS_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "ImageNet16-120"}
COSTS = ("params", "flops", "latency")
_RESULT_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")
_METRIC_COLUMN = re.compile(
    r"^(?P<dataset>[a-z0-9]+)_(?P<metric>test|valid)_acc_(?:(?P<epochs>\d+)ep|(?P<schedule>[a-z][a-z0-9]*))$"
)


def column_name(dataset: str, metric: str, epochs: int | str) -> str:
    """``<dataset>_<metric>_acc_<epochs>ep``, or ``..._acc_<schedule>`` for a named protocol (``nb301``)."""
    schedule = epochs if isinstance(epochs, str) and not epochs.isdigit() else f"{int(epochs)}ep"
    return f"{canonical_dataset(dataset)}_{metric}_acc_{schedule}"


def parse_column_name(name: str) -> tuple[str, str, int | str] | None:
    """``(dataset, metric, epochs)`` of a ``column_name`` (epochs a named schedule like ``nb301``), or None."""
    match = _METRIC_COLUMN.match(name)
    if match is None:
        return None
    return match["dataset"], match["metric"], int(match["epochs"]) if match["epochs"] else match["schedule"]


def _space(space: str | SearchSpace) -> SearchSpace:
    return space if isinstance(space, SearchSpace) else get_space(space)


class GroundTruth(ABC):
    """Benchmark results for one search space."""

    def __init__(self, space: str | SearchSpace, source: str) -> None:
        self.space = _space(space)
        self.source = source

    # -- what a backend provides -------------------------------------------------------------
    @abstractmethod
    def available(self) -> list[str]:
        """Metric columns this backend holds, as ``<dataset>_<split>_acc_<epochs>ep`` names."""

    @abstractmethod
    def _value(self, arch: str, column: str) -> float | None: ...

    @abstractmethod
    def _cost(self, arch: str, dataset: str, cost: str) -> float | None: ...

    @abstractmethod
    def _archs(self) -> Iterator[str]:
        """Archs the backend has results for."""

    # -- public lookups --------------------------------------------------------------------------
    def resolve(self, dataset: str, metric: str = "test", epochs: int | str | None = None) -> str:
        """The metric column for a query; ZeronasError if the backend does not hold it."""
        if metric not in METRICS:
            raise ZeronasError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
        if epochs is None:
            epochs = DEFAULT_EPOCHS[self.space.name]
        name = column_name(dataset, metric, epochs)
        if name not in self.available():
            held = ", ".join(self.available()) or "none"
            raise ZeronasError(f"{self.source} has no column {name}; it has: {held}")
        return name

    def lookup(self, arch: str, dataset: str, metric: str = "test", epochs: int | str | None = None) -> float | None:
        """Accuracy (%) of ``arch``, or None when the benchmark has no result for it."""
        column = self.resolve(dataset, metric, epochs)
        return self._value(self.space.validate(arch), column)

    def params(self, arch: str, dataset: str = "cifar10") -> float | None:
        """Parameters in millions as NATS-Bench records them (None if unknown)."""
        return self._cost(self.space.validate(arch), canonical_dataset(dataset), "params")

    def flops(self, arch: str, dataset: str = "cifar10") -> float | None:
        """MFLOPs as NATS-Bench records them (None if unknown)."""
        return self._cost(self.space.validate(arch), canonical_dataset(dataset), "flops")

    def latency(self, arch: str, dataset: str = "cifar10") -> float | None:
        """Seconds per batch of 256 as NATS-Bench records them (None if unknown)."""
        return self._cost(self.space.validate(arch), canonical_dataset(dataset), "latency")

    def column(self, dataset: str, metric: str = "test", epochs: int | str | None = None) -> dict[str, float]:
        """arch -> accuracy for every arch with a result, for bulk joins."""
        column = self.resolve(dataset, metric, epochs)
        result = {}
        for arch in self._archs():
            value = self._value(arch, column)
            if value is not None:
                result[arch] = value
        return result

    def best(self, dataset: str, metric: str = "test", epochs: int | str | None = None) -> float:
        """Best known accuracy (for regret)."""
        values = self.column(dataset, metric, epochs)
        if not values:
            raise ZeronasError(f"{self.source} has no {metric} accuracy for {dataset}")
        return max(values.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.space.name!r}, {self.source!r})"


def _finite(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


# -- table backend -------------------------------------------------------------------------
class TableGroundTruth(GroundTruth):
    """A Parquet/CSV table with an ``arch`` (or ``genotype``) column and metric columns."""

    def __init__(self, path: str | Path, space: str | SearchSpace) -> None:
        path = Path(path)
        super().__init__(space, str(path))
        table = _read_table(path)
        arch_column = next((name for name in ARCH_COLUMNS if name in table.column_names), None)
        if arch_column is None:
            raise ZeronasError(
                f"ground-truth table {path} has no 'arch' column; columns: {', '.join(table.column_names)}"
            )
        try:
            archs = [self.space.validate(a) for a in table.column(arch_column).to_pylist()]
        except ValueError as err:
            raise ZeronasError(f"ground-truth table {path} is not a {self.space.name} table: {err}") from None
        self._row = {arch: i for i, arch in enumerate(archs)}
        self._columns = {
            name: table.column(name).to_pylist()
            for name in table.column_names
            if _METRIC_COLUMN.match(name) or name.rsplit("_", 1)[-1] in COSTS
        }

    def available(self) -> list[str]:
        return sorted(c for c in self._columns if _METRIC_COLUMN.match(c))

    def _value(self, arch: str, column: str) -> float | None:
        row = self._row.get(arch)
        return None if row is None else _finite(self._columns[column][row])

    def _cost(self, arch: str, dataset: str, cost: str) -> float | None:
        values = self._columns.get(f"{dataset}_{cost}")
        row = self._row.get(arch)
        return None if values is None or row is None else _finite(values[row])

    def _archs(self) -> Iterator[str]:
        return iter(self._row)


def _read_table(path: Path) -> pa.Table:
    if not path.is_file():
        raise ZeronasError(f"ground-truth table {path} not found; pass --benchmark PATH to an existing file")
    try:
        if path.suffix == ".parquet":
            return pq.read_table(path)
        if path.suffix == ".csv":
            return pacsv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise ZeronasError(f"cannot read ground-truth table {path}: {err}") from None
    raise ZeronasError(f"ground-truth table {path} must end in .parquet or .csv")


# -- NATS-Bench directory backend ----------------------------------------------------------
class NatsBenchGroundTruth(GroundTruth):
    """An official NATS-Bench fast-mode directory, read with ``nats_bench.create(..., fast_mode=True)``."""

    def __init__(self, directory: str | Path, space: str | SearchSpace) -> None:
        import nats_bench

        directory = Path(directory)
        super().__init__(space, str(directory))
        if not (directory / "meta.pickle.pbz2").is_file():
            raise ZeronasError(
                f"{directory} is not a NATS-Bench fast-mode directory (no meta.pickle.pbz2); "
                f"point --benchmark at the {NATS_DIRS[self.space.name]} directory or set $TORCH_HOME"
            )
        # keep the official API from printing to our stdout
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            self.api = nats_bench.create(str(directory), self.space.name, fast_mode=True, verbose=False)
        self.directory = directory
        self._available: list[str] | None = None

    @functools.cached_property
    def _present(self) -> frozenset[int]:
        # One directory listing instead of a stat per index (32,768 for SSS).
        names = (entry.name for entry in os.scandir(self.directory))
        found = (_RESULT_FILE.match(name) for name in names)
        return frozenset(i for i in (int(m[1]) for m in found if m) if i < len(self.api))

    def indices(self) -> list[int]:
        """Indices whose result file is present."""
        return sorted(self._present)

    def _index(self, arch: str) -> int | None:
        index = self.api.query_index_by_arch(arch)
        return index if index in self._present else None

    def _results(self, index: int) -> dict:
        """hp -> ArchResults of one arch (loaded by the API and cached by it)."""
        self.api._prepare_info(index)  # noqa: SLF001 - the fast-mode loader of the official API
        return self.api.arch2infos_dict[index]

    def forget(self, index: int) -> None:
        """Drop an arch's loaded results (the API keeps every loaded arch in memory)."""
        self.api.arch2infos_dict.pop(index, None)
        self.api.evaluated_indexes.discard(index)

    def available(self) -> list[str]:
        if self._available is None:
            present = self.indices()
            columns: set[str] = set()
            if present:
                for hp, results in self._results(present[0]).items():
                    names = set(results.get_dataset_names())
                    for dataset, nats_name in NATS_DATASETS.items():
                        for metric in METRICS:
                            if _nats_source(nats_name, metric)[0] in names:
                                columns.add(f"{dataset}_{metric}_acc_{int(hp)}ep")
            self._available = sorted(columns)
        return self._available

    def _value(self, arch: str, column: str) -> float | None:
        index = self._index(arch)
        if index is None:
            return None
        match = _METRIC_COLUMN.match(column)
        assert match is not None
        return _nats_accuracy(self._results(index), match["dataset"], match["metric"], int(match["epochs"]))

    def _cost(self, arch: str, dataset: str, cost: str) -> float | None:
        index = self._index(arch)
        return None if index is None else _nats_costs(self._results(index), dataset).get(cost)

    def _archs(self) -> Iterator[str]:
        for index in self.indices():
            yield self.space.validate(self.api.meta_archs[index])


def _nats_source(nats_dataset: str, metric: str) -> tuple[str, str]:
    """(NATS dataset, evaluation set) behind a metric, as ``get_more_info`` reads them."""
    if nats_dataset == "cifar10":
        return ("cifar10-valid", "x-valid") if metric == "valid" else ("cifar10", "ori-test")
    return nats_dataset, "x-valid" if metric == "valid" else "x-test"


def _hp_key(results: dict, epochs: int) -> str | None:
    for key in results:
        if int(key) == epochs:
            return key
    return None


def _nats_accuracy(results: dict, dataset: str, metric: str, epochs: int) -> float | None:
    hp = _hp_key(results, epochs)
    if hp is None:
        return None
    arch_results = results[hp]
    nats_dataset, setname = _nats_source(NATS_DATASETS[dataset], metric)
    if nats_dataset not in arch_results.get_dataset_names():
        return None
    try:
        info = arch_results.get_metrics(nats_dataset, setname, iepoch=None, is_random=False)
    except (KeyError, ValueError):
        return None
    return _finite(info.get("accuracy"))


def _nats_costs(results: dict, dataset: str) -> dict[str, float | None]:
    # Costs come from the 12-epoch runs when present: NATS-Bench fixed a legacy params/flops
    # mix-up there (api v1.6) and the network is the same for every schedule.
    hp = "12" if "12" in results else next(iter(results))
    arch_results = results[hp]
    nats_dataset = NATS_DATASETS[dataset]
    if nats_dataset not in arch_results.get_dataset_names():
        return {}
    costs = arch_results.get_compute_costs(nats_dataset)
    return {name: _finite(costs.get(name)) for name in COSTS}


# -- opening ---------------------------------------------------------------------------------
def _default_dir(space: SearchSpace) -> Path:
    from nats_bench.api_utils import get_torch_home

    return Path(get_torch_home()) / NATS_DIRS[space.name]


def _space_name(space: str | SearchSpace) -> str:
    """The canonical name, or the name as given for a space whose plugin is not loaded yet."""
    try:
        return _space(space).name
    except ZeronasError:
        return str(space).strip().lower()


def cached_table_path(space: str | SearchSpace) -> Path:
    """Where ``zeronas benchmark export`` writes by default: ``<zeronas home>/benchmarks/<space>.parquet``."""
    from zeronas._home import benchmarks_dir

    return benchmarks_dir() / f"{_space_name(space)}.parquet"


@dataclass(frozen=True)
class GroundTruthLocation:
    """Where a run's ground truth comes from: ``path`` and how it was found, or None and how to get one."""

    path: Path | None
    found_in: str | None = None
    hint: str | None = None

    def describe(self) -> str:
        """One line for the run's output."""
        if self.path is None:
            return f"ground truth: none, so accuracies are '-'. {self.hint}"
        return f"ground truth: {self.path} ({self.found_in})"


def locate_ground_truth(path: str | Path | None, space: str | SearchSpace) -> GroundTruthLocation:
    """``path`` when given; else the NATS-Bench fast-mode directory under ``$TORCH_HOME``; else the table
    ``zeronas benchmark export`` wrote to zeronas's cache (``.parquet``, or a ``.csv`` put there by hand)."""
    if path is not None:
        return GroundTruthLocation(Path(path).expanduser(), "--benchmark")
    name = _space_name(space)
    places = []
    if name in NATS_DIRS:
        from nats_bench.api_utils import get_torch_home

        directory = Path(get_torch_home()) / NATS_DIRS[name]
        if directory.is_dir():
            return GroundTruthLocation(directory, "found under $TORCH_HOME")
        places.append(f"no {NATS_DIRS[name]} under $TORCH_HOME ({directory.parent})")
    table = cached_table_path(name)
    for candidate in (table, table.with_suffix(".csv")):
        if candidate.is_file():
            return GroundTruthLocation(candidate, "found in zeronas's cache, $ZERONAS_HOME")
    places.append(f"no {table}")
    how = f"run `zeronas benchmark export --space {name} --from DIR` once" if name in NATS_DIRS else "put a table there"
    missing = " and ".join(places)
    hint = f"{missing[0].upper()}{missing[1:]}: {how}, or pass --benchmark PATH."
    return GroundTruthLocation(None, hint=hint)


def open_ground_truth(path: str | Path | None, space: str | SearchSpace) -> GroundTruth:
    """Open a ground-truth table (``.parquet``/``.csv``) or NATS-Bench fast-mode directory.

    ``path=None`` looks where :func:`locate_ground_truth` looks.
    """
    space = _space(space)
    located = locate_ground_truth(path, space)
    if located.path is None:
        raise ZeronasError(f"no NATS-Bench {space.name.upper()} ground truth found. {located.hint}")
    path = located.path
    if not path.exists():
        raise ZeronasError(
            f"benchmark {path} not found; pass --benchmark PATH (a .parquet/.csv table or the "
            f"{NATS_DIRS[space.name]} directory) or set $TORCH_HOME"
        )
    stat = path.stat()
    return _open_cached(str(path.resolve()), stat.st_mtime_ns, space.name)


@functools.lru_cache(maxsize=8)
def _open_cached(path: str, mtime_ns: int, space: str) -> GroundTruth:
    target = Path(path)
    if target.is_dir():
        return NatsBenchGroundTruth(_nats_dir(target, get_space(space)), space)
    return TableGroundTruth(target, space)


def _nats_dir(directory: str | Path | None, space: SearchSpace) -> Path:
    """The fast-mode directory to read: ``directory`` itself, its NATS-Bench subfolder, or $TORCH_HOME's."""
    target = _default_dir(space) if directory is None else Path(directory).expanduser()
    if not target.is_dir():
        raise ZeronasError(
            f"no NATS-Bench {space.name.upper()} directory at {target}; point --from/--benchmark at the "
            f"{NATS_DIRS[space.name]} directory or set $TORCH_HOME to the folder holding it"
        )
    if not (target / "meta.pickle.pbz2").is_file() and (target / NATS_DIRS[space.name]).is_dir():
        target = target / NATS_DIRS[space.name]
    return target


# -- export ----------------------------------------------------------------------------------
def export(src_dir: str | Path | None, space: str | SearchSpace, out_path: str | Path, progress: bool = True) -> int:
    """Write every arch of a NATS-Bench directory to a ground-truth table; returns the row count.

    Columns: ``index``, ``arch``, one ``<dataset>_<split>_acc_<epochs>ep`` per dataset, split and
    schedule the directory holds, and ``<dataset>_params``/``_flops``/``_latency``. The output
    (``.parquet`` or ``.csv``) is written to a temporary file and renamed into place.
    """
    from tqdm import tqdm

    space = _space(space)
    out_path = Path(out_path)
    if out_path.suffix not in (".parquet", ".csv"):
        raise ZeronasError(f"output {out_path} must end in .parquet or .csv")
    source = NatsBenchGroundTruth(_nats_dir(src_dir, space), space)
    metric_columns = source.available()
    cost_columns = [f"{d}_{c}" for d in DATASETS for c in COSTS]
    data: dict[str, list] = {"index": [], "arch": [], **{c: [] for c in metric_columns + cost_columns}}
    indices = source.indices()
    if not indices:
        raise ZeronasError(f"{source.source} holds no result files ({{index:06d}}.pickle.pbz2)")
    for index in tqdm(indices, desc=f"export {space.name}", unit="arch", disable=not progress):
        results = source._results(index)
        data["index"].append(index)
        data["arch"].append(space.validate(source.api.meta_archs[index]))
        for name in metric_columns:
            match = _METRIC_COLUMN.match(name)
            assert match is not None
            data[name].append(_nats_accuracy(results, match["dataset"], match["metric"], int(match["epochs"])))
        for dataset in DATASETS:
            costs = _nats_costs(results, dataset)
            for cost in COSTS:
                data[f"{dataset}_{cost}"].append(costs.get(cost))
        source.forget(index)
    schema = pa.schema(
        [("index", pa.int64()), ("arch", pa.string())] + [(c, pa.float64()) for c in metric_columns + cost_columns]
    )
    table = pa.Table.from_pydict(data, schema=schema)
    _write_atomic(table, out_path)
    return table.num_rows


def _write_atomic(table: pa.Table, out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_path) as fh:
        if out_path.suffix == ".parquet":
            pq.write_table(table, fh)
        else:
            pacsv.write_csv(table, fh)
