"""Shared fixtures. One Ray session serves every test that needs Ray."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tss_csv(shared_data: Path) -> Path:
    path = shared_data / "nats_tss" / "cifar10.csv"
    if not path.is_file():
        pytest.skip(f"NATS-Bench TSS ground truth not found at {path}")
    return path


@pytest.fixture(scope="session")
def darts_csv(shared_data: Path) -> Path:
    path = shared_data / "darts" / "nb301_naslib_725.csv"
    if not path.is_file():
        pytest.skip(f"NAS-Bench-301 DARTS ground truth not found at {path}")
    return path


@pytest.fixture(scope="session")
def images_dir(shared_data: Path) -> Path:
    path = shared_data / "images"
    if not path.is_dir():
        pytest.skip(f"shared CIFAR images not found at {path}")
    return path


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole run: 2 CPUs and 2 *logical* GPUs, so that GPU placement
    (one scorer per GPU, fractional packing) is exercised on a CPU-only machine; the
    scorers still compute on CPU because torch sees no CUDA device."""
    import ray

    if not ray.is_initialized():
        os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
        ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray


def write_fake_cifar(root: Path, n_train: int = 200, n_test: int = 100, seed: int = 0) -> Path:
    """A CIFAR-10 python-batches directory of *learnable* synthetic images: the class sets the
    mean colour of the image. Same pickle layout as the real `cifar-10-batches-py`."""
    import pickle

    import numpy as np

    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    palette = rng.integers(0, 256, size=(10, 3))

    def batch(n: int) -> dict:
        labels = rng.integers(0, 10, size=n)
        base = palette[labels][:, :, None, None]
        noise = rng.normal(0, 20, size=(n, 3, 32, 32))
        images = np.clip(base + noise, 0, 255).astype(np.uint8).reshape(n, -1)
        return {"data": images, "labels": labels.tolist()}

    per = max(1, n_train // 5)
    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump(batch(per), f)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump(batch(n_test), f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    return folder


@pytest.fixture(scope="session")
def fake_cifar(tmp_path_factory) -> Path:
    return write_fake_cifar(tmp_path_factory.mktemp("cifar"), n_train=100, n_test=50)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Small-tensor torch ops on a loaded 2-core machine run far slower with 2 threads than 1."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
