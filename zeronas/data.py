"""Image loading for proxies and training: CIFAR python batches and PNG folders.

Two on-disk layouts are understood:

* the standard CIFAR "python version" batches (``cifar-10-batches-py/data_batch_1..5``
  + ``test_batch``; ``cifar-100-python/train`` + ``test``), given either as that
  directory or as its parent;
* a folder of PNGs whose names end in ``_<label>.png`` (for example
  ``cifar10_03_0.png``), optionally prefixed by the dataset name.

Images are returned as ``uint8`` arrays of shape ``N x 3 x H x W`` and labels as
``int64``; :func:`to_tensor` scales and normalises them for a network.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from zeronas.datasets import canonical_dataset
from zeronas.errors import ZeronasError

__all__ = [
    "CIFAR_MEAN",
    "CIFAR_STD",
    "CIFAR_FOLDERS",
    "augment_crop_flip",
    "find_cifar",
    "load_cifar",
    "load_image_folder",
    "load_images",
    "normaliser",
    "tensors_on",
    "to_tensor",
]

#: per-channel mean / std of the training set, in [0, 1] pixel units (NATS-Bench values)
CIFAR_MEAN: dict[str, tuple[float, float, float]] = {
    "cifar10": (0.4914, 0.4822, 0.4465),
    "cifar100": (0.5071, 0.4865, 0.4409),
    "imagenet16": (0.4811, 0.4575, 0.4078),
}
CIFAR_STD: dict[str, tuple[float, float, float]] = {
    "cifar10": (0.2470, 0.2435, 0.2616),
    "cifar100": (0.2673, 0.2564, 0.2762),
    "imagenet16": (0.2605, 0.2533, 0.2683),
}

#: the folder each CIFAR archive unpacks to (torchvision's ``base_folder``)
CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
_BATCH_DIRS = CIFAR_FOLDERS
_BATCH_FILES = {
    ("cifar10", "train"): [f"data_batch_{i}" for i in range(1, 6)],
    ("cifar10", "test"): ["test_batch"],
    ("cifar100", "train"): ["train"],
    ("cifar100", "test"): ["test"],
}
_LABEL_KEYS = {"cifar10": "labels", "cifar100": "fine_labels"}
_PNG_LABEL = re.compile(r"_(\d+)\.png$", re.IGNORECASE)


def _cifar_dataset(dataset: str) -> str:
    name = canonical_dataset(dataset)
    if name not in _BATCH_DIRS:
        raise ZeronasError(f"CIFAR python batches exist only for cifar10/cifar100, not {dataset!r}")
    return name


def _batches_dir(root: Path, dataset: str, split: str) -> Path | None:
    """The directory holding the split's first batch: ``root`` itself or ``root/<standard name>``."""
    first = _BATCH_FILES[(dataset, split)][0]
    for candidate in (root, root / _BATCH_DIRS[dataset]):
        if (candidate / first).is_file():
            return candidate
    return None


def find_cifar(root: str | Path, dataset: str) -> Path | None:
    """The CIFAR batches directory under ``root`` (``root`` itself or ``root/cifar-10-batches-py`` ...),
    or None; a directory holding either split counts. None for datasets without python batches."""
    name = canonical_dataset(dataset)
    if name not in _BATCH_DIRS:
        return None
    root = Path(root).expanduser()
    return _batches_dir(root, name, "train") or _batches_dir(root, name, "test")


