"""Shared fixtures. One Ray session serves every test that needs Ray."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import zeronas.inputs

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# One OpenMP/BLAS thread in every process of the suite (Ray's workers and the CLI subprocesses inherit it): two
# xdist workers already fill the two cores, and idle OpenMP and OpenBLAS threads spin-wait for work (the proxy
# and network tests burn 20 % less CPU). Read when torch and numpy load, so before any test imports them.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
# Bytecode caches even where PYTHONDONTWRITEBYTECODE is set (as on this project's CI machine): without them pytest
# rewrites every test module again in each xdist worker, and each of the suite's ~300 processes (Ray workers, CLI
# subprocesses) compiles zeronas from source. Written to the gitignored __pycache__ folders.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: the folders zeronas looks in for data without flags; every test sees none of them unless it asks
USUAL_FOLDERS = zeronas.inputs.USUAL_FOLDERS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` run first, and among them the ``own_cluster`` ones (a Ray cluster of their own in a
    subprocess, mostly waiting on it) are spread evenly: each then overlaps CPU-bound tests on the other worker
    rather than another wait, which left a core idle for up to half a minute at a time. With ``--maxschedchunk=1``
    (pyproject's addopts) xdist hands the items out one at a time as workers free up, so the long tests spread
    over both workers and the run ends on short ones; one left for the end would keep a single worker busy while
    the other idles."""

    def marked(item: pytest.Item, name: str) -> bool:
        return item.get_closest_marker(name) is not None

    waiting = [item for item in items if marked(item, "own_cluster")]
    busy = [item for item in items if marked(item, "slow") and not marked(item, "own_cluster")]
    rest = [item for item in items if not marked(item, "slow") and not marked(item, "own_cluster")]
    step = len(busy) // max(1, len(waiting))
    ordered = []
    for k, item in enumerate(waiting):
        ordered += [item, *busy[k * step : (k + 1) * step]]
    items[:] = ordered + busy[len(waiting) * step :] + rest


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


@pytest.fixture(autouse=True)
def _ray_only_through_the_session_fixture(request):
    """A test that leaves Ray started in its process without ``ray_session`` leaves a Ray of its own settings
    to the tests after it on that xdist worker: it must ask for ``ray_session`` instead."""
    import sys

    before = "ray" in sys.modules and sys.modules["ray"].is_initialized()
    yield
    uses_session = "ray_session" in request.fixturenames
    if not before and not uses_session and "ray" in sys.modules and sys.modules["ray"].is_initialized():
        pytest.fail(f"{request.node.nodeid} started Ray without the ray_session fixture; ask for ray_session")


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole run: 2 CPUs and 2 *logical* GPUs, so that GPU placement
    (one scorer per GPU, fractional packing) is exercised on a CPU-only machine; the
    scorers still compute on CPU because torch sees no CUDA device."""
    import ray

    if not ray.is_initialized():
        os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
        # address="local": always a private Ray, never a cluster someone else started on this machine
        ray.init(
            address="local",
            num_cpus=2,
            num_gpus=2,
            include_dashboard=False,
            logging_level="ERROR",
            log_to_driver=False,
        )
    yield ray


#: well-separated class colours; class c gets _PALETTE[c % 10]
_PALETTE = [
    (200, 40, 40),
    (40, 200, 40),
    (40, 40, 200),
    (200, 200, 40),
    (200, 40, 200),
    (40, 200, 200),
    (230, 230, 230),
    (20, 20, 20),
    (130, 90, 20),
    (20, 90, 130),
]


def write_sss_truth(path: Path) -> dict[str, float]:
    """A whole-SSS ground truth made up for tests (no SSS table ships offline), written as Parquet to ``path``:
    12-epoch validation accuracy grows with the network's total width (the sum of its channel choices) from 50 to
    95 %, and 90-epoch test accuracy is one point below it. Returns the validation accuracy by arch."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zeronas.spaces import get_space

    space = get_space("sss")
    archs = [space.arch_at(i) for i in range(space.size)]
    width = np.array([sum(space.parse(a)) for a in archs], dtype=float)
    valid = 50 + 45 * width / width.max()
    columns = {"arch": archs, "cifar10_valid_acc_12ep": valid, "cifar10_test_acc_90ep": valid - 1}
    pq.write_table(pa.table(columns), path)
    return dict(zip(archs, valid.tolist(), strict=True))


