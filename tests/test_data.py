from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import write_fake_cifar
from PIL import Image

from zeronas.data import CIFAR_MEAN, CIFAR_STD, load_cifar, load_image_folder, load_images, to_tensor
from zeronas.errors import ZeronasError


def _read_batches(folder: Path, names: list[str]) -> list[dict]:
    batches = []
    for name in names:
        with open(folder / name, "rb") as fh:
            batches.append(pickle.load(fh))
    return batches


@pytest.fixture()
def fake_cifar10(tmp_path: Path) -> tuple[Path, list[dict]]:
    folder = write_fake_cifar(tmp_path, n_train=20, n_test=3)
    return tmp_path, _read_batches(folder, [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"])


def test_load_cifar10_from_parent_and_dir(fake_cifar10):
    root, batches = fake_cifar10
    images, labels = load_cifar(root, "cifar10", "train")
    assert images.shape == (20, 3, 32, 32) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.tolist() == sum((b["labels"] for b in batches[:5]), [])
    # row-major CHW layout: first 1024 bytes are the red plane
    np.testing.assert_array_equal(images[0, 0].ravel(), batches[0]["data"][0, :1024])
    np.testing.assert_array_equal(images[4, 2].ravel(), batches[1]["data"][0, 2048:])
    test_images, test_labels = load_cifar(root / "cifar-10-batches-py", "cifar10", "test")
    assert test_images.shape == (3, 3, 32, 32) and test_labels.tolist() == batches[5]["labels"]


def test_load_cifar100_uses_fine_labels(tmp_path: Path):
    folder = write_fake_cifar(tmp_path, "cifar100", n_train=6, n_test=2)
    [train] = _read_batches(folder, ["train"])
    images, labels = load_cifar(tmp_path, "cifar100", "train")
    assert images.shape == (6, 3, 32, 32) and labels.tolist() == train["fine_labels"]


def test_load_cifar_errors_name_path_and_layout(tmp_path: Path, fake_cifar10):
    with pytest.raises(ZeronasError, match=r"no cifar10 python batches found under .*cifar-10-batches-py"):
        load_cifar(tmp_path / "missing", "cifar10")
    root, _ = fake_cifar10
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(ZeronasError, match=r"cannot read CIFAR batch .*data_batch_3"):
        load_cifar(root, "cifar10", "train")
    with pytest.raises(ZeronasError, match="split"):
        load_cifar(root, "cifar10", "validation")
    with pytest.raises(ZeronasError, match="cifar10/cifar100"):
        load_cifar(root, "imagenet16")


def _write_pngs(folder: Path, names: list[str], size: int = 32) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(2)
    folder.mkdir(exist_ok=True)
    written = {}
    for name in names:
        pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / name)
        written[name] = pixels
    return written


def test_load_image_folder_filters_by_dataset_prefix(tmp_path: Path):
    written = _write_pngs(tmp_path / "imgs", ["cifar10_00_3.png", "cifar10_01_7.png", "cifar100_00_42.png"])
    (tmp_path / "imgs" / "notes.txt").write_text("ignored")
    images, labels = load_image_folder(tmp_path / "imgs", "cifar10")
    assert labels.tolist() == [3, 7] and images.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(images[1], written["cifar10_01_7.png"].transpose(2, 0, 1))
    _, labels100 = load_image_folder(tmp_path / "imgs", "cifar100")
    assert labels100.tolist() == [42]
    _, all_labels = load_image_folder(tmp_path / "imgs")
    assert sorted(all_labels.tolist()) == [3, 7, 42]
    with pytest.raises(ZeronasError, match="no images matching imagenet16_"):
        load_image_folder(tmp_path / "imgs", "imagenet16")


def test_load_images_picks_layout(fake_cifar10, tmp_path: Path):
    root, batches = fake_cifar10
    images, _ = load_images(root, "cifar10")
    assert images.shape[0] == 20  # train split by default
    images, _ = load_images(root, "cifar10", split="test")
    assert images.shape[0] == 3
    _write_pngs(tmp_path / "pngs", ["cifar10_00_5.png"])
    images, labels = load_images(tmp_path / "pngs", "cifar10")
    assert images.shape == (1, 3, 32, 32) and labels.tolist() == [5]
    with pytest.raises(ZeronasError, match="does not exist"):
        load_images(tmp_path / "nowhere", "cifar10")


def test_to_tensor_normalises():
    images = np.zeros((2, 3, 4, 4), dtype=np.uint8)
    images[1] = 255
    x = to_tensor(images, "cifar10")
    assert x.dtype == torch.float32 and x.shape == (2, 3, 4, 4)
    for c in range(3):
        assert x[0, c, 0, 0].item() == pytest.approx(-CIFAR_MEAN["cifar10"][c] / CIFAR_STD["cifar10"][c], rel=1e-5)
        assert x[1, c, 0, 0].item() == pytest.approx((1 - CIFAR_MEAN["cifar10"][c]) / CIFAR_STD["cifar10"][c], rel=1e-5)
    with pytest.raises(ZeronasError, match="N x 3 x H x W"):
        to_tensor(np.zeros((2, 4, 4), dtype=np.uint8), "cifar10")


def test_shared_images(images_dir: Path):
    images, labels = load_images(images_dir, "cifar10")
    assert images.shape == (20, 3, 32, 32) and labels[:4].tolist() == [3, 8, 8, 0]
