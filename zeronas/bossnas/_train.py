"""Ensemble bootstrapping (BossNAS Section 3.2), one block at a time, with per-epoch checkpoints.

Per step, on two augmented views of a batch: sample ``paths`` keys of the block; the EMA (target) supernet
projects each view along every sampled path and the mean over paths is the ensemble target; the online
supernet, along each path, predicts the target of the *other* view (BYOL's symmetric loss, squared L2 between
normalised vectors). Only the block in training, its projector and its predictor learn; earlier blocks are
frozen and feed it from their widest path. After each online step the target moves toward the online weights
(momentum ``ema``, raised to 1 over the block by BYOL's cosine rule).

The optimiser is SGD with momentum and a cosine learning rate, not the paper's LARS: LARS exists for batches
of thousands, and at the batches one GPU holds SGD is the usual choice for BYOL-style training (SimSiam).
The rate scales linearly with the batch, ``lr * batch_size / 256``.

Every random draw (shuffle, views, paths) comes from a generator seeded by ``(seed, block, epoch)``, so a run
resumed from an epoch's checkpoint repeats the uninterrupted run exactly (on the same device).

After the last block, the run rates every path of every block (BossNAS Section 3.3, the traversal) on the
device it trained on and stores the 8 + 512 + 512 distances in the checkpoint, one block per write: the
``bossnas`` proxy then looks an architecture up instead of running the supernet in every scorer. A
checkpoint whose training finished without them (an older zeronas, or a run stopped while rating) gets them
on ``resume``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zeronas.bossnas._checkpoint import read_checkpoint, write_checkpoint
from zeronas.bossnas._supernet import NUM_BLOCKS, Supernet, block_population
from zeronas.bossnas._views import two_views
from zeronas.datasets import canonical_dataset
from zeronas.errors import ZeronasError


@dataclass(frozen=True)
class BossSettings:
    """The training protocol; stored in the checkpoint, and a resumed run must match it."""

    dataset: str = "cifar10"
    epochs_per_block: int = 30
    batch_size: int = 256
    #: learning rate per 256 images
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    #: the target's starting momentum
    ema: float = 0.99
    #: paths sampled per step (the ensemble's size in training)
    paths: int = 4
    hidden: int = 512
    dim: int = 128
    resolution: int = 32
    seed: int = 0
    #: paths of a block whose mean is the rating's target (None: the whole population)
    population: int | None = None
    space: str = "sss"

    def checked(self) -> BossSettings:
        for name in ("epochs_per_block", "batch_size", "paths", "hidden", "dim", "resolution"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ZeronasError(f"BossNAS {name.replace('_', '-')} must be a positive integer, got {value!r}")
        if self.space != "sss":
            raise ZeronasError(f"BossNAS is implemented for the sss space, not {self.space!r}; pass --space sss")
        if not self.lr > 0:
            raise ZeronasError(f"BossNAS lr must be positive, got {self.lr!r}")
        if not 0 <= self.ema < 1:
            raise ZeronasError(f"BossNAS ema must lie in [0, 1), got {self.ema!r}")
        if self.population is not None and self.population < 1:
            raise ZeronasError(f"BossNAS population must be a positive integer or None, got {self.population!r}")
        return dataclasses.replace(self, dataset=canonical_dataset(self.dataset))


def byol_distance(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per image, the squared L2 distance between the normalised vectors (``2 - 2 cos``)."""
    return (F.normalize(prediction, dim=1) - F.normalize(target, dim=1)).pow(2).sum(dim=1)


def generator(seed: int, block: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(((seed * 1_000_003) + block * 1_009 + epoch) % (2**63))


def new_supernet(settings: BossSettings) -> Supernet:
    torch.manual_seed(settings.seed)
    return Supernet(settings.hidden, settings.dim)


def ensemble(net: Supernet, x: torch.Tensor, block: int, keys: list[tuple[int, ...]]) -> torch.Tensor:
    return torch.stack([net.project(x, block, key) for key in keys]).mean(dim=0)


def _step(online, target, images, block, keys, device) -> torch.Tensor:
    v1, v2 = images
    with torch.no_grad():
        x1, x2 = target.widest_input(v1, block), target.widest_input(v2, block)
        t1, t2 = ensemble(target, x1, block, keys), ensemble(target, x2, block, keys)
    predictor = online.predictors[block]
    loss = torch.zeros((), device=device)
    for key in keys:
        loss = loss + byol_distance(predictor(online.project(x2, block, key)), t1).mean()
        loss = loss + byol_distance(predictor(online.project(x1, block, key)), t2).mean()
    return loss / len(keys)


@torch.no_grad()
def _follow(online: Supernet, target: Supernet, block: int, tau: float) -> None:
    for module in ("blocks", "projectors"):
        src, dst = getattr(online, module)[block], getattr(target, module)[block]
        for p_online, p_target in zip(src.parameters(), dst.parameters(), strict=True):
            p_target.mul_(tau).add_(p_online, alpha=1 - tau)


def _epoch(online, target, optimiser, images, settings: BossSettings, block, epoch, device) -> float:
    gen = generator(settings.seed, block, epoch)
    population = block_population(block)
    batch = min(settings.batch_size, len(images))
    steps = len(images) // batch
    total_steps = steps * settings.epochs_per_block
    order = torch.randperm(len(images), generator=gen)
    losses = []
    for step in range(steps):
        done = epoch * steps + step
        progress = done / total_steps
        for group in optimiser.param_groups:
            group["lr"] = settings.lr * batch / 256 * 0.5 * (1 + math.cos(math.pi * progress))
        views = two_views(images[order[step * batch : (step + 1) * batch]], settings.dataset, settings.resolution, gen)
        picks = torch.randint(len(population), (settings.paths,), generator=gen).tolist()
        keys = [population[i] for i in picks]
        loss = _step(online, target, [v.to(device) for v in views], block, keys, device)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        tau = 1 - (1 - settings.ema) * (math.cos(math.pi * (done + 1) / total_steps) + 1) / 2
        _follow(online, target, block, tau)
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def _optimiser(online: Supernet, block: int, settings: BossSettings) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        online.block_parameters(block),
        lr=settings.lr,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
    )


