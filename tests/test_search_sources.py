"""`zeronas search` with no flags: ground truth and a real proxy input found where a user keeps them."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import write_fake_cifar

from zeronas.cli import main
from zeronas.cli._search import build_spec, resolve_sources
from zeronas.errors import ZeronasError
from zeronas.logs import open_log
from zeronas.proxies import ArchScorer


def test_search_without_flags_uses_the_cached_table_and_data(ray_session, tss_csv, tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("ZERONAS_HOME", str(home))
    (home / "benchmarks").mkdir(parents=True)
    shutil.copy(tss_csv, home / "benchmarks" / "tss.csv")
    data = write_fake_cifar(home / "data", n_train=10, n_test=5)
    out = tmp_path / "runs"
    assert main(["search", "--budget", "4", "--top-k", "2", "--out", str(out), "--quiet", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"ground truth: {home / 'benchmarks' / 'tss.csv'} (found in zeronas's cache, $ZERONAS_HOME)"
    assert lines[1] == f"proxy input: real cifar10 images from {data} (found in zeronas's cache, $ZERONAS_HOME/data)"
    [run_json] = out.glob("run=*/_run.json")
    spec = json.loads(run_json.read_text())["config"]["spec"]
    assert spec["benchmark"] == str(home / "benchmarks" / "tss.csv") and spec["data"] == str(data)
    rows = open_log([out]).to_table().to_pylist()
    validated = [r for r in rows if r["stage"] == "validate"]
    assert len(validated) == 2 and all(r["accuracy"] is not None for r in validated)
    # the proxies saw the first real image, not noise
    real = ArchScorer(proxies=["meco"], data=data, seed=0)
    for row in (r for r in rows if r["stage"] == "proxy"):
        assert row["proxy_meco"] == pytest.approx(real.score(row["arch"]).values["meco"], rel=1e-6)


def test_nothing_found_means_noise_and_a_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("ZERONAS_HOME", str(tmp_path / "home"))
    spec = build_spec({})
    sources = resolve_sources(spec)
    assert spec.benchmark is None and spec.data is None
    ground, proxy_input = sources.lines()
    assert ground == "ground truth: none" and proxy_input.startswith("proxy input: Gaussian noise (no cifar10 copy")
    assert "zeronas benchmark export --space tss" in sources.truth.describe()
    # --input noise keeps --data for nothing but training, which the pipeline cannot split yet
    data = write_fake_cifar(tmp_path, n_train=10, n_test=5)
    spec = build_spec({"data": str(data)})
    assert resolve_sources(spec, "noise").proxy_input.kind == "noise" and spec.data is None
    with pytest.raises(ZeronasError, match="--input noise with --data and --train-epochs"):
        resolve_sources(build_spec({"data": str(data), "train_epochs": 2}), "noise")