def load_cifar(
    root: str | Path, dataset: str = "cifar10", split: str = "train", limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load CIFAR python batches. Returns ``(uint8 N x 3 x 32 x 32, int64 N)``.

    ``root`` may be the ``cifar-10-batches-py`` / ``cifar-100-python`` directory
    or its parent. CIFAR-100 uses the fine (100-class) labels. ``limit`` keeps the first
    ``limit`` images and reads no batch file past them.
    """
    name = _cifar_dataset(dataset)
    if split not in ("train", "test"):
        raise ZeronasError(f"unknown CIFAR split {split!r}; use 'train' or 'test'")
    root = Path(root)
    files = _BATCH_FILES[(name, split)]
    expected = f"{root}/{_BATCH_DIRS[name]}/{{{','.join(files)}}} (or those files directly in {root})"
    folder = _batches_dir(root, name, split)
    if folder is None:
        raise ZeronasError(f"no {name} python batches found under {root}; expected {expected}")
    images, labels = [], []
    for file in files:
        path = folder / file
        try:
            with open(path, "rb") as fh:
                batch = pickle.load(fh, encoding="latin1")
            data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            target = np.asarray(batch[_LABEL_KEYS[name]], dtype=np.int64)
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as err:
            raise ZeronasError(
                f"cannot read CIFAR batch {path} ({type(err).__name__}: {err}); expected {expected}"
            ) from None
        if len(data) != len(target):
            raise ZeronasError(f"CIFAR batch {path} has {len(data)} images but {len(target)} labels")
        images.append(data)
        labels.append(target)
        if limit is not None and sum(map(len, images)) >= limit:
            break
    return np.concatenate(images)[:limit], np.concatenate(labels)[:limit]


def _png_files(root: Path, dataset: str | None) -> list[Path]:
    files = sorted(p for p in root.iterdir() if p.is_file() and _PNG_LABEL.search(p.name))
    if dataset is not None:
        prefix = canonical_dataset(dataset) + "_"
        files = [p for p in files if p.name.lower().startswith(prefix)]
    return files


def load_image_folder(root: str | Path, dataset: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load ``*_<label>.png`` files from a folder, sorted by name.

    With ``dataset`` only files named ``<dataset>_...`` are read (``cifar10_`` does
    not match ``cifar100_``). All images must have the same size.
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise ZeronasError(f"image folder {root} does not exist; expected PNG files named like cifar10_00_3.png")
    files = _png_files(root, dataset)
    if not files:
        which = f"{canonical_dataset(dataset)}_*_<label>.png" if dataset else "*_<label>.png"
        raise ZeronasError(f"no images matching {which} in {root}")
    images, labels = [], []
    for path in files:
        try:
            with Image.open(path) as img:
                array = np.asarray(img.convert("RGB"), dtype=np.uint8)
        except (OSError, UnidentifiedImageError) as err:
            raise ZeronasError(f"cannot read image {path}: {err}") from None
        images.append(array.transpose(2, 0, 1))
        labels.append(int(_PNG_LABEL.search(path.name).group(1)))
    shapes = {img.shape for img in images}
    if len(shapes) != 1:
        raise ZeronasError(f"images in {root} have different sizes {sorted(shapes)}; use one size")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def load_images(
    root: str | Path, dataset: str, split: str = "train", limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR batches if ``root`` holds them, else an image folder filtered by ``dataset``.

    For batches, ``split`` is used when present, otherwise the other split; an
    image folder has no splits. ``limit`` keeps the first ``limit`` images.
    """
    root = Path(root)
    name = canonical_dataset(dataset)
    if not root.exists():
        raise ZeronasError(f"data path {root} does not exist; give a CIFAR batches directory or a PNG folder")
    if name in _BATCH_DIRS:
        other = "test" if split == "train" else "train"
        for which in (split, other):
            if _batches_dir(root, name, which) is not None:
                return load_cifar(root, name, split=which, limit=limit)
    images, labels = load_image_folder(root, name)
    return images[:limit], labels[:limit]


def to_tensor(images: np.ndarray, dataset: str) -> torch.Tensor:
    """``uint8 N x 3 x H x W`` -> float32 tensor scaled to [0, 1] and normalised per channel."""
    name = canonical_dataset(dataset)
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[1] != 3:
        raise ZeronasError(f"expected images of shape N x 3 x H x W, got {array.shape}")
    x = torch.from_numpy(np.ascontiguousarray(array)).float().div_(255.0)
    mean = torch.tensor(CIFAR_MEAN[name]).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD[name]).view(1, 3, 1, 1)
    return (x - mean) / std


def tensors_on(images: np.ndarray, labels: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``uint8`` images and their labels as tensors on ``device`` (still ``uint8``: normalise per batch)."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device), torch.from_numpy(labels).to(device)


def normaliser(dataset: str, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """Maps a ``uint8`` batch to the network's input: float, normalised by the dataset's mean and std."""
    mean = torch.tensor(CIFAR_MEAN[dataset], device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(CIFAR_STD[dataset], device=device).view(1, 3, 1, 1) * 255

    def normalise(images: torch.Tensor) -> torch.Tensor:
        return (images.float() - mean) / std

    return normalise


def augment_crop_flip(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (zero padding ``pad``) and horizontal flip of a ``uint8 B x 3 x H x W`` batch, as CIFAR
    training does (NATS-Bench, DARTS)."""
    n, _, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(images.device)
    flip = (torch.rand(n, generator=generator) < 0.5).to(images.device)
    rows = dy[:, None] + torch.arange(h, device=images.device)  # n x h
    cols = dx[:, None] + torch.arange(w, device=images.device)  # n x w
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    batch = torch.arange(n, device=images.device)[:, None, None]
    crops = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # n x h x w x 3
    return crops.permute(0, 3, 1, 2)