#: the rating's view pairs come from their own generator, apart from every training epoch's
_RATING_STREAM = 7_919


def rating_population(settings: BossSettings, block: int) -> list[tuple[int, ...]]:
    """The paths whose mean is ``block``'s rating target: the whole population, or a seeded sample of it."""
    keys = block_population(block)
    if settings.population is None or settings.population >= len(keys):
        return keys
    return random.Random(settings.seed * 31 + block).sample(keys, settings.population)


@torch.no_grad()
def rate_block(
    online: Supernet, target: Supernet, rating_images: torch.Tensor, settings: BossSettings, block: int, device
) -> torch.Tensor:
    """The distance of every path of ``block`` (in ``block_population`` order) to the block's ensemble target
    on fixed view pairs of the held-out images: the online path's prediction from one view against the target
    of the other, both ways, averaged over images."""
    gen = torch.Generator().manual_seed(settings.seed * 1_000_003 + _RATING_STREAM)
    v1, v2 = (v.to(device) for v in two_views(rating_images, settings.dataset, settings.resolution, gen))
    x1, x2 = target.widest_input(v1, block), target.widest_input(v2, block)
    keys = rating_population(settings, block)
    t1, t2 = ensemble(target, x1, block, keys), ensemble(target, x2, block, keys)
    predictor = online.predictors[block]
    distances = []
    for key in block_population(block):
        d = byol_distance(predictor(online.project(x2, block, key)), t1)
        d = d + byol_distance(predictor(online.project(x1, block, key)), t2)
        distances.append(d.mean() / 2)
    return torch.stack(distances).to("cpu", torch.float64)


def train_supernet(
    images: np.ndarray,
    rating_images: np.ndarray,
    settings: BossSettings,
    out: str | Path,
    device: str | torch.device = "cpu",
    resume: bool = False,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train the three blocks on ``uint8 N x 3 x 32 x 32`` ``images``, then rate every block's paths on
    ``rating_images`` (held out of them). Writes ``out`` after each epoch and each block's rating, and calls
    ``on_epoch`` with each one's record (``phase`` ``"train"`` or ``"rate"``); ``resume`` continues from
    ``out``. Returns the final checkpoint."""
    settings = settings.checked()
    device = torch.device(device)
    online = new_supernet(settings)
    target = copy.deepcopy(online)
    state: dict[str, Any] = {
        "space": settings.space,
        "dataset": settings.dataset,
        "settings": dataclasses.asdict(settings),
        "block": 0,
        "epoch": 0,
        "done": False,
        "device_seconds": 0.0,
        "devices": [],
        "history": [],
        "ratings": {},
        "rating_seconds": 0.0,
        "rating_images": torch.from_numpy(np.ascontiguousarray(rating_images)),
        "training_images": len(images),
    }
    optimiser_state = None
    if resume and Path(out).exists():
        state = read_checkpoint(out)
        if state["settings"] != dataclasses.asdict(settings) or state["training_images"] != len(images):
            raise ZeronasError(f"{out} was trained with other settings or data; resume with the same ones")
        online.load_state_dict(state["online"])
        target.load_state_dict(state["target"])
        optimiser_state = state["optimiser"]
    online.to(device)
    target.to(device)
    train = torch.from_numpy(np.ascontiguousarray(images))
    if str(device) not in state["devices"]:
        state["devices"].append(str(device))
    while not state["done"]:
        block, epoch = state["block"], state["epoch"]
        optimiser = _optimiser(online, block, settings)
        if optimiser_state is not None:
            optimiser.load_state_dict(optimiser_state)
        start = time.perf_counter()
        loss = _epoch(online, target, optimiser, train, settings, block, epoch, device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        record = {"phase": "train", "block": block, "epoch": epoch, "loss": loss, "seconds": seconds}
        state["history"].append(record)
        state["device_seconds"] += seconds
        last_epoch = epoch + 1 == settings.epochs_per_block
        state["block"], state["epoch"] = (block + 1, 0) if last_epoch else (block, epoch + 1)
        state["done"] = last_epoch and block + 1 == NUM_BLOCKS
        optimiser_state = None if last_epoch else optimiser.state_dict()
        state["optimiser"] = optimiser_state
        state["online"] = {k: v.cpu() for k, v in online.state_dict().items()}
        state["target"] = {k: v.cpu() for k, v in target.state_dict().items()}
        write_checkpoint(out, state)
        if on_epoch is not None:
            on_epoch(record)
    state.setdefault("ratings", {})
    state.setdefault("rating_seconds", 0.0)
    while len(state["ratings"]) < NUM_BLOCKS:
        block = len(state["ratings"])
        start = time.perf_counter()
        state["ratings"][block] = rate_block(online, target, state["rating_images"], settings, block, device)
        seconds = time.perf_counter() - start  # rate_block's copy to the CPU waited for the device
        state["rating_seconds"] += seconds
        state["device_seconds"] += seconds
        write_checkpoint(out, state)
        if on_epoch is not None:
            on_epoch({"phase": "rate", "block": block, "paths": len(state["ratings"][block]), "seconds": seconds})
    return state
