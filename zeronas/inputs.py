"""What the proxies see: real images of the data set when a copy can be found, else Gaussian noise.

The MeCo authors feed one real training image; zeronas does the same whenever a copy of the
data set is found without flags. Looked for, in this order: ``--data``, ``$ZERONAS_DATA``,
zeronas's cache (``$ZERONAS_HOME/data``, where ``zeronas data download`` writes), then the folders
torchvision users usually pass as ``root`` (:data:`USUAL_FOLDERS`). In each folder the batches
are expected in torchvision's layout (``<folder>/cifar-10-batches-py``) or directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeronas.datasets import canonical_dataset
from zeronas.errors import ZeronasError

__all__ = ["INPUT_KINDS", "USUAL_FOLDERS", "ProxyInput", "data_candidates", "resolve_proxy_input"]

#: ``auto``: real images when found, else noise; ``real``: real images or an error; ``noise``: always noise
INPUT_KINDS = ("auto", "real", "noise")
#: the ``root`` folders torchvision examples and NAS code bases pass to ``torchvision.datasets.CIFAR10``
USUAL_FOLDERS = ("./data", "~/data", "~/.torch")


@dataclass(frozen=True)
class ProxyInput:
    """The proxies' input: ``kind`` "real" (images from ``path``) or "noise", and how it was chosen."""

    kind: str
    dataset: str
    path: Path | None = None
    found_in: str | None = None
    note: str | None = None

    @property
    def data(self) -> str | None:
        """What to pass as ``ArchScorer(data=...)``."""
        return None if self.path is None else str(self.path)

    def describe(self) -> str:
        """One line for the run's output."""
        if self.kind == "real":
            return f"proxy input: real {self.dataset} images from {self.path} ({self.found_in})"
        return f"proxy input: Gaussian noise ({self.note})"

    def record(self) -> dict[str, Any]:
        """What a run records about its input."""
        return {"input": self.kind, "data": self.data, "found_in": self.found_in}


def data_candidates() -> list[tuple[Path, str]]:
    """The folders looked in without ``--data``, in order, each with how to name it."""
    from zeronas._home import data_dir

    found = []
    if os.environ.get("ZERONAS_DATA"):
        found.append((Path(os.environ["ZERONAS_DATA"]).expanduser(), "$ZERONAS_DATA"))
    found.append((data_dir(), "zeronas's cache, $ZERONAS_HOME/data"))
    found += [(Path(folder).expanduser(), folder) for folder in USUAL_FOLDERS]
    return found


def resolve_proxy_input(data: str | Path | None, dataset: str, kind: str = "auto") -> ProxyInput:
    """Pick the proxies' input for ``dataset``; ``data`` is ``--data`` (None: look for a copy).

    ``kind="noise"`` asks for the data-free mode; ``kind="real"`` raises :class:`ZeronasError` when
    no copy is found. ``data`` itself is not opened here: the scorer reads and checks it.
    """
    from zeronas.data import find_cifar

    if kind not in INPUT_KINDS:
        raise ZeronasError(f"unknown --input {kind!r}; choose one of: {', '.join(INPUT_KINDS)}")
    name = canonical_dataset(dataset)
    if kind == "noise":
        return ProxyInput("noise", name, note="--input noise")
    if data is not None:
        return ProxyInput("real", name, Path(data).expanduser().resolve(), "--data")
    candidates = data_candidates()
    for folder, label in candidates:
        found = find_cifar(folder, name)
        if found is not None:
            return ProxyInput("real", name, found.resolve(), f"found in {label}")
    if name in ("cifar10", "cifar100"):
        looked = ", ".join(str(folder) for folder, _ in candidates)
        missing = f"no {name} copy in {looked}; `zeronas data download {name}` fetches one, or pass --data DIR"
    else:
        missing = f"no {name} copy is looked for without flags; pass --data DIR for real {name} images"
    if kind == "real":
        raise ZeronasError(f"--input real: {missing}")
    return ProxyInput("noise", name, note=f"{missing}; --input noise asks for noise on purpose")
