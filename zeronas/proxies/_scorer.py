"""Score architectures with several proxies, one network build per arch."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from zeronas._device import full_precision, parse_device
from zeronas.datasets import canonical_dataset
from zeronas.datasets import num_classes as dataset_classes
from zeronas.datasets import resolution as dataset_resolution
from zeronas.errors import ZeronasError
from zeronas.proxies._api import get_proxy, resolve_proxy
from zeronas.proxies._base import Proxy, ProxyContext

__all__ = ["ArchScore", "ArchScorer"]

#: input sets an ArchScorer keeps (one per proxy seed it has scored under)
_KEPT_INPUTS = 16


@dataclass
class ArchScore:
    arch: str
    values: dict[str, float | None] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str | None] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds.values()))


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if len(text) > 200:
        text = text[:197] + "..."
    kind = type(err).__name__.lstrip("_")
    return f"{kind}: {text}" if text else kind


class ArchScorer:
    """Computes ``proxies`` for architectures of ``space``.

    Networks are built after ``torch.manual_seed(seed)``, so an arch gets the same
    weights wherever it is scored. ``seed`` is the default; ``score(arch, seed=s)`` scores
    under another (one pool serves searches with different proxy seeds). Inputs are made
    once per seed (the last 16 kept), from the seed alone: with
    ``data`` (a CIFAR batches directory or a PNG folder) the sample is the first
    image and the mini-batches the first ``batch_size * num_batches`` images (fewer if
    the set is smaller, split evenly); without it, Gaussian noise of the dataset's
    resolution with uniformly random labels. Every proxy sees the network exactly
    as built: weights and buffers (BatchNorm statistics) are restored after each one.
    """

    def __init__(
        self,
        space: str = "tss",
        proxies: Sequence[str] = ("meco",),
        dataset: str = "cifar10",
        data: str | Path | None = None,
        seed: int = 0,
        device: str | torch.device = "cpu",
        batch_size: int = 64,
        proxy_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        from zeronas.spaces import get_space

        self.space = get_space(space)
        self.space_name = self.space.name
        self.dataset = canonical_dataset(dataset)
        self.num_classes = dataset_classes(self.dataset)
        self.resolution = dataset_resolution(self.dataset)
        if isinstance(proxies, str):
            proxies = [p for p in proxies.split(",") if p.strip()]
        if not proxies:
            raise ZeronasError("no proxies given; name at least one (see list_proxies())")
        names: list[str] = []
        for name in proxies:
            key = resolve_proxy(name)
            if key not in names:
                names.append(key)
        options = proxy_options or {}
        unknown = set(options) - set(names)
        if unknown:
            raise ZeronasError(f"options given for proxies not requested: {', '.join(sorted(unknown))}")
        self.proxies: dict[str, Proxy] = {n: get_proxy(n, **options.get(n, {})) for n in names}
        for proxy in self.proxies.values():
            proxy.check(self.space_name, self.dataset)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ZeronasError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ZeronasError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size
        self.device = parse_device(device)
        self.data = Path(data) if data is not None else None
        self._inputs: dict[int, tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]] = {}
        self.sample, self.batches = self._inputs_for(seed)

    @property
    def proxy_names(self) -> list[str]:
        return list(self.proxies)

    def _inputs_for(self, seed: int) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """(sample, batches) for ``seed``: noise drawn from the seed, or the data's first images (any seed)."""
        key = seed if self.data is None else 0
        if key not in self._inputs:
            if len(self._inputs) >= _KEPT_INPUTS:
                self._inputs.pop(next(iter(self._inputs)))
            self._inputs[key] = self._make_inputs(seed)
        return self._inputs[key]

    @property
    def real_data(self) -> bool:
        return self.data is not None

    def _make_inputs(self, seed: int) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        num_batches = max([p.needs.num_batches for p in self.proxies.values()] + [1])
        r = self.resolution
        if self.data is None:
            generator = torch.Generator().manual_seed(seed)
            sample = torch.randn(1, 3, r, r, generator=generator)
            batches = []
            for _ in range(num_batches):
                x = torch.randn(self.batch_size, 3, r, r, generator=generator)
                y = torch.randint(0, self.num_classes, (self.batch_size,), generator=generator)
                batches.append((x, y))
        else:
            from zeronas.data import load_images, to_tensor

            images, labels = load_images(self.data, self.dataset, limit=self.batch_size * num_batches)
            if images.shape[-2:] != (r, r):
                raise ZeronasError(
                    f"images in {self.data} are {images.shape[-1]}x{images.shape[-2]} but {self.dataset} networks "
                    f"take {r}x{r}; give {self.dataset} data"
                )
            if len(images) < num_batches:
                raise ZeronasError(f"{self.data} has {len(images)} images; the proxies need at least {num_batches}")
            if labels.max() >= self.num_classes or labels.min() < 0:
                raise ZeronasError(
                    f"labels in {self.data} go up to {labels.max()} but {self.dataset} has {self.num_classes} classes"
                )
            n = min(len(images), self.batch_size * num_batches)
            x = to_tensor(images[:n], self.dataset)
            y = torch.from_numpy(labels[:n])
            sample = x[:1].clone()
            batches = list(zip(x.tensor_split(num_batches), y.tensor_split(num_batches), strict=True))
        return sample.to(self.device), [(x.to(self.device), y.to(self.device)) for x, y in batches]

    def build(self, arch: str, seed: int | None = None) -> nn.Module:
        """The seeded network of ``arch`` on the scorer's device."""
        torch.manual_seed(self.seed if seed is None else seed)
        return self.space.build(arch, num_classes=self.num_classes).to(self.device)

    def context(self, arch: str, model: nn.Module | None, seed: int | None = None) -> ProxyContext:
        """The context proxies read for ``arch`` and its built ``model``."""
        seed = self.seed if seed is None else seed
        sample, batches = self._inputs_for(seed)
        return ProxyContext(
            arch=arch,
            space=self.space,
            model=model,
            dataset=self.dataset,
            num_classes=self.num_classes,
            resolution=self.resolution,
            seed=seed,
            device=self.device,
            sample=sample,
            batches=batches,
            real_data=self.real_data,
            requested=tuple(self.proxies),
        )

    def score(self, arch: str, seed: int | None = None) -> ArchScore:
        """All proxies for one arch under ``seed`` (default: the scorer's). A numerical failure gives
        ``None`` and a reason, never an exception.

        TF32 is off while scoring (:func:`~zeronas._device.full_precision`), so that a GPU
        computes the same function as a CPU; each proxy ends by reading its value back, so
        its time is the device's time too.
        """
        seed = self.seed if seed is None else seed
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ZeronasError(f"seed must be an integer, got {seed!r}")
        with full_precision():
            return self._score(arch, seed)

    def _score(self, arch: str, seed: int) -> ArchScore:
        try:
            arch = self.space.validate(arch)
        except ValueError as err:
            raise ZeronasError(f"invalid {self.space_name} architecture {arch!r}: {err}") from None
        result = ArchScore(arch=arch)
        needs_network = any(p.needs.network for p in self.proxies.values())
        model: nn.Module | None = None
        build_seconds = 0.0
        build_error: str | None = None
        if needs_network:
            start = time.perf_counter()
            try:
                model = self.build(arch, seed)
            except Exception as err:  # noqa: BLE001 - a failure must not kill a search
                build_error = f"network build failed: {_one_line(err)}"
            build_seconds = time.perf_counter() - start
        ctx = self.context(arch, model, seed)
        pristine = _snapshot(model) if model is not None else None
        raw_seconds: dict[str, float] = {}
        for name, proxy in self.proxies.items():
            if proxy.needs.network and model is None:
                result.values[name], result.errors[name] = None, build_error
                raw_seconds[name] = 0.0
                continue
            ctx._current = name
            torch.manual_seed(seed)
            start = time.perf_counter()
            value, error = self._run(proxy, ctx)
            raw_seconds[name] = time.perf_counter() - start
            if model is not None:
                _restore(model, pristine)
            result.values[name], result.errors[name] = value, error
        ctx._current = None
        result.seconds = _split_shared_time(raw_seconds, ctx, build_seconds, self.proxies)
        return result

    def _run(self, proxy: Proxy, ctx: ProxyContext) -> tuple[float | None, str | None]:
        try:
            value = proxy.compute(ctx)
        except Exception as err:  # noqa: BLE001 - numerical failures become None + reason
            return None, _one_line(err)
        value = float(value)
        if not math.isfinite(value):
            return None, f"non-finite value ({value})"
        return value, None


def _split_shared_time(
    raw: dict[str, float], ctx: ProxyContext, build_seconds: float, proxies: dict[str, Proxy]
) -> dict[str, float]:
    """Per-proxy seconds: a shared pass's time is split evenly between the proxies that
    used it, and the network build between the proxies that needed a network."""
    seconds = dict(raw)
    for key, spent in ctx._shared_seconds.items():
        owner = ctx._shared_owner.get(key)
        users = sorted(ctx._shared_users.get(key, ()))
        if owner in seconds and users:
            seconds[owner] -= spent
            for user in users:
                seconds[user] += spent / len(users)
    with_network = [n for n, p in proxies.items() if p.needs.network]
    for name in with_network:
        seconds[name] += build_seconds / len(with_network)
    return {n: max(0.0, s) for n, s in seconds.items()}


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _restore(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for k, v in model.state_dict().items():
            v.copy_(state[k])
    model.zero_grad(set_to_none=True)
    model.train()
