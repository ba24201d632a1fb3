"""Training a relaxed supernet on CIFAR with RARTS, MiLeNAS or first-order DARTS; per-epoch checkpoints.

Data *and* network splitting as RARTS does it: the CIFAR **training** images (never the test split) are
split in two seeded halves, ``D_t`` feeding the weights ``w`` and ``D_v`` feeding ``y`` (RARTS) or the
architecture step (the baselines). ``y`` starts as a copy of ``w``. Each round draws one batch from each
half (random 32x32 crop of the image zero-padded by 4, horizontal flip) and takes one Gauss–Seidel step of
:class:`~zeronas.weight_sharing.RelaxedSearch`. Optimisers as DARTS' search: SGD with momentum and weight
decay for ``w`` and ``y``, the learning rate on a cosine from ``lr`` to ``lr_min`` over the epochs (stepped
per epoch), the gradient norm of each of their steps clipped at 5; Adam with β = (0.5, 0.999) and weight decay
for α, initialised at 10⁻³ × N(0, 1).

With ``latency_weight`` > 0, ``latency_weight · Σ_edges ⟨softmax(α_e), cost⟩`` is added to the loss α steps
on, ``cost`` being each op's parameter count on an edge of that cell kind over the largest: a size penalty
standing in for the paper's measured latency table, which is hardware-specific.

Deterministic under ``seed`` on CPU: the split, the initialisation, batch order and augmentation come from
generators seeded by it; the global torch RNG is left as it was. A checkpoint holds everything the next epoch
reads (weights, α, optimiser and schedule states, the generator, the epoch and the seconds spent), so a run
resumed from epoch ``k`` ends exactly where an uninterrupted one does.
"""

from __future__ import annotations

import copy
import dataclasses
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
from zeronas.spaces import SearchSpace
from zeronas.weight_sharing._relaxed import RelaxedMethod, RelaxedSearch, RelaxedSettings
from zeronas.weight_sharing._supernet import RelaxedSupernet, alpha_shapes, build_supernet, derive

__all__ = [
    "CHECKPOINT_FILE",
    "EpochReport",
    "SupernetRecipe",
    "SupernetResult",
    "checkpoint_epoch",
    "paper_recipe",
    "train_supernet",
]

#: the file a checkpoint directory holds
CHECKPOINT_FILE = "supernet.pt"


@dataclass(frozen=True)
class SupernetRecipe:
    """Every setting of one supernet search; :func:`paper_recipe` gives the paper's per space."""

    epochs: int
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    alpha_lr: float = 3e-4
    alpha_weight_decay: float = 1e-3
    #: supernet width and depth: TSS channels / cells per stage (16 / 5), DARTS channels / cells (16 / 8)
    channels: int = 16
    layers: int = 8
    #: λ (weight of L_t) and β (the ‖y − w‖² coupling) of the Lagrangian
    lam: float = 1.0
    beta: float = 1.0
    #: gradient-norm bound of the w and y steps, as DARTS' search (None: off)
    grad_clip: float | None = 5.0
    latency_weight: float = 0.0
    #: use only this many training images (both halves together); None: all
    samples: int | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "channels", "layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ZeronasError(f"supernet {name} must be a positive integer, got {value!r}")
        non_negative = ("lr", "lr_min", "momentum", "weight_decay", "alpha_lr", "alpha_weight_decay", "latency_weight")
        for name in (*non_negative, "lam", "beta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
                raise ZeronasError(f"supernet {name} must be a number >= 0, got {value!r}")
        if self.samples is not None and (not isinstance(self.samples, numbers.Integral) or self.samples < 4):
            raise ZeronasError(f"supernet samples must be an integer >= 4 (two halves of 2), got {self.samples!r}")
        RelaxedSettings(lam=self.lam, beta=self.beta, grad_clip=self.grad_clip)


def paper_recipe(space: str, **changes: object) -> SupernetRecipe:
    """RARTS' settings for ``space`` (NATS TSS: 100 epochs, weight decay 5e-4, 16 channels x 5 cells per stage;
    DARTS: 50 epochs, weight decay 3e-4, 16 channels x 8 cells), with ``changes`` applied. Unknown names
    are a one-line error listing the valid ones."""
    base = {
        "tss": SupernetRecipe(epochs=100, weight_decay=5e-4, channels=16, layers=5),
        "darts": SupernetRecipe(epochs=50, weight_decay=3e-4, channels=16, layers=8),
    }
    if space not in base:
        raise ZeronasError(f"no supernet recipe for the {space} space; supernet searches run on: {', '.join(base)}")
    known = [f.name for f in dataclasses.fields(SupernetRecipe)]
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ZeronasError(f"supernet search has no option {unknown[0]!r}; its options are: {', '.join(known)}")
    recipe = dataclasses.replace(base[space], **changes)
    if space == "darts":
        from zeronas.spaces import DartsSpace

        try:  # the space's own size rule: under 3 cells every cell reduces, no normal cell is left to search
            DartsSpace(recipe.channels, recipe.layers)
        except ValueError as err:
            raise ZeronasError(f"supernet channels/layers: {err}") from None
    return recipe


@dataclass
class EpochReport:
    epoch: int
    #: the arch derived from α after this epoch
    arch: str
    #: mean objective each variable stepped on over the epoch (``w``, ``alpha``, and ``y`` for RARTS)
    losses: dict[str, float]
    #: training seconds so far, over every resume
    seconds: float
    #: writes this epoch's checkpoint into a directory
    save: Callable[[str | Path], None]


@dataclass
class SupernetResult:
    arch: str
    epochs_run: int
    seconds: float
    #: softmax(α) per cell kind, edges x ops
    weights: list[list[list[float]]] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)


