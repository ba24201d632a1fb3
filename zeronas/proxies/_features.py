"""Record the 4-D outputs of one forward pass with a hook on every module.

Generic: nothing here knows what a proxy does with the maps. A caller either keeps the
maps (``keep_maps=True``) or hands them, a few of one shape at a time, to a sink while
they are still in cache and lets them go. The hooks never read a tensor's values, so on
CUDA recording queues device work only and never waits for it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
import torch.nn as nn
from torch.nn.modules.module import register_module_forward_hook

__all__ = ["FeatureRecord", "MapSink", "record_features", "rank_deficient"]


class MapSink(Protocol):
    def add(self, indices: list[int], maps: torch.Tensor) -> None:
        """``maps`` (``k x C x N``, a fresh copy the sink may overwrite) are distinct outputs ``indices``."""


@dataclass
class FeatureRecord:
    """The 4-D outputs of one forward pass, de-duplicated.

    ``outputs[i]`` is sample 0 of a distinct output (``1 x C x H x W``) with the
    contents it had when its hook fired, ``maps[i]`` the same as ``C x (H*W)``;
    ``calls`` lists, per hook call with a 4-D output, the index into ``outputs``.
    Recorded with ``keep_maps=False``, ``outputs`` is empty and the maps went to ``sink``.
    Rank-deficient maps (``H*W <= C``) are left out unless asked for; their calls are
    counted in ``skipped_calls``.
    """

    #: the distinct 4-D outputs (sample 0 is the map), as they were when their hook fired;
    #: empty when recorded with ``keep_maps=False``
    outputs: list[torch.Tensor] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    #: number of distinct outputs (``len(outputs)`` when the maps are kept)
    distinct: int = 0
    #: what received the maps during the pass (``keep_maps=False``), else None
    sink: Any = field(default=None, repr=False)
    #: hook calls whose output was not a 4-D feature map
    other_calls: int = 0
    #: hook calls whose map was rank-deficient and not kept
    skipped_calls: int = 0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def maps(self) -> list[torch.Tensor]:
        return [out[0].reshape(out.shape[1], -1) for out in self.outputs]

    def counts(self) -> list[int]:
        counts = [0] * self.distinct
        for i in self.calls:
            counts[i] += 1
        return counts

    def distinct_by_value(self) -> list[int]:
        """Indices of maps with distinct contents: a map recomputed by another module
        (two ReLUs on the same input, two ``none`` ops) is kept once.

        The fingerprints, and the equality of each map with the first of its fingerprint
        bucket, are each read back to the host once (not once per map): no stream of
        syncs on CUDA. Only a map that matches a bucket's fingerprint but not its first map
        (rare) is compared one by one.
        """
        maps = self.maps
        if not maps:
            return []
        sums = torch.stack([torch.stack([m.sum(), m.abs().sum()]) for m in maps]).double().tolist()
        buckets: dict[tuple, list[int]] = {}
        for i, (m, fingerprint) in enumerate(zip(maps, sums, strict=True)):
            buckets.setdefault((tuple(m.shape), *fingerprint), []).append(i)
        later = [(i, members[0]) for members in buckets.values() for i in members[1:]]
        same_as_first: dict[int, bool] = {}
        if later:
            flags = torch.stack([(maps[i] == maps[j]).all() for i, j in later]).tolist()
            same_as_first = {i: flag for (i, _), flag in zip(later, flags, strict=True)}
        kept: list[int] = []
        for members in buckets.values():
            kept_here = members[:1]
            for i in members[1:]:
                if not same_as_first[i] and not any(torch.equal(maps[i], maps[j]) for j in kept_here[1:]):
                    kept_here.append(i)
            kept += kept_here
        return sorted(kept)


def rank_deficient(channels: int, positions: int) -> bool:
    """Centred ``C x N`` data has rank <= N - 1: for N <= C its correlation matrix is singular."""
    return positions <= channels


def _all_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` (each once, as ``model.modules()``) without building name prefixes."""
    found = [model]
    seen = {id(model)}
    i = 0
    while i < len(found):
        for child in found[i]._modules.values():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                found.append(child)
        i += 1
    return found


def record_features(
    model: nn.Module,
    x: torch.Tensor,
    keep_rank_deficient: bool = True,
    keep_maps: bool = True,
    sink: Callable[[], MapSink] | None = None,
) -> FeatureRecord:
    """Forward ``x`` through ``model`` in train mode with a hook on every module.

    Distinct outputs are kept by reference, not copied. With ``keep_maps=False`` they
    go to a new ``sink()`` during the pass, a few maps of one shape at a time
    (``_CHUNK_BYTES``) while they are still in cache, and are then let go
    (``record.outputs`` stays empty): that lets the forward pass reuse their memory
    (holding every map of the pass makes the forward itself about 25% slower). A forward
    pre-hook on every module with ``inplace=True`` copies a map that is still needed just
    before the module may overwrite it (BN -> ReLU(inplace)); if some other in-place op
    changed such a map anyway (its version counter moved), the pass is repeated copying
    every map.
    """
    if not keep_maps and sink is None:
        raise ValueError("record_features(keep_maps=False) needs a sink for the maps")
    record = _record_pass(model, x, keep_rank_deficient, sink if not keep_maps else None, copy_all=False)
    if record is None:
        record = _record_pass(model, x, keep_rank_deficient, sink if not keep_maps else None, copy_all=True)
    return record


