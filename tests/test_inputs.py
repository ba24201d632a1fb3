"""Proxy inputs found without flags, and `zeronas data download` against an archive built here."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_fake_cifar

import zeronas.download
import zeronas.inputs
from zeronas.cli import main
from zeronas.data import load_cifar
from zeronas.download import Archive, download_cifar
from zeronas.errors import ZeronasError
from zeronas.inputs import resolve_proxy_input
from zeronas.proxies import ArchScorer


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ZERONAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_data_is_looked_for_in_order(tmp_path, home, monkeypatch):
    usual = write_fake_cifar(tmp_path / "usual", n_train=5, n_test=2).parent
    monkeypatch.setattr(zeronas.inputs, "USUAL_FOLDERS", (str(tmp_path / "nothing"), str(usual)))
    found = resolve_proxy_input(None, "cifar10")
    assert (found.kind, found.path, found.found_in) == ("real", usual / "cifar-10-batches-py", f"found in {usual}")
    cached = write_fake_cifar(home / "data", n_train=5, n_test=2)
    assert resolve_proxy_input(None, "CIFAR-10").path == cached
    env = write_fake_cifar(tmp_path / "env", n_train=5, n_test=2)
    monkeypatch.setenv("ZERONAS_DATA", str(env))  # the batches folder itself works too
    assert resolve_proxy_input(None, "cifar10").record() == {
        "input": "real",
        "data": str(env),
        "found_in": "found in $ZERONAS_DATA",
    }
    given = resolve_proxy_input(tmp_path / "mine", "cifar10")
    assert (given.path, given.found_in) == (tmp_path / "mine", "--data")
    # CIFAR-10 copies are not CIFAR-100 copies
    assert resolve_proxy_input(None, "cifar100").kind == "noise"
    # asked for noise: noise, although data is at hand
    assert resolve_proxy_input(tmp_path / "mine", "cifar10", "noise").record() == {
        "input": "noise",
        "data": None,
        "found_in": None,
    }


def test_no_copy_means_noise_with_one_line_saying_how_to_get_one(home):
    noise = resolve_proxy_input(None, "cifar10")
    line = noise.describe()
    assert noise.kind == "noise" and noise.data is None and "\n" not in line
    assert line.startswith("proxy input: Gaussian noise (no cifar10 copy in ")
    assert str(home / "data") in line and "`zeronas data download cifar10`" in line and "--input noise" in line
    with pytest.raises(ZeronasError, match=r"--input real: no cifar10 copy in .*zeronas data download cifar10"):
        resolve_proxy_input(None, "cifar10", "real")
    assert "pass --data DIR" in resolve_proxy_input(None, "imagenet16").describe()
    with pytest.raises(ZeronasError, match="unknown --input 'pictures'; choose one of: auto, real, noise"):
        resolve_proxy_input(None, "cifar10", "pictures")


def test_scorer_reads_only_the_images_it_needs(tmp_path):
    folder = write_fake_cifar(tmp_path, n_train=50, n_test=5)  # 10 images per training batch
    (folder / "data_batch_3").write_bytes(b"never read")
    images, labels = load_cifar(tmp_path, "cifar10", limit=12)
    assert images.shape == (12, 3, 32, 32) and len(labels) == 12
    scorer = ArchScorer(proxies=["nwot"], data=folder, batch_size=16)
    assert [len(x) for x, _ in scorer.batches] == [16]
    full, _ = load_cifar(tmp_path, "cifar10", limit=20)
    np.testing.assert_array_equal(full[:12], images)


def _archive(tmp_path: Path, dataset: str = "cifar10") -> tuple[Archive, Path]:
    """A tar.gz in the real archive's layout, and its Archive entry with a file:// URL."""
    source = write_fake_cifar(tmp_path / "src", dataset, n_train=10, n_test=4)
    tgz = tmp_path / f"{dataset}.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(source, arcname=source.name)
    files = {p.name: _md5(p) for p in source.iterdir()}
    return Archive(url=tgz.as_uri(), md5=_md5(tgz), folder=source.name, files=files), source


def test_download_unpacks_checks_and_is_found(tmp_path, home, monkeypatch, capsys):
    archive, source = _archive(tmp_path)
    monkeypatch.setitem(zeronas.download.ARCHIVES, "cifar10", archive)
    assert main(["data", "download", "cifar10", "--no-progress"]) == 0
    target = home / "data" / "cifar-10-batches-py"
    assert capsys.readouterr().out.strip() == f"downloaded: cifar10 in {target}"
    assert sorted(p.name for p in (home / "data").iterdir()) == ["cifar-10-batches-py"]  # no temp folder left
    for name in archive.files:
        assert (target / name).read_bytes() == (source / name).read_bytes()
    found = resolve_proxy_input(None, "cifar10")
    assert found.kind == "real" and found.path == target
    where = "found in zeronas's cache, $ZERONAS_HOME/data"
    assert found.describe() == f"proxy input: real cifar10 images from {target} ({where})"
    # an intact copy is kept; a damaged one is replaced
    assert main(["data", "download", "cifar10", "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("already there, intact")
    (target / "test_batch").write_bytes(b"damaged")
    assert download_cifar("cifar10", progress=False) == (target, True)
    assert (target / "test_batch").read_bytes() == (source / "test_batch").read_bytes()


def test_cifar100_downloads_to_its_own_folder(tmp_path, monkeypatch):
    archive, _ = _archive(tmp_path, "cifar100")
    monkeypatch.setitem(zeronas.download.ARCHIVES, "cifar100", archive)
    folder, downloaded = download_cifar("cifar100", tmp_path / "root", progress=False)
    assert downloaded and folder == tmp_path / "root" / "cifar-100-python"
    assert load_cifar(folder, "cifar100", "test")[0].shape == (4, 3, 32, 32)


@pytest.mark.parametrize("damage", ["archive", "member", "unreachable"])
def test_failed_download_is_one_line_and_leaves_nothing(tmp_path, home, monkeypatch, capsys, damage):
    archive, _ = _archive(tmp_path)
    if damage == "archive":
        archive = Archive(archive.url, "0" * 32, archive.folder, archive.files)
        expected = "arrived corrupted"
    elif damage == "member":
        archive = Archive(archive.url, archive.md5, archive.folder, {**archive.files, "test_batch": "0" * 32})
        expected = "missing or corrupted files: test_batch"
    else:
        archive = Archive((tmp_path / "gone.tar.gz").as_uri(), archive.md5, archive.folder, archive.files)
        expected = "cannot download"
    monkeypatch.setitem(zeronas.download.ARCHIVES, "cifar10", archive)
    assert main(["data", "download", "cifar10", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zeronas data: error: ") and expected in err and "\n" not in err
    assert list((home / "data").iterdir()) == []
