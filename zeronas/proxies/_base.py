"""The proxy interface and the per-network context proxies read from.

A proxy declares what it needs (:class:`Needs`) and computes one float from a
:class:`ProxyContext`: the freshly built network, the scorer's fixed inputs and
the passes that several proxies share (see ``ProxyContext.shared``).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn as nn


@dataclass(frozen=True)
class Needs:
    """What a proxy needs from the scorer; ``zeronas.testing.check_proxy`` holds a proxy to it.

    ``network``: False when the proxy computes without the built network (``ctx.model`` is
    None then, and the scorer skips the build when no proxy needs it). ``inputs``: ``"none"``
    (data-free, or a proxy that makes its own input: its value ignores ``sample`` and
    ``batches``), ``"sample"`` (the scorer's single fixed sample, batch size 1; ``batches`` are
    ignored) or ``"batches"`` (``num_batches`` mini-batches of the scorer's batch size, which
    the scorer makes; later batches are ignored). ``labels``: False when the value ignores the
    labels. ``backward``: False when the proxy needs no autograd (same value under
    ``torch.no_grad()``). Whatever it declares, a proxy leaves the network as it found it: no
    hooks, no ``.grad``, the same weights (a proxy that changes weights works on a copy).
    """

    network: bool = True
    inputs: str = "batches"
    num_batches: int = 1
    labels: bool = False
    backward: bool = False


class Proxy(ABC):
    """A zero-cost proxy: one float per freshly initialised network; larger is better."""

    name: ClassVar[str]
    needs: ClassVar[Needs] = Needs()
    #: backed by a trained model (``bossnas``): needs a checkpoint option, so ``list_proxies()`` leaves it out
    trained: ClassVar[bool] = False

    @abstractmethod
    def compute(self, ctx: ProxyContext) -> float: ...

    def check(self, space: str, dataset: str) -> None:
        """Raise ZeronasError when this proxy cannot score ``space`` on ``dataset`` (a trained proxy is tied to
        what it was trained on); called once by the scorer before any network."""
        return None

    def training_cost(self) -> dict[str, Any] | None:
        """What the model behind a trained proxy cost (``device_seconds``, ``devices``); None when zero-cost."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass
class ProxyContext:
    """Everything one proxy call may read. Built once per architecture by the scorer."""

    arch: str
    space: Any  # zeronas.spaces.SearchSpace
    model: nn.Module | None
    dataset: str
    num_classes: int
    resolution: int
    seed: int
    device: torch.device
    #: one sample, shape (1, 3, R, R): the first real image, or Gaussian noise
    sample: torch.Tensor
    #: mini-batches ``(x, y)``: real labelled images, or Gaussian noise with random labels
    batches: list[tuple[torch.Tensor, torch.Tensor]]
    #: True when ``sample``/``batches`` are real images
    real_data: bool = False
    #: names of all proxies the scorer computes on this network (lets passes serve them all)
    requested: tuple[str, ...] = ()
    _shared: dict[str, Any] = field(default_factory=dict)
    _shared_seconds: dict[str, float] = field(default_factory=dict)
    _shared_users: dict[str, set[str]] = field(default_factory=dict)
    _shared_owner: dict[str, str | None] = field(default_factory=dict)
    _current: str | None = None

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """Result of a pass several proxies read (computed once per network).

        Only proxies whose definitions agree on the pass (same input, mode and loss)
        may use the same ``key``. Its time is later split evenly between its users.
        """
        if self._current is not None:
            self._shared_users.setdefault(key, set()).add(self._current)
        if key not in self._shared:
            start = time.perf_counter()
            self._shared[key] = compute()
            self._shared_seconds[key] = time.perf_counter() - start
            self._shared_owner[key] = self._current
        return self._shared[key]


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Conv2d and Linear layers, the "prunable" layers of the pruning-at-init literature."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