def train_supernet(
    space: SearchSpace,
    method: RelaxedMethod | str,
    recipe: SupernetRecipe,
    *,
    data: str | Path | tuple[np.ndarray, np.ndarray],
    dataset: str = "cifar10",
    seed: int = 0,
    device: str = "cpu",
    resume: str | Path | None = None,
    on_epoch: Callable[[EpochReport], bool | None] | None = None,
) -> SupernetResult:
    """Search ``space`` by training its relaxed supernet for ``recipe.epochs`` epochs; returns the derived arch.

    ``data``: the CIFAR python batches directory, or the training images and labels themselves (``uint8 N x 3 x
    32 x 32``, ``int64 N``; ``benchmarks/gpu_check.py`` times noise this way). ``resume``: a directory holding a
    checkpoint of this search (same space, method, seed); training goes on from the epoch after it.
    ``on_epoch`` is called after every epoch; returning True stops training."""
    method = RelaxedMethod.parse(method) if isinstance(method, str) else method
    dataset = canonical_dataset(dataset)
    torch_device = parse_device(device)
    halves = _halves(data, dataset, recipe.samples, seed, torch_device)
    (train_x, train_y), (valid_x, valid_y) = halves
    batch = min(recipe.batch_size, len(train_x), len(valid_x))
    steps = min(len(train_x), len(valid_x)) // batch
    normalise = normaliser(dataset, torch_device)

    fork_devices = [torch_device.index or 0] if torch_device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        net_w = build_supernet(space, num_classes(dataset), recipe.channels, recipe.layers).to(torch_device)
        alpha = [(1e-3 * torch.randn(*s)).to(torch_device).requires_grad_() for s in alpha_shapes(space)]
    net_y = copy.deepcopy(net_w) if method is RelaxedMethod.RARTS else None
    opt_w, sched_w = _weights_optimiser(net_w, recipe)
    opt_y, sched_y = _weights_optimiser(net_y, recipe) if net_y is not None else (None, None)
    opt_alpha = torch.optim.Adam(alpha, lr=recipe.alpha_lr, betas=(0.5, 0.999), weight_decay=recipe.alpha_weight_decay)
    w = list(net_w.parameters())
    y = list(net_y.parameters()) if net_y is not None else None
    settings = RelaxedSettings(method, recipe.lam, recipe.beta, recipe.grad_clip)
    search = RelaxedSearch(settings, w, y, alpha, opt_w, opt_y, opt_alpha)
    nets = {id(w): net_w, id(y): net_y}
    costs = _op_costs(net_w, len(alpha)) if recipe.latency_weight else None
    generator = torch.Generator().manual_seed(seed)
    identity = {"space": space.name, "method": method.value, "seed": seed, "dataset": dataset}

    modules = {"w": net_w, "y": net_y, "opt_w": opt_w, "opt_y": opt_y, "opt_alpha": opt_alpha}
    modules |= {"sched_w": sched_w, "sched_y": sched_y}
    done, seconds, history = 0, 0.0, []
    if resume is not None:
        done, seconds, history = _load(Path(resume), identity, modules, alpha, generator, torch_device)

    loss_fn = nn.CrossEntropyLoss()
    current: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def loss_t(weights, a):
        return loss_fn(nets[id(weights)](current["t"][0], a), current["t"][1])

    def loss_v(weights, a):
        loss = loss_fn(nets[id(weights)](current["v"][0], a), current["v"][1])
        if costs is not None:
            penalty = sum((torch.softmax(ak, -1) * ck).sum() for ak, ck in zip(a, costs))
            loss = loss + recipe.latency_weight * penalty
        return loss

    for epoch in range(done + 1, recipe.epochs + 1):
        started = time.perf_counter()
        for net in (net_w, net_y):
            if net is not None:
                net.train()
        order_t = torch.randperm(len(train_x), generator=generator).to(torch_device)
        order_v = torch.randperm(len(valid_x), generator=generator).to(torch_device)
        sums: dict[str, float] = {}
        for step in range(steps):
            idx_t, idx_v = order_t[step * batch : (step + 1) * batch], order_v[step * batch : (step + 1) * batch]
            current["t"] = (normalise(augment_crop_flip(train_x[idx_t], generator)), train_y[idx_t])
            current["v"] = (normalise(augment_crop_flip(valid_x[idx_v], generator)), valid_y[idx_v])
            for name, value in search.step(loss_t, loss_v).items():
                sums[name] = sums.get(name, 0.0) + value
        for sched in (sched_w, sched_y):
            if sched is not None:
                sched.step()
        seconds += time.perf_counter() - started
        losses = {name: total / steps for name, total in sums.items()}
        history.append({"epoch": epoch, **losses})
        state = (identity, modules, alpha, generator, epoch, seconds, history)
        report = EpochReport(epoch, derive(space, alpha), losses, seconds, lambda folder, s=state: _save(folder, *s))
        if on_epoch is not None and on_epoch(report) is True:
            break

    weights = [torch.softmax(a.detach().cpu(), -1).tolist() for a in alpha]
    return SupernetResult(derive(space, alpha), len(history), seconds, weights, history)


