"""The Parquet log: schema, atomic flushes, resume without repeats, multi-run reads."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from zeronas.errors import ZeronasError
from zeronas.logs import (
    SCHEMA_VERSION,
    LogWriter,
    find_run_dirs,
    log_schema,
    open_log,
    proxy_columns,
    read_run_config,
)


def row(i: int, search: str = "rea-s0", stage: str = "proxy", **extra) -> dict:
    return {"search_id": search, "algorithm": "rea", "seed": 0, "space": "tss", "dataset": "cifar10",
            "stage": stage, "arch": f"arch-{i}", "score": float(i), "iteration": i + 1, "elapsed": 0.5 * i,
            **extra}  # fmt: skip


def parts(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("part-*.parquet"))


# -- schema --------------------------------------------------------------------------------
def test_schema_matches_the_documented_columns():
    schema = log_schema(["meco", "synflow"])
    assert schema.names[:13] == ["schema_version", "run_id", "search_id", "algorithm", "seed", "space", "dataset",
                                 "stage", "arch", "index", "canonical", "score", "objective"]  # fmt: skip
    assert schema.names[13:15] == ["proxy_meco", "proxy_synflow"]
    assert schema.names[-5:] == ["timestamp", "error", "scored_at", "attempts", "train_device_seconds"]
    assert schema.field("schema_version").type == pa.int16()
    assert schema.field("timestamp").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("proxy_meco").type == pa.float64() and schema.field("proxy_meco").nullable
    assert not schema.field("arch").nullable
    assert proxy_columns(schema) == ["proxy_meco", "proxy_synflow"]  # proxy_seconds is not a proxy
    assert len(log_schema([])) == len(schema) - 2


@pytest.mark.parametrize("bad", [["Meco"], ["seconds"], ["meco", "meco"], ["a-b"], "meco"])
def test_bad_proxy_names(bad):
    with pytest.raises(ValueError):
        log_schema(bad)


# -- writing -------------------------------------------------------------------------------------
def test_flushes_by_rows_and_reads_while_open(tmp_path):
    writer = LogWriter(tmp_path, "r1", ["meco"], flush_rows=3, flush_seconds=3600, config={"algo": "rea"})
    run_dir = tmp_path / "run=r1"
    for i in range(7):
        assert writer.append(row(i, proxy_meco=i / 10))
    assert len(parts(run_dir)) == 2 and writer.buffered == 1
    # a reader sees the flushed rows only, never the buffered one
    assert ds.dataset(run_dir, format="parquet").count_rows() == 6
    assert open_log([tmp_path]).count_rows() == 6
    writer.close()
    table = open_log([tmp_path]).to_table().sort_by("iteration")
    assert table.num_rows == 7 and len(parts(run_dir)) == 3
    assert table.column("proxy_meco").to_pylist() == pytest.approx([i / 10 for i in range(7)])
    assert set(table.column("run_id").to_pylist()) == {"r1"} and set(table.column("run").to_pylist()) == {"r1"}
    assert set(table.column("schema_version").to_pylist()) == {SCHEMA_VERSION}
    # rows missing columns get nulls
    assert table.column("worker_id").null_count == 7 and table.column("accuracy").null_count == 7
    assert [p.name.split("-")[1] for p in parts(run_dir)] == ["000000", "000001", "000002"]
    assert not list(run_dir.glob(".*"))  # no temp files left


def test_flushes_by_time_and_context_manager(tmp_path):
    with LogWriter(tmp_path, "t", [], flush_rows=10_000, flush_seconds=0.0) as writer:
        writer.append(row(0))
        writer.append(row(1))
        assert len(parts(tmp_path / "run=t")) == 2  # each append found the interval elapsed
    with LogWriter(tmp_path, "u", [], flush_rows=10_000, flush_seconds=3600) as writer:
        writer.extend(row(i) for i in range(5))
        assert not parts(tmp_path / "run=u")
    assert len(parts(tmp_path / "run=u")) == 1
    with pytest.raises(ValueError, match="closed"):
        writer.append(row(9))


def test_readers_never_see_a_torn_file(tmp_path):
    writer = LogWriter(tmp_path, "c", ["meco"], flush_rows=1)
    done = threading.Event()

    def produce():
        for i in range(150):
            writer.append(row(i, proxy_meco=float(i)))
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    seen = []
    while not done.is_set():
        try:
            seen.append(open_log([tmp_path]).count_rows())
        except ZeronasError:  # before the first part file
            continue
    thread.join()
    writer.close()
    assert seen == sorted(seen) and open_log([tmp_path]).count_rows() == 150
    # a stray temp file of a crashed writer is invisible to readers
    (tmp_path / "run=c" / ".part-000999-deadbeef.parquet.tmp").write_bytes(b"half a file")
    assert open_log([tmp_path]).count_rows() == 150


def test_resume_drops_repeated_keys(tmp_path):
    with LogWriter(tmp_path, "r", ["meco"], config={"budget": 10}) as w:
        assert w.extend([row(0), row(1), row(0, stage="validate", accuracy=93.1)]) == 3
        assert not w.append(row(1))  # buffered already
    first = read_run_config(tmp_path / "run=r")
    with LogWriter(tmp_path, "r", ["meco", "snip"]) as w:
        assert not w.append(row(0)) and not w.append(row(0, stage="validate"))
        assert w.append(row(0, search="rea-s1"))  # same arch, other search: a new key
        assert w.append(row(2))
        assert ("rea-s0", "proxy", "arch-2") in w
    table = open_log([tmp_path]).to_table()
    keys = list(zip(*(table.column(c).to_pylist() for c in ("search_id", "stage", "arch"))))
    assert len(keys) == len(set(keys)) == 5
    assert [p.name.split("-")[1] for p in parts(tmp_path / "run=r")] == ["000000", "000001"]
    config = read_run_config(tmp_path / "run=r")
    assert config["created"] == first["created"] and len(config["resumed"]) == 1
    assert config["proxies"] == ["meco", "snip"] and config["config"] == {"budget": 10}
    assert config["schema_version"] == SCHEMA_VERSION and config["run_id"] == "r"


def test_extend_checks_a_batch_at_once_and_a_bad_row_keeps_the_rows_before_it(tmp_path):
    with LogWriter(tmp_path, "b", ["meco"], flush_rows=1000) as w:
        assert w.extend([row(i) for i in range(100)] + [row(0)]) == 100  # a repeat inside the batch is dropped
        with pytest.raises(ValueError, match="does not fit the log schema"):
            w.extend([row(101), row(102, proxy_meco="not a number"), row(103)])
        assert ("rea-s0", "proxy", "arch-101") in w and ("rea-s0", "proxy", "arch-103") not in w
        assert w.buffered == 101
    assert open_log([tmp_path]).count_rows() == 101


def test_row_validation(tmp_path):
    with LogWriter(tmp_path, "v", ["meco"]) as w:
        with pytest.raises(ValueError, match="unknown log columns"):
            w.append(row(0, proxy_snip=1.0))
        with pytest.raises(ValueError, match="does not fit"):
            w.append(row(0, score="high"))
        with pytest.raises(ValueError, match="'arch'"):
            w.append({"search_id": "s", "stage": "proxy"})
        with pytest.raises(ValueError, match="stage"):
            w.append(row(0, stage="scoring"))
        with pytest.raises(ValueError, match="run_id"):
            w.append(row(0, run_id="other"))
        assert w.buffered == 0  # bad rows left nothing behind
        assert w.append(row(0, timestamp=1_700_000_000.25))
        assert w.append(row(1, timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)))
        before = datetime.now(timezone.utc)
        assert w.append(row(2))
    ts = open_log([tmp_path]).to_table().sort_by("iteration").column("timestamp").to_pylist()
    assert ts[0] == datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=timezone.utc)
    assert ts[1] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert abs((ts[2] - before).total_seconds()) < 5


def test_bad_run_id_and_config_values(tmp_path):
    with pytest.raises(ZeronasError, match="run id"):
        LogWriter(tmp_path, "a/b", [])
    with pytest.raises(ValueError, match="flush_rows"):
        LogWriter(tmp_path, "f", [], flush_rows=0)
    LogWriter(tmp_path, "j", [], config={"out": tmp_path / "x"}).close()  # non-JSON values are stored as text
    assert read_run_config(tmp_path / "run=j")["config"] == {"out": str(tmp_path / "x")}


# -- reading -----------------------------------------------------------------------------------------
def test_two_runs_with_different_proxies_read_together(tmp_path):
    with LogWriter(tmp_path, "a", ["meco"]) as w:
        w.extend(row(i, proxy_meco=float(i)) for i in range(3))
    other = tmp_path / "elsewhere"
    with LogWriter(other, "b", ["synflow", "snip"]) as w:
        w.extend(row(i, proxy_synflow=10.0 * i, proxy_snip=-1.0) for i in range(4))
    dataset = open_log([tmp_path, other / "run=b"])
    assert {"proxy_meco", "proxy_synflow", "proxy_snip", "run"} <= set(dataset.schema.names)
    table = dataset.to_table().sort_by([("run", "ascending"), ("iteration", "ascending")])
    assert table.column("run").to_pylist() == ["a"] * 3 + ["b"] * 4
    assert table.column("proxy_meco").to_pylist() == [0.0, 1.0, 2.0, None, None, None, None]
    assert table.column("proxy_synflow").to_pylist() == [None] * 3 + [0.0, 10.0, 20.0, 30.0]
    # filters and projection push down to the files
    only_b = dataset.to_table(columns=["arch", "proxy_snip"], filter=ds.field("run") == "b")
    assert only_b.num_rows == 4 and only_b.column_names == ["arch", "proxy_snip"]
    # single part files work too, and the same file named twice is read once
    part = parts(tmp_path / "run=a")[0]
    assert open_log([part, part]).count_rows() == 3


def test_open_log_errors(tmp_path):
    with pytest.raises(ZeronasError, match="does not exist"):
        open_log([tmp_path / "missing"])
    with pytest.raises(ZeronasError, match="no run=<id> directories"):
        open_log([tmp_path])
    (tmp_path / "run=empty").mkdir()
    with pytest.raises(ZeronasError, match="no log rows"):
        open_log([tmp_path])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ZeronasError, match="not a Parquet file"):
        open_log([tmp_path / "notes.txt"])
    with pytest.raises(ZeronasError, match="no log paths"):
        open_log([])
    with pytest.raises(ZeronasError, match="_run.json not found"):
        read_run_config(tmp_path / "run=empty")
    assert find_run_dirs([tmp_path]) == [tmp_path / "run=empty"]


def test_written_files_are_plain_parquet(tmp_path):
    with LogWriter(tmp_path, "p", ["meco"]) as w:
        w.append(row(0, proxy_meco=1.5, worker_id="scorer-0", node="n1", device="cpu", proxy_seconds=0.1))
    file = parts(tmp_path / "run=p")[0]
    table = pq.read_table(file)
    assert table.schema.equals(log_schema(["meco"]), check_metadata=False)
    assert table.to_pylist()[0]["worker_id"] == "scorer-0"
    assert json.loads((tmp_path / "run=p" / "_run.json").read_text())["proxies"] == ["meco"]
