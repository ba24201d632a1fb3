"""Dataset names shared by spaces, ground truth, proxies and the pipeline."""

from __future__ import annotations

from zeronas.errors import ZeronasError

#: canonical name -> (number of classes, input resolution)
DATASETS: dict[str, tuple[int, int]] = {
    "cifar10": (10, 32),
    "cifar100": (100, 32),
    "imagenet16": (120, 16),
}
_ALIASES = {
    "cifar-10": "cifar10",
    "cifar-100": "cifar100",
    "imagenet16-120": "imagenet16",
    "imagenet16_120": "imagenet16",
    "imagenet": "imagenet16",
}


def canonical_dataset(name: str) -> str:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in DATASETS:
        raise ZeronasError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)} (alias ImageNet16-120)")
    return key


def num_classes(dataset: str) -> int:
    return DATASETS[canonical_dataset(dataset)][0]


def resolution(dataset: str) -> int:
    return DATASETS[canonical_dataset(dataset)][1]
