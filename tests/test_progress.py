"""Progress output when stderr is not a terminal: plain lines, not a silent bar."""

from __future__ import annotations

import io

from zeronas._progress_lines import count_lines
from zeronas.pipeline._progress import SearchProgress


def test_count_lines_passes_items_through_and_reports_share_rate_and_total(monkeypatch):
    monkeypatch.setenv("ZERONAS_PROGRESS_SECONDS", "0")
    out = io.StringIO()
    assert list(count_lines(iter("abcd"), 4, "scored archs", stream=out)) == list("abcd")
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0].split(" in ")[0] for line in lines] == [
        "scored archs: 1/4",
        "scored archs: 2/4",
        "scored archs: 3/4",
        "scored archs: 4/4",
    ]
    assert "(50%)" in lines[1] and "/s," in lines[1] and lines[1].endswith("left")
    assert lines[-1].startswith("scored archs: 4/4 in ")


def test_count_lines_is_quiet_between_intervals(monkeypatch):
    monkeypatch.setenv("ZERONAS_PROGRESS_SECONDS", "3600")
    out = io.StringIO()
    list(count_lines(range(1000), 1000, "x", stream=out))
    assert out.getvalue().count("\n") == 1  # only the closing line


def test_search_progress_writes_summary_lines_in_a_log(monkeypatch, capsys):
    monkeypatch.setenv("ZERONAS_PROGRESS_SECONDS", "0")
    with SearchProgress(["random-s0", "rea-s0"], budget=10) as progress:
        progress.update("t1", [{"search_id": "random-s0"}], {"evals": 4, "best_score": 1.5})
        progress.update("t2", [{"search_id": "rea-s0"}], {"evals": 10, "best_score": 2.25})
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("searches: 4/20 proxy evals (20%), 0/2 searches done, best score 1.5 (random-s0)")
    assert lines[1].startswith("searches: 14/20 proxy evals (70%), 1/2 searches done, best score 2.25 (rea-s0)")
    assert lines[-1].startswith("searches: 14/20")


def test_quiet_search_progress_writes_nothing(monkeypatch, capsys):
    monkeypatch.setenv("ZERONAS_PROGRESS_SECONDS", "0")
    with SearchProgress(["a"], budget=None, quiet=True) as progress:
        progress.update("t", [{"search_id": "a"}], {"evals": 3, "best_score": 1.0})
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_score_command_logs_progress_lines(monkeypatch, capsys, tmp_path):
    from zeronas.cli import main

    monkeypatch.setenv("ZERONAS_PROGRESS_SECONDS", "0")
    assert (
        main(["score", "--space", "tss", "--sample", "3", "--proxies", "params", "--out", str(tmp_path / "s.parquet")])
        == 0
    )
    err = capsys.readouterr().err
    assert "scored archs: 1/3 (33%)" in err and "scored archs: 3/3 in " in err


def test_search_progress_shows_workers_still_coming_up(monkeypatch, capsys):
    monkeypatch.setenv("ZERONAS_PROGRESS_SECONDS", "0")
    with SearchProgress(["rea-s0"], budget=10) as progress:
        progress.workers(0, 4, "GPU")
        progress.update("t1", [{"search_id": "rea-s0"}], {"evals": 2, "best_score": 1.0})
        progress.workers(4, 4, "GPU")
        progress.update("t1", [{"search_id": "rea-s0"}], {"evals": 6, "best_score": 1.0})
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("searches: 0/10 proxy evals (0%), 0/1 searches done, waiting for GPU workers: 0 of 4 up")
    assert "2/10 proxy evals" in lines[1] and "waiting for GPU workers: 0 of 4 up" in lines[1]
    assert "6/10 proxy evals" in lines[2] and "workers" not in lines[2]
