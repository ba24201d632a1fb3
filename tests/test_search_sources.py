"""`zeronas search` with no flags: ground truth and a real proxy input found where a user keeps them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import USUAL_FOLDERS, write_fake_cifar

import zeronas.inputs
from zeronas.cli import main
from zeronas.cli._search import build_spec, resolve_sources
from zeronas.errors import ZeronasError
from zeronas.logs import open_log
from zeronas.proxies import ArchScorer


@pytest.fixture()
def user(tmp_path, monkeypatch) -> Path:
    """A user's machine as zeronas sees it, all inside tmp_path: ``HOME``, the working directory, no variable
    naming a data or cache folder (so the defaults under ``HOME`` apply), and the real usual folders
    (``./data``, ``~/data``, ``~/.torch``). What this machine holds in those places cannot leak in."""
    home = tmp_path / "user"
    (home / "work").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "work")
    for variable in ("ZERONAS_HOME", "ZERONAS_DATA", "TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(zeronas.inputs, "USUAL_FOLDERS", USUAL_FOLDERS)
    return home


@pytest.mark.slow
def test_search_without_flags_uses_the_cached_table_and_data(ray_session, tss_csv, user, tmp_path, capsys):
    home = user / ".cache" / "zeronas"  # zeronas's cache when $ZERONAS_HOME is not set
    (home / "benchmarks").mkdir(parents=True)
    shutil.copy(tss_csv, home / "benchmarks" / "tss.csv")
    data = write_fake_cifar(home / "data", n_train=10, n_test=5)
    out = tmp_path / "runs"
    argv = ["search", "--budget", "4", "--top-k", "2", "--out", str(out), "--quiet", "--device", "cpu"]
    assert main([*argv, "--workers", "1"]) == 0
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


def test_nothing_found_means_noise_and_a_hint(user, tmp_path):
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


@pytest.mark.parametrize("folder", USUAL_FOLDERS)
def test_a_copy_in_a_usual_folder_is_found_and_named(user, folder, capsys):
    place = user / "work" / "data" if folder == "./data" else user / folder.removeprefix("~/")
    batches = write_fake_cifar(place, n_train=10, n_test=5)
    sources = resolve_sources(build_spec({}))
    assert sources.proxy_input.kind == "real" and sources.proxy_input.path == batches
    assert sources.lines()[1] == f"proxy input: real cifar10 images from {batches} (found in {folder})"
