"""Ground truth for the analysis: arch -> accuracy from ``--benchmark`` or from the log.

``--benchmark`` goes through ``zeronas.groundtruth.open_ground_truth`` (tables and
NATS-Bench directories). Without it, the log's own ``validate`` rows (ground-truth
lookups of each search's top-k) are the only truth, which covers few archs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zeronas.errors import ZeronasError

NO_TRUTH = "no ground truth: pass --benchmark PATH"


@dataclass
class Truth:
    """Accuracy per arch of one (space, dataset)."""

    values: dict[str, float] = field(default_factory=dict)
    source: str = ""
    #: best accuracy known in the whole space (None when only the log's lookups are known)
    best_known: float | None = None
    _arrays: tuple[pa.Array, pa.Array] | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.values)

    def lookup(self, archs: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Accuracies aligned with ``archs`` (NaN where unknown), vectorised in Arrow."""
        if not self.values:
            return np.full(len(archs), np.nan)
        if self._arrays is None:
            self._arrays = (
                pa.array(list(self.values), pa.string()),
                pa.array(list(self.values.values()), pa.float64()),
            )
        keys, vals = self._arrays
        idx = pc.index_in(archs, value_set=keys)
        return pc.take(vals, idx).to_numpy(zero_copy_only=False).astype(float)


def benchmark_truth(path: str | Path, space: str, dataset: str, metric: str | None, epochs: int | None) -> Truth:
    """Load arch -> accuracy of ``dataset`` from a ground-truth table or NATS-Bench directory
    (``metric=None``: the space's default split, ``valid`` for DARTS)."""
    from zeronas.groundtruth import DEFAULT_METRIC, open_ground_truth

    metric = metric or DEFAULT_METRIC.get(space, "test")

    path = Path(path)
    if not path.exists():
        raise ZeronasError(f"benchmark {path} does not exist; pass a ground-truth table or NATS-Bench directory")
    gt = open_ground_truth(path, space)
    column = gt.resolve(dataset, metric, epochs)
    values = gt.column(dataset, metric, epochs)
    if not values:
        raise ZeronasError(f"benchmark {path} has no {column} values")
    return Truth(values, f"{column} ({path.name})", max(values.values()))


def log_truth(validate_rows: pa.Table) -> Truth:
    """Ground truth the searches looked up themselves (``validate`` rows)."""
    if validate_rows.num_rows == 0:
        return Truth()
    archs = validate_rows.column("arch").to_pylist()
    accs = validate_rows.column("accuracy").to_pylist()
    sources = sorted({s for s in validate_rows.column("accuracy_source").to_pylist() if s})
    values = {a: float(v) for a, v in zip(archs, accs) if v is not None}
    return Truth(values, f"log validate rows ({', '.join(sources) or 'unknown source'})", None)


def validation_truth(path: str | Path, space: str, dataset: str, source: str | None) -> Truth:
    """The benchmark's validation signal the searches selected on: the column their ``validate`` rows name
    (``source``), else the space's default validation schedule; an empty Truth when the benchmark lacks it."""
    from zeronas.groundtruth import VALIDATION_EPOCHS, column_name, parse_column_name

    parsed = parse_column_name(source) if source else None
    if parsed is None:
        parsed = (dataset, "valid", VALIDATION_EPOCHS.get(space, 12))
    try:
        return benchmark_truth(path, space, dataset, parsed[1], parsed[2])
    except ZeronasError:
        return Truth(source=f"no {column_name(*parsed)} in {Path(path).name}")
