"""Proxy values from ``zeronas score`` files or search run directories, as predictor rows."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zeronas.errors import ZeronasError
from zeronas.predictors._protocol import PROTOCOL_METADATA_KEY, ProxyProtocol

#: ``zeronas score`` columns that are not proxy values
_SCORE_META = ("arch", "index", "predicted_acc")
#: search-log base columns a predictor may use as features
_LOG_FEATURES = ("params", "flops")
#: suffix of the feature that holds a proxy's spread over network inits (``meco@std``)
SEED_STD = "@std"


@dataclass
class ScoreSet:
    """Distinct archs with their feature values (``rows[i]`` belongs to ``archs[i]``)."""

    archs: list[str]
    rows: list[dict[str, float | None]]
    protocol: ProxyProtocol
    names: list[str] = field(default_factory=list)  # the proxy names present
    source: str = ""


def score_file_metadata(protocol: ProxyProtocol) -> dict[bytes, bytes]:
    """Schema metadata ``zeronas score`` writes so that the file says how it was measured."""
    return {PROTOCOL_METADATA_KEY: json.dumps(protocol.to_dict()).encode()}


def load_scores(paths: str | Path | Sequence[str | Path]) -> ScoreSet:
    """A ``zeronas score`` output (a directory of part files, or one Parquet file) or search run directories;
    several of them join per arch (see ``join_scores``)."""
    if isinstance(paths, (str, Path)):
        return _load_one(Path(paths))
    sets = [_load_one(Path(p)) for p in paths]
    if not sets:
        raise ZeronasError("no --scores given; pass 'zeronas score' outputs or search output directories")
    return sets[0] if len(sets) == 1 else join_scores(sets)


def join_scores(sets: Sequence[ScoreSet]) -> ScoreSet:
    """The archs every set scored, with every set's proxies. A proxy that sets measured under different seeds
    (network init and input draw, ``zeronas score --seed``) enters as its mean over those seeds plus
    ``<proxy>@std``, its sample standard deviation (missing where fewer than 2 seeds have a value); the sets
    must agree on everything else their protocols compare."""
    first = sets[0].protocol
    for other in sets[1:]:
        diffs = first.differences(other.protocol, "first")
        if diffs:
            raise ZeronasError(f"{other.source} measured proxies differently from {sets[0].source}: {'; '.join(diffs)}")
    common = set(sets[0].archs).intersection(*(s.archs for s in sets[1:]))
    archs = [a for a in sets[0].archs if a in common]
    if not archs:
        raise ZeronasError(f"the score sets {', '.join(s.source for s in sets)} share no arch")
    # proxy -> seed -> per-arch values (a proxy in two sets of the same seed: the same measurement twice)
    by_seed: dict[str, dict[int | None, np.ndarray]] = {}
    for s in sets:
        row_of = {a: r for a, r in zip(s.archs, s.rows)}
        for name in s.names:
            column = np.array([np.nan if row_of[a].get(name) is None else row_of[a][name] for a in archs])
            by_seed.setdefault(name, {}).setdefault(s.protocol.seed, column)
    columns: dict[str, np.ndarray] = {}
    for name, seeds in by_seed.items():
        stacked = np.stack(list(seeds.values()))
        with warnings.catch_warnings():  # an arch no seed scored: NaN, which is what a missing value is here
            warnings.simplefilter("ignore", RuntimeWarning)
            columns[name] = np.nanmean(stacked, axis=0)
            if len(seeds) > 1:
                columns[name + SEED_STD] = np.nanstd(stacked, axis=0, ddof=1)
    rows = [{n: (None if np.isnan(v[i]) else float(v[i])) for n, v in columns.items()} for i in range(len(archs))]
    seeds = sorted({s.protocol.seed for s in sets}, key=lambda x: (x is None, x))
    options = {k: v for s in sets for k, v in (s.protocol.proxy_options or {}).items()}
    protocol = replace(
        first,
        seed=seeds[0],
        seed_policy=first.seed_policy if len(seeds) == 1 else f"mean of {len(seeds)} seeds",
        proxy_options=options,
    )
    return ScoreSet(archs, rows, protocol, list(columns), " + ".join(s.source for s in sets))


def _load_one(path: Path) -> ScoreSet:
    if not path.exists():
        raise ZeronasError(
            f"--scores {path} does not exist; pass a 'zeronas score' output or a search output directory"
        )
    if path.is_file() or any(path.glob("*.parquet")):
        return _load_score_file(path)
    return _load_run_dirs(path)


def _load_score_file(path: Path) -> ScoreSet:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise ZeronasError(f"{path} is not a readable Parquet file: {err}") from None
    meta = table.schema.metadata or {}
    if PROTOCOL_METADATA_KEY not in meta:
        raise ZeronasError(
            f"{path} does not record how its proxies were measured (written by an older 'zeronas score'); rescore it"
        )
    protocol = ProxyProtocol.from_dict(json.loads(meta[PROTOCOL_METADATA_KEY]))
    if "arch" not in table.column_names:
        raise ZeronasError(f"{path} has no 'arch' column; pass a file written by 'zeronas score'")
    names = [
        c
        for c in table.column_names
        if c not in _SCORE_META and not c.endswith(("_seconds", "_error")) and pa.types.is_floating(table[c].type)
    ]
    return _distinct(table, names, {n: n for n in names}, protocol, str(path))


def _load_run_dirs(path: Path) -> ScoreSet:
    from zeronas.datasets import canonical_dataset
    from zeronas.logs import find_run_dirs, open_log, proxy_columns, read_run_config
    from zeronas.spaces import get_space

    run_dirs = find_run_dirs([path])
    if not run_dirs:
        raise ZeronasError(f"{path} holds no run=<id> directories; pass a search output directory or a score file")
    protocols = set()
    for run_dir in run_dirs:
        config = read_run_config(run_dir).get("config", {})
        spec = config.get("spec", config)  # 'zeronas search' records {"spec": ..., "run": ...}
        if "space" not in spec or "batch_size" not in spec:
            raise ZeronasError(f"{run_dir} records no search configuration; pass a run written by 'zeronas search'")
        space = get_space(spec["space"]).name
        dataset = canonical_dataset(spec.get("dataset", "cifar10"))
        protocols.add(
            ProxyProtocol.of_scorer(space, dataset, spec.get("data"), spec["batch_size"], spec.get("proxy_seed", 0))
        )
    if len(protocols) > 1:
        raise ZeronasError(
            f"the runs under {path} measured proxies differently ({len(protocols)} protocols); pass one run directory"
        )
    dset = open_log([path])
    pcols = proxy_columns(dset.schema)
    extra = [c for c in _LOG_FEATURES if c in dset.schema.names]
    table = dset.to_table(columns=["arch", "stage"] + pcols + extra)
    table = table.filter(pc.equal(table["stage"], "proxy"))
    rename = {c: c[len("proxy_") :] for c in pcols}
    rename.update({c: c for c in extra if c not in rename.values()})
    return _distinct(table, list(rename), rename, protocols.pop(), str(path))


def _distinct(
    table: pa.Table, columns: list[str], rename: dict[str, str], protocol: ProxyProtocol, source: str
) -> ScoreSet:
    """One row per arch: the NaN-ignoring mean of repeated measurements."""
    from zeronas.analysis._load import per_arch_means

    values = {
        rename[c]: pc.cast(table[c], pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False) for c in columns
    }
    archs, means = per_arch_means(table["arch"], values)
    means = {name: v for name, v in means.items() if np.isfinite(v).any()}  # a column nobody logged is no feature
    rows = [{name: (None if np.isnan(v[i]) else float(v[i])) for name, v in means.items()} for i in range(len(archs))]
    return ScoreSet(archs, rows, protocol, list(means), source)


def load_truth(
    benchmark: str | Path, space: str, dataset: str, metric: str = "test", epochs: int | None = None
) -> tuple[dict[str, float], str]:
    """``arch -> accuracy`` and a description of the column, through the analysis' ground truth."""
    from zeronas.analysis._truth import benchmark_truth

    truth = benchmark_truth(benchmark, space, dataset, metric, epochs)
    return truth.values, truth.source
