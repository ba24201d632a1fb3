"""Stage 3's validation split: images held out of the CIFAR *training* split, never the test split.

The rule: ``holdout`` images (an integer), or that fraction of the training images (a float in
(0, 1)); by default 10 %, i.e. 5,000 of CIFAR-10's or CIFAR-100's 50,000. When every class
has at least two images and both parts can hold one image of each class, the split is
stratified by class (scikit-learn's ``train_test_split``): each class keeps its share in both
parts and has at least one held-out image (the count is raised to the number of classes if
needed). Otherwise it is a plain seeded random draw. At least 2 images must remain to train
on, else a one-line error says to lower ``--train-holdout``. The split depends only on the
labels and the split seed, so every architecture of a run is validated on the same held-out
images (and never trains on them): ASHA and the selection compare like with like.
"""

from __future__ import annotations

import numbers

import numpy as np

from zeronas.errors import ZeronasError

__all__ = ["DEFAULT_HOLDOUT_FRACTION", "holdout_size", "split_holdout"]

DEFAULT_HOLDOUT_FRACTION = 0.1
#: BatchNorm needs batches of more than one image
_MIN_TRAIN = 2


def holdout_size(labels: np.ndarray, holdout: int | float | None) -> int:
    """How many of the training images ``labels`` describes are held out (see the module docstring)."""
    n = len(labels)
    if holdout is None:
        holdout = DEFAULT_HOLDOUT_FRACTION
    if isinstance(holdout, bool) or not isinstance(holdout, numbers.Real):
        raise ZeronasError(f"--train-holdout must be a count (5000) or a fraction (0.1), got {holdout!r}")
    if isinstance(holdout, numbers.Integral):
        size = int(holdout)
    elif 0 < holdout < 1:
        size = round(float(holdout) * n)
    else:
        raise ZeronasError(f"--train-holdout as a fraction must lie in (0, 1), got {holdout!r}")
    if size < 1:
        raise ZeronasError(f"--train-holdout must hold out at least 1 image, got {holdout!r}")
    if _stratifiable(labels):
        size = max(size, len(np.unique(labels)))
    if n - size < _MIN_TRAIN:
        raise ZeronasError(
            f"--train-holdout {holdout!r} holds out {size} of the {n} training images and leaves fewer than "
            f"{_MIN_TRAIN} to train on; give a smaller --train-holdout or more training images"
        )
    return size


def split_holdout(labels: np.ndarray, holdout: int | float | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_indices, validation_indices)`` into ``labels``, disjoint, sorted, seeded by ``seed``."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    size = holdout_size(labels, holdout)
    classes = len(np.unique(labels))
    stratify = labels if _stratifiable(labels) and size <= len(labels) - classes else None
    train, val = train_test_split(np.arange(len(labels)), test_size=size, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def _stratifiable(labels: np.ndarray) -> bool:
    """Every class can be on both sides: two images of each, and room for one of each class twice."""
    _, counts = np.unique(labels, return_counts=True)
    return len(counts) > 0 and counts.min() >= 2 and len(labels) >= 2 * len(counts)