def _halves(data, dataset: str, samples: int | None, seed: int, device: torch.device):
    """``((D_t images, labels), (D_v images, labels))``: two disjoint seeded halves of the training split."""
    if isinstance(data, tuple):
        images, labels = data
    else:
        root = Path(data)
        if not root.is_dir():
            raise ZeronasError(f"supernet training data directory {root} does not exist; give the CIFAR batches")
        images, labels = load_cifar(root, dataset, "train")
    order = np.random.default_rng(seed).permutation(len(images))
    if samples is not None:
        order = order[:samples]
    half = len(order) // 2
    if half < 2:
        raise ZeronasError(f"supernet training needs at least 4 training images, found {len(order)}")
    parts = np.sort(order[:half]), np.sort(order[half : 2 * half])
    return [tensors_on(images[p], labels[p], device) for p in parts]


def _weights_optimiser(net: nn.Module, recipe: SupernetRecipe):
    opt = torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe.epochs, eta_min=recipe.lr_min)
    return opt, sched


def _op_costs(net: RelaxedSupernet, kinds: int) -> list[torch.Tensor]:
    """Per cell kind: each op's parameter count on the kind's first edge, over the largest (the size penalty)."""
    costs = []
    for kind in range(kinds):
        op = next(op for op, k, _ in net._edges if k == kind)
        counts = torch.tensor([float(sum(p.numel() for p in m.parameters())) for m in op._ops])
        costs.append((counts / counts.max().clamp(min=1.0)).to(next(net.parameters()).device))
    return costs


def _save(folder, identity, modules, alpha, generator, epoch, seconds, history) -> None:
    state = {name: m.state_dict() for name, m in modules.items() if m is not None}
    state |= {"identity": identity, "alpha": [a.detach().cpu() for a in alpha], "generator": generator.get_state()}
    state |= {"epoch": epoch, "seconds": seconds, "history": history}
    torch.save(state, Path(folder) / CHECKPOINT_FILE)


def checkpoint_epoch(folder: str | Path) -> int:
    """The last epoch a checkpoint directory holds."""
    return int(torch.load(Path(folder) / CHECKPOINT_FILE, map_location="cpu", weights_only=False)["epoch"])


def _load(folder: Path, identity, modules, alpha, generator, device) -> tuple[int, float, list[dict[str, float]]]:
    path = folder / CHECKPOINT_FILE
    if not path.is_file():
        raise ZeronasError(f"no supernet checkpoint {CHECKPOINT_FILE} in {folder}; resume from a checkpoint directory")
    state = torch.load(path, map_location=device, weights_only=False)
    if state["identity"] != identity:
        raise ZeronasError(f"the checkpoint in {folder} is of another search ({state['identity']}), not {identity}")
    for name, module in modules.items():
        if module is not None:
            module.load_state_dict(state[name])
    with torch.no_grad():
        for a, saved in zip(alpha, state["alpha"]):
            a.copy_(saved)
    generator.set_state(state["generator"])
    return int(state["epoch"]), float(state["seconds"]), list(state["history"])
