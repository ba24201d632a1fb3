"""``zeronas data download``: fetch CIFAR-10/100 into zeronas's cache, checked the way torchvision checks it.

The archives, their md5 sums and the md5 of every extracted file are torchvision's own
(``torchvision.datasets.CIFAR10/CIFAR100``), and the result is torchvision's layout
(``<root>/cifar-10-batches-py``), so torchvision reads a copy made here and vice versa.
torchvision itself is not used: its PyPI wheel for Linux is the CUDA build, which fails to import
beside the CPU torch that ``install.sh`` installs (``operator torchvision::nms does not exist``), and
its CPU build is only on PyTorch's own index. The transfer uses ``torch.hub.download_url_to_file``.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import urllib.error
from dataclasses import dataclass
from pathlib import Path

from zeronas._atomic import atomic_directory
from zeronas.data import CIFAR_FOLDERS
from zeronas.datasets import canonical_dataset
from zeronas.errors import ZeronasError

__all__ = ["ARCHIVES", "Archive", "download_cifar"]


@dataclass(frozen=True)
class Archive:
    url: str
    md5: str
    #: the folder the archive unpacks to
    folder: str
    #: file in that folder -> md5
    files: dict[str, str]


ARCHIVES: dict[str, Archive] = {
    "cifar10": Archive(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a",
        folder=CIFAR_FOLDERS["cifar10"],
        files={
            "data_batch_1": "c99cafc152244af753f735de768cd75f",
            "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
            "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
            "data_batch_4": "634d18415352ddfa80567beed471001a",
            "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
            "test_batch": "40351d587109b95175f43aff81a1287e",
            "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
        },
    ),
    "cifar100": Archive(
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        md5="eb9058c3a382ffc7106e4002c42a8d85",
        folder=CIFAR_FOLDERS["cifar100"],
        files={
            "train": "16019d7e3df5f24257cddd939b257f8d",
            "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
            "meta": "7973b15100ade9c7d40fb424638fde48",
        },
    ),
}


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bad_files(folder: Path, archive: Archive) -> list[str]:
    return [name for name, md5 in archive.files.items() if not (folder / name).is_file() or _md5(folder / name) != md5]


def download_cifar(dataset: str, root: str | Path | None = None, progress: bool = True) -> tuple[Path, bool]:
    """Download and unpack ``dataset`` into ``root`` (default: zeronas's cache, ``$ZERONAS_HOME/data``).

    Returns ``(batches directory, downloaded)``; an intact copy already there is kept
    (``downloaded`` False). Nothing is left half-written: the archive is checked and unpacked
    in a temporary folder beside the target and renamed into place (``atomic_directory``).
    """
    from torch.hub import download_url_to_file

    from zeronas._home import data_dir

    name = canonical_dataset(dataset)
    if name not in ARCHIVES:
        raise ZeronasError(f"zeronas data download knows {', '.join(ARCHIVES)}, not {dataset!r}")
    archive = ARCHIVES[name]
    root = Path(root).expanduser() if root is not None else data_dir()
    target = root / archive.folder
    if target.is_dir() and not _bad_files(target, archive):
        return target, False
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ZeronasError(f"cannot create {root} ({err}); set $ZERONAS_HOME or pass --root DIR") from None
    with tempfile.TemporaryDirectory(prefix=".download-", dir=root) as tmp:
        tgz = Path(tmp) / Path(archive.url).name
        try:
            download_url_to_file(archive.url, str(tgz), progress=progress)
        except (urllib.error.URLError, OSError) as err:
            raise ZeronasError(f"cannot download {archive.url} ({err}); check the connection and retry") from None
        if _md5(tgz) != archive.md5:
            raise ZeronasError(f"{archive.url} arrived corrupted (md5 {_md5(tgz)}, expected {archive.md5}); retry")
        # an incomplete or corrupted earlier copy stays until the new one is complete and checked
        with atomic_directory(target) as staging:
            _unpack(tgz, archive, staging)
            bad = _bad_files(staging, archive)
            if bad:
                raise ZeronasError(f"{archive.url} unpacked with missing or corrupted files: {', '.join(bad)}")
    return target, True


def _unpack(tgz: Path, archive: Archive, into: Path) -> None:
    """Copy the plain files of the archive's one folder into ``into`` (the folder is flat)."""
    with tarfile.open(tgz, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(archive.folder + "/")]
        files = [m for m in members if m.isfile() and Path(m.name).parent == Path(archive.folder)]
        if not files or len(files) != len(members):
            raise ZeronasError(f"{archive.url} does not hold a plain {archive.folder}/ folder")
        for member in files:
            with tar.extractfile(member) as source, open(into / Path(member.name).name, "wb") as out:
                shutil.copyfileobj(source, out)
