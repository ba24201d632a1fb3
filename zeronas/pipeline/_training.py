"""Short training of one architecture under its space's recipe (``_recipes``), no Ray import.

The recipe is the benchmark's, with fewer epochs: NATS-Bench's for TSS/SSS, DARTS' ``train.py`` for
DARTS (auxiliary head, drop-path, cutout, gradient clipping, evaluation-size network). Weight
decay applies to all parameters, the learning rate decays to 0 on a cosine over all steps, the
loss is cross-entropy, and every image is a random 32x32 crop of it zero-padded by 4, flipped
horizontally at random. Validation accuracy is
measured after every epoch on images held out of the CIFAR **training** split (``_holdout``:
10 % by default, the same images for every architecture under one ``holdout_seed``); the model
never trains on them. The CIFAR test split is not read here: :func:`evaluate_on_test` evaluates a
trained model on it once, after the selection.

The run is deterministic under ``seed`` on CPU: the network initialisation, the training
subset, the shuffling and the augmentation are all drawn from generators seeded by it, and
the global torch RNG is left as it was.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from zeronas._device import parse_device
from zeronas.data import augment_crop_flip, load_cifar, normaliser, tensors_on
from zeronas.datasets import canonical_dataset, num_classes
from zeronas.errors import ZeronasError
from zeronas.pipeline._holdout import split_holdout
from zeronas.pipeline._recipes import Recipe, check_network_size, recipe_for

__all__ = ["TrainResult", "evaluate_on_test", "train_arch"]

_EVAL_BATCH = 500


@dataclass
class TrainResult:
    #: epochs actually trained (fewer than asked when ``report`` stopped the run)
    epochs_run: int
    #: validation accuracy (%) on the held-out training images after the last epoch trained
    val_acc: float
    #: ``(epoch, val_acc)`` after every epoch, epochs counted from 1
    history: list[tuple[int, float]] = field(default_factory=list)
    #: wall seconds, data loading included
    seconds: float = 0.0
    #: images trained on and held out for validation
    train_size: int = 0
    val_size: int = 0


def train_arch(
    space: str,
    arch: str,
    *,
    data: str | Path,
    dataset: str = "cifar10",
    epochs: int,
    batch_size: int | None = None,
    lr: float | None = None,
    channels: int | None = None,
    layers: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    max_train_samples: int | None = None,
    holdout: int | float | None = None,
    holdout_seed: int = 0,
    report: Callable[[int, float, nn.Module], bool | None] | None = None,
) -> TrainResult:
    """Train ``arch`` of ``space`` on CIFAR python batches under ``data``.

    ``batch_size``/``lr`` default to the space's recipe; ``channels``/``layers`` size a DARTS network
    (default: the DARTS evaluation size, 36 / 20).

    ``holdout`` images of the training split (a count, or a fraction; default 10 %), drawn with
    ``holdout_seed`` (see ``_holdout``), are the validation split; the rest is trained on, or a
    random subset of ``max_train_samples`` of the rest drawn with ``seed``.
    ``report(epoch, val_acc, model)`` is called after each epoch; returning True stops training.
    """
    from zeronas.spaces import get_space

    started = time.perf_counter()
    search_space = get_space(space)
    try:
        arch = search_space.validate(arch)
    except ValueError as err:
        raise ZeronasError(f"cannot train {arch!r}: not a {search_space.name} architecture ({err})") from None
    dataset = canonical_dataset(dataset)
    recipe = recipe_for(search_space.name)
    batch_size = recipe.batch_size if batch_size is None else batch_size
    lr = recipe.lr if lr is None else lr
    if channels is not None or layers is not None:
        check_network_size(search_space.name, channels, layers)
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size)
    if max_train_samples is not None:
        _check_positive_int("max_train_samples", max_train_samples, minimum=2)
    if not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ZeronasError(f"learning rate must be a positive number, got {lr!r}")
    torch_device = parse_device(device)
    images, labels = load_cifar(_data_root(data), dataset, "train")
    train_idx, val_idx = split_holdout(labels, holdout, holdout_seed)
    train_idx = _subset(train_idx, max_train_samples, np.random.default_rng(seed))
    train_x, train_y = tensors_on(images[train_idx], labels[train_idx], torch_device)
    val_x, val_y = tensors_on(images[val_idx], labels[val_idx], torch_device)
    del images, labels
    normalise = normaliser(dataset, torch_device)
    model = _seeded_model(search_space, arch, dataset, recipe, channels, layers, seed, torch_device)
    generator = torch.Generator().manual_seed(seed)

    batch = min(batch_size, len(train_x))
    steps_per_epoch = len(train_x) // batch  # the ragged tail is dropped (BatchNorm needs > 1 sample)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=recipe.momentum, nesterov=recipe.nesterov, weight_decay=recipe.weight_decay
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()

    history: list[tuple[int, float]] = []
    for epoch in range(1, epochs + 1):
        model.train()
        if recipe.drop_path:
            model.drop_path_prob = recipe.drop_path * (epoch - 1) / epochs  # DARTS: 0 in the first epoch
        order = torch.randperm(len(train_x), generator=generator).to(torch_device)
        for step in range(steps_per_epoch):
            idx = order[step * batch : (step + 1) * batch]
            images = normalise(augment_crop_flip(train_x[idx], generator))
            if recipe.cutout:
                images = _cutout(images, recipe.cutout, generator)
            if recipe.auxiliary_weight:
                logits, logits_aux = model.forward_with_aux(images)
                loss = loss_fn(logits, train_y[idx]) + recipe.auxiliary_weight * loss_fn(logits_aux, train_y[idx])
            else:
                loss = loss_fn(model(images), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
            optimizer.step()
            schedule.step()
        acc = _accuracy(model, val_x, val_y, normalise)
        history.append((epoch, acc))
        if report is not None and report(epoch, acc, model) is True:
            break

    return TrainResult(
        epochs_run=len(history),
        val_acc=history[-1][1],
        history=history,
        seconds=time.perf_counter() - started,
        train_size=len(train_x),
        val_size=len(val_x),
    )


def evaluate_on_test(
    space: str,
    arch: str,
    state_dict: dict[str, torch.Tensor],
    *,
    data: str | Path,
    dataset: str = "cifar10",
    channels: int | None = None,
    layers: int | None = None,
    device: str = "cpu",
) -> float:
    """Accuracy (%) on the CIFAR **test** split of ``arch`` with the trained weights ``state_dict``.

    Called once per search, on the architecture stage 3 selected by validation accuracy."""
    from zeronas.spaces import get_space

    search_space = get_space(space)
    dataset = canonical_dataset(dataset)
    torch_device = parse_device(device)
    images, labels = load_cifar(_data_root(data), dataset, "test")
    test_x, test_y = tensors_on(images, labels, torch_device)
    recipe = recipe_for(search_space.name)
    model = _seeded_model(search_space, arch, dataset, recipe, channels, layers, 0, torch_device)
    model.load_state_dict(state_dict)
    return _accuracy(model, test_x, test_y, normaliser(dataset, torch_device))


def _data_root(data: str | Path) -> Path:
    root = Path(data)
    if not root.is_dir():
        raise ZeronasError(
            f"training data directory {root} does not exist; give the CIFAR python batches directory "
            "(cifar-10-batches-py / cifar-100-python) or its parent"
        )
    return root


def _seeded_model(space, arch, dataset, recipe, channels, layers, seed: int, device: torch.device) -> nn.Module:
    fork_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        return _build(space, arch, num_classes(dataset), recipe, channels, layers).to(device)


def _build(space, arch: str, classes: int, recipe: Recipe, channels: int | None, layers: int | None) -> nn.Module:
    if not recipe.sized:
        return space.build(arch, num_classes=classes)
    return space.build(
        arch,
        num_classes=classes,
        channels=channels or recipe.channels,
        layers=layers or recipe.layers,
        auxiliary=recipe.auxiliary_weight > 0,
    )


def _cutout(images: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Zero a ``length`` square (clipped at the border) at a uniform centre of each image, as DARTS' ``Cutout``."""
    n, _, h, w = images.shape
    cy = torch.randint(0, h, (n, 1), generator=generator).to(images.device)
    cx = torch.randint(0, w, (n, 1), generator=generator).to(images.device)
    ys, xs = torch.arange(h, device=images.device), torch.arange(w, device=images.device)
    inside_y = (ys >= cy - length // 2) & (ys < cy + length // 2)  # n x h
    inside_x = (xs >= cx - length // 2) & (xs < cx + length // 2)  # n x w
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])
    return images * keep[:, None].to(images.dtype)


@torch.no_grad()
def _accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, normalise) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(images), _EVAL_BATCH):
        logits = model(normalise(images[start : start + _EVAL_BATCH]))
        correct += int((logits.argmax(1) == labels[start : start + _EVAL_BATCH]).sum())
    return 100.0 * correct / len(images)


def _subset(indices: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or limit >= len(indices):
        return indices
    return np.sort(rng.permutation(indices)[:limit])


def _check_positive_int(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ZeronasError(f"{name} must be an integer >= {minimum}, got {value!r}")