#: bytes of maps of one shape handed to the sink together during the pass:
#: about one L2 cache (8 maps of 16 x 32 x 32 float32)
_CHUNK_BYTES = 512 * 1024


def _record_pass(
    model: nn.Module,
    x: torch.Tensor,
    keep_rank_deficient: bool,
    make_sink: Callable[[], MapSink] | None,
    copy_all: bool,
) -> FeatureRecord | None:
    record = FeatureRecord()
    modules = _all_modules(model)
    members = set(modules)
    sink = make_sink() if make_sink is not None else None
    # A distinct output is keyed by (id, _version): _version tells a tensor before and
    # after an in-place op apart, and the weak reference stored with the key tells a
    # live tensor from a later one that got the id of a freed tensor. Two tensor objects
    # viewing the same data count as two outputs: the same value twice, never a
    # wrong one. This key is much cheaper per hook call than data_ptr/shape/stride.
    index: dict[tuple[int, int], tuple[int, weakref.ref]] = {}
    # outputs[i] is None once it is no longer needed (handed to the sink)
    outputs: list[torch.Tensor | None] = []
    versions: list[int | None] = []  # None once outputs[i] is a private copy
    pending: dict[tuple[int, int], list[int]] = {}  # (C, H*W) -> outputs awaiting the sink
    changed = False  # a map still needed was modified in place behind our back
    calls = record.calls
    lookup = index.get

    def unchanged(i: int) -> bool:
        return versions[i] is None or outputs[i]._version == versions[i]

    def flush(shape: tuple[int, int], items: list[int]) -> None:
        nonlocal changed
        if not all(unchanged(i) for i in items):
            changed = True
            return
        maps = [outputs[i] for i in items]
        # sample 0 of each output (slicing only when needed: a view per map is not free)
        maps = [out if out.shape[0] == 1 else out[:1] for out in maps]
        sink.add(items, torch.cat(maps).reshape(-1, *shape))
        for i in items:
            outputs[i] = None

    def hook(module: nn.Module, inputs: tuple, output: object) -> None:
        if module not in members:  # the global hook also sees other models' modules
            return
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            record.other_calls += 1
            return
        _, c, h, w = output.shape
        deficient = h * w <= c  # rank_deficient, inlined: this runs on every hook call
        if deficient and not keep_rank_deficient:
            record.skipped_calls += 1
            return
        version = output._version
        key = (id(output), version)
        hit = lookup(key)
        if hit is not None and hit[1]() is output:
            calls.append(hit[0])
            return
        i = len(outputs)
        index[key] = (i, weakref.ref(output))
        calls.append(i)
        if deficient and sink is not None:  # the sink has nothing to learn from it
            outputs.append(None)
            versions.append(None)
            return
        if copy_all:
            outputs.append(output.detach().clone())
            versions.append(None)
        else:
            outputs.append(output)
            versions.append(version)
        if sink is None:  # maps kept
            return
        shape = (c, h * w)
        queue = pending.setdefault(shape, [])
        queue.append(i)
        if len(queue) * c * h * w * output.element_size() >= _CHUNK_BYTES:
            flush(shape, pending.pop(shape))

    def before_inplace(module: nn.Module, inputs: tuple) -> None:
        for t in inputs:
            if isinstance(t, torch.Tensor):
                hit = lookup((id(t), t._version))
                if hit is not None and hit[1]() is t:
                    i = hit[0]
                    if outputs[i] is not None and versions[i] is not None:
                        outputs[i] = outputs[i].detach().clone()
                        versions[i] = None

    if not all(m.training for m in modules):
        model.train()
    # One global hook instead of one handle per module: registering and removing
    # hundreds of handles costs about as much as the forward pass itself.
    handles = [register_module_forward_hook(hook)]
    handles += [m.register_forward_pre_hook(before_inplace) for m in modules if m.__dict__.get("inplace", False)]
    try:
        with torch.no_grad():
            model(x)
            for shape, queue in pending.items():
                flush(shape, queue)
    finally:
        for handle in handles:
            handle.remove()
    if changed or not all(unchanged(i) for i, out in enumerate(outputs) if out is not None):
        return None  # changed in place after its hook by something we could not see coming
    if sink is None:
        record.outputs = [out.detach()[:1] for out in outputs]
    record.distinct = len(outputs)
    record.sink = sink
    return record


def forward_with_relu_hooks(model: nn.Module, x: torch.Tensor, hook: Callable, proxy: str) -> None:
    """One train-mode, no-grad forward pass of ``x`` with ``hook`` on every ``nn.ReLU`` (the
    activation-pattern proxies read the binary codes there)."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ValueError(f"{proxy} needs ReLU modules and the network has none")
    handles = [m.register_forward_hook(hook) for m in relus]
    try:
        model.train()
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
