"""``zeronas score`` end to end, in-process."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from zeronas.cli import main
from zeronas.proxies import ArchScorer
from zeronas.spaces import get_space


def test_score_sample_writes_one_row_per_arch(tmp_path: Path, capsys):
    out = tmp_path / "scores.parquet"
    rc = main(
        [
            "score",
            "--space",
            "tss",
            "--proxies",
            "meco,synflow,nwot",
            "--sample",
            "4",
            "--seed",
            "3",
            "--batch-size",
            "4",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert printed.startswith("proxy input: Gaussian noise (no cifar10 copy in ")
    assert "wrote 4 architectures x 3 proxies" in printed
    table = pq.read_table(out)
    assert json.loads(table.schema.metadata[b"zeronas.proxy_input"]) == {
        "input": "noise",
        "data": None,
        "found_in": None,
        "batch_size": 4,
        "seed": 3,
    }
    assert table.column_names == [
        "arch",
        "index",
        "in_space",
        "meco",
        "meco_seconds",
        "meco_error",
        "synflow",
        "synflow_seconds",
        "synflow_error",
        "nwot",
        "nwot_seconds",
        "nwot_error",
    ]
    rows = table.to_pylist()
    space = get_space("tss")
    assert len({r["arch"] for r in rows}) == 4
    scorer = ArchScorer(space="tss", proxies=["meco", "synflow", "nwot"], seed=3, batch_size=4)
    for row in rows:
        assert row["index"] == space.index_of(row["arch"]) and row["in_space"] is True
        expected = scorer.score(row["arch"])
        for p in ("meco", "synflow", "nwot"):
            assert row[p] == pytest.approx(expected.values[p], rel=1e-9)
            assert row[f"{p}_error"] is None and row[f"{p}_seconds"] >= 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp file left behind"
    # same seed, same sample
    again = tmp_path / "again.parquet"
    assert main(["score", "--proxies", "params", "--sample", "4", "--seed", "3", "--out", str(again)]) == 0
    assert pq.read_table(again).column("arch").to_pylist() == table.column("arch").to_pylist()


def test_score_arch_file_keeps_order_and_nulls(tmp_path: Path):
    archs = [
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    ]
    file = tmp_path / "archs.txt"
    file.write_text("# two archs\n" + archs[0] + "\n\n" + archs[1] + "\n" + archs[0] + "\n")
    out = tmp_path / "sub" / "s.parquet"
    assert (
        main(["score", "--proxies", "meco,jacov,params", "--archs", str(file), "--batch-size", "4", "--out", str(out)])
        == 0
    )
    rows = pq.read_table(out).to_pylist()
    assert [r["arch"] for r in rows] == archs
    dead = rows[1]  # the all-none cell: only stem and residual blocks carry signal
    assert 0 < dead["meco"] < rows[0]["meco"]
    assert dead["params"] > 0
    assert (dead["jacov"] is None) == (dead["jacov_error"] is not None)
    if dead["jacov"] is not None:
        assert math.isfinite(dead["jacov"])


def test_score_errors_are_one_line_exit_2(tmp_path: Path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|\n"
        "|conv_9x9~0|+|bogus|\n"
    )
    out = tmp_path / "x.parquet"
    cases = [
        (["--archs", str(bad)], f"{bad}, line 2: not a tss architecture"),
        (["--archs", str(tmp_path / "missing.txt")], "cannot read arch file"),
        (["--sample", "0"], "--sample must be between 1 and 15,625"),
        (["--sample", "2", "--proxies", "meco,nope"], "unknown proxy 'nope'"),
        (["--sample", "2", "--dataset", "svhn"], "unknown dataset 'svhn'"),
        (["--sample", "2", "--data", str(tmp_path / "nodata")], "does not exist"),
        (["--sample", "2", "--workers", "-1"], "--workers must be 0"),
        (["--sample", "2", "--workers", "1", "--wait-for-workers", "soon"], "--wait-for-workers"),
    ]
    for extra, message in cases:
        rc = main(["score", "--out", str(out), *extra])
        err = capsys.readouterr().err
        assert rc == 2, extra
        assert message in err and err.count("\n") == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_score_with_shared_images(tmp_path: Path, images_dir: Path):
    out = tmp_path / "real.parquet"
    assert (
        main(
            [
                "score",
                "--proxies",
                "meco,zico",
                "--sample",
                "2",
                "--data",
                str(images_dir),
                "--batch-size",
                "8",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = pq.read_table(out).to_pylist()
    assert all(r["meco"] is not None and r["zico"] is not None for r in rows)
    recorded = json.loads(pq.read_table(out).schema.metadata[b"zeronas.proxy_input"])
    assert (recorded["input"], recorded["data"], recorded["found_in"]) == ("real", str(images_dir.resolve()), "--data")


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path, monkeypatch):
    import pyarrow as pa

    from zeronas.proxies import write_parquet_atomic

    out = tmp_path / "t.parquet"
    write_parquet_atomic(pa.table({"a": [1]}), out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", boom)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomic(pa.table({"a": [2]}), out)
    monkeypatch.undo()
    assert pq.read_table(out).column("a").to_pylist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