def write_fake_cifar(
    root: Path,
    dataset: str = "cifar10",
    n_train: int = 200,
    n_test: int = 100,
    classes: int | None = None,
    seed: int = 0,
    test_label_shift: int = 0,
) -> Path:
    """CIFAR python batches of *learnable* synthetic images, in the real pickle layout (torchvision's
    folder and file names, ``labels`` / ``fine_labels`` + ``coarse_labels``). A class sets the mean
    colour; per-image brightness and pixel noise make it non-trivial. Labels are drawn from
    ``range(classes)`` (default: all of the data set's). ``test_label_shift`` mislabels the test
    split (image of class c labelled c + shift), so that a model good on the training distribution
    is bad on test. Returns the batches folder."""
    import pickle

    import numpy as np

    rng = np.random.default_rng(seed)
    cifar100 = dataset == "cifar100"
    classes = classes or (100 if cifar100 else 10)
    folder = root / ("cifar-100-python" if cifar100 else "cifar-10-batches-py")
    folder.mkdir(parents=True, exist_ok=True)

    def batch(n: int, shift: int = 0) -> dict:
        drawn = rng.integers(0, classes, size=n)
        colour = np.array(_PALETTE, dtype=float)[drawn % 10][:, :, None, None] * rng.uniform(0.6, 1.0, (n, 1, 1, 1))
        images = np.clip(colour + rng.normal(0, 25, size=(n, 3, 32, 32)), 0, 255).astype(np.uint8).reshape(n, -1)
        labels = (drawn + shift) % classes
        if cifar100:
            return {"data": images, "fine_labels": labels.tolist(), "coarse_labels": (labels // 5).tolist()}
        return {"data": images, "labels": labels.tolist()}

    if cifar100:
        meta = {"fine_label_names": [f"c{i}" for i in range(100)]}
        files = {"train": batch(n_train), "test": batch(n_test, test_label_shift), "meta": meta}
    else:
        per = max(1, n_train // 5)
        files = {f"data_batch_{i}": batch(per) for i in range(1, 6)}
        files.update(
            test_batch=batch(n_test, test_label_shift),
            **{"batches.meta": {"label_names": [f"c{i}" for i in range(10)]}},
        )
    for name, content in files.items():
        with open(folder / name, "wb") as f:
            pickle.dump(content, f)
    return folder


@pytest.fixture
def tune_stand_in(tmp_path, monkeypatch):
    """Run a Tune trial function in this process: see ``_tune_stand_in.TuneStandIn``."""
    import ray
    from _tune_stand_in import TuneStandIn
    from ray import tune

    stand_in = TuneStandIn(tmp_path / "reported")
    monkeypatch.setattr(ray, "get_gpu_ids", lambda: [])
    monkeypatch.setattr(tune, "get_checkpoint", lambda: stand_in.restore)
    monkeypatch.setattr(tune, "report", stand_in.report)
    return stand_in


@pytest.fixture(scope="session")
def fake_cifar(tmp_path_factory) -> Path:
    """400 training and 80 test images of 4 colour classes (chance 25 %)."""
    return write_fake_cifar(tmp_path_factory.mktemp("cifar"), n_train=400, n_test=80, classes=4)


@pytest.fixture(autouse=True, scope="session")
def _nothing_found_without_flags(tmp_path_factory):
    """Ground truth and data are looked for in the user's folders when no flag names them: point
    every such place at an empty folder, so no test depends on what this machine holds."""
    empty = tmp_path_factory.mktemp("empty-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZERONAS_HOME", str(empty / "zeronas"))
        patch.setenv("TORCH_HOME", str(empty / "torch"))
        patch.delenv("ZERONAS_DATA", raising=False)
        patch.setattr(zeronas.inputs, "USUAL_FOLDERS", ())
        yield empty
