"""MeCo: Minimum eigenvalue of Correlation on feature maps.

Jiang, Wang, Bie. "MeCo: Zero-Shot NAS with One Data and Single Forward Pass via
Minimum Eigenvalue of Correlation", NeurIPS 2023.

Definition reproduced here (the authors' NATS-Bench script): the network in train
mode with PyTorch's default init does one forward pass of **one** sample. A forward
hook sits on every module (root, containers, leaves). For each hook call the output's
sample 0 is reshaped to ``C x (H*W)`` (channels are the variables), its ``C x C``
Pearson correlation matrix is formed with NaN/Inf entries set to 0 (constant or dead
channels, ``none`` ops, 1x1 maps) and its smallest eigenvalue is taken; outputs that
are not 4-D feature maps contribute 0.

* ``meco``: the sum over **all hook calls**; a tensor returned by nested modules
  (a ``Sequential`` and its last child, an ``Identity``) counts once per call.
* ``meco_distinct``: the literal paper wording, each distinct feature map once;
  distinct by value, so a map that two modules compute from the same input (two
  ReLUs on one node, a ``Sequential`` and its last child) counts once.
* ``meco_opt``: per hook call, ``n`` channels (default 8, seeded) are sampled; the
  smallest eigenvalue of that ``n x n`` correlation times ``C / n`` is summed.

All three share one recorded forward pass. Each distinct tensor (identified by
object and version counter) gets its eigenvalue computed once and weighted by the
number of hook calls that returned it, which gives the same number as the per-call
loop. The Gram product runs in float32 like ``torch.corrcoef``; normalisation and the
symmetric eigen-solver (batched per matrix size) run in float64. Maps whose smallest
eigenvalue is exactly 0 (``H*W <= C``, or a constant channel) skip the solver. For
``meco`` alone the Gram products are formed during the pass, a cache-sized batch of
same-shape maps at a time, and the maps are released (the other two keep them).
On 50 random TSS networks MeCo costs 1.8-1.9x a plain batch-1 forward pass on one
CPU thread (median of per-arch ratios 1.83-1.88, ratio of medians 1.92-2.01), against
about 11x for the per-call float32 ``eig`` loop (``benchmarks/proxy_cost.py --proxies
meco``; with meco_distinct or meco_opt also requested the maps are kept: about 2.0-2.1x).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.nn.modules.module import register_module_forward_hook

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext

__all__ = ["FeatureRecord", "record_features", "min_corr_eigenvalues"]


@dataclass
class FeatureRecord:
    """The 4-D outputs of one forward pass, de-duplicated.

    ``outputs[i]`` is sample 0 of a distinct output (``1 x C x H x W``) with the
    contents it had when its hook fired, ``maps[i]`` the same as ``C x (H*W)``;
    ``calls`` lists, per hook call with a 4-D output, the index into ``outputs``.
    Recorded with ``keep_maps=False`` (``meco`` alone), ``outputs`` is empty and only
    the covariance matrices formed during the pass are kept. Rank-deficient maps (smallest eigenvalue exactly 0, see :func:`min_corr_eigenvalues`)
    are left out unless asked for; their calls are counted in ``skipped_calls``.
    """

    #: the distinct 4-D outputs (sample 0 is the map), as they were when their hook fired;
    #: empty when recorded with ``keep_maps=False``
    outputs: list[torch.Tensor] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    #: number of distinct outputs (``len(outputs)`` when the maps are kept)
    distinct: int = 0
    #: covariance matrices formed during the pass (``keep_maps=False``), else None
    correlations: _CorrelationBatches | None = field(default=None, repr=False)
    _eigenvalues: torch.Tensor | None = field(default=None, repr=False)
    #: hook calls whose output was not a 4-D feature map (they contribute 0)
    other_calls: int = 0
    #: hook calls whose map was rank-deficient and not kept (they contribute 0)
    skipped_calls: int = 0

    @property
    def maps(self) -> list[torch.Tensor]:
        return [out[0].reshape(out.shape[1], -1) for out in self.outputs]

    def counts(self) -> list[int]:
        counts = [0] * self.distinct
        for i in self.calls:
            counts[i] += 1
        return counts

    def min_eigenvalues(self) -> torch.Tensor:
        """Smallest correlation eigenvalue (float64) of each distinct output, computed once."""
        if self._eigenvalues is None:
            correlations = self.correlations
            if correlations is None:
                correlations = _CorrelationBatches()
                groups: dict[tuple[int, int], list[int]] = {}
                for i, out in enumerate(self.outputs):
                    _, c, h, w = out.shape
                    groups.setdefault((c, h * w), []).append(i)
                for shape, members in groups.items():
                    if not _rank_deficient(*shape):
                        correlations.add(members, torch.cat([self.outputs[i] for i in members]).reshape(-1, *shape))
            device = self.outputs[0].device if self.outputs else None
            self._eigenvalues = correlations.min_eigenvalues(self.distinct, device)
        return self._eigenvalues

    def distinct_by_value(self) -> list[int]:
        """Indices of maps with distinct contents: a map recomputed by another module
        (two ReLUs on the same input, two ``none`` ops) is kept once."""
        kept: list[int] = []
        buckets: dict[tuple, list[int]] = {}
        maps = self.maps
        for i, m in enumerate(maps):
            fingerprint = (tuple(m.shape), float(m.sum()), float(m.abs().sum()))
            bucket = buckets.setdefault(fingerprint, [])
            if not any(torch.equal(m, maps[j]) for j in bucket):
                bucket.append(i)
                kept.append(i)
        return kept


def _rank_deficient(channels: int, positions: int) -> bool:
    # Centred C x N data has rank <= N - 1: for N <= C the correlation matrix is
    # singular (or all zero) and, being PSD, its smallest eigenvalue is exactly 0.
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
    model: nn.Module, x: torch.Tensor, keep_rank_deficient: bool = True, keep_maps: bool = True
) -> FeatureRecord:
    """Forward ``x`` through ``model`` in train mode with a hook on every module.

    Distinct outputs are kept by reference, not copied. With ``keep_maps=False`` their
    covariance matrices are formed during the pass, a few maps of one shape at a time
    (``_CHUNK_BYTES``) while they are still in cache, and the maps are then let go
    (``record.outputs`` stays empty): that lets the forward pass reuse their memory
    (holding every map of the pass makes the forward itself about 25% slower). A forward
    pre-hook on every module with ``inplace=True`` copies a map that is still needed just
    before the module may overwrite it (BN -> ReLU(inplace)); if some other in-place op
    changed such a map anyway (its version counter moved), the pass is repeated copying
    every map.
    """
    record = _record_pass(model, x, keep_rank_deficient, keep_maps, copy_all=False)
    if record is None:
        record = _record_pass(model, x, keep_rank_deficient, keep_maps, copy_all=True)
    return record


#: bytes of maps of one shape whose correlations are formed together during the pass:
#: about one L2 cache (8 maps of 16 x 32 x 32 float32)
_CHUNK_BYTES = 512 * 1024


def _record_pass(
    model: nn.Module, x: torch.Tensor, keep_rank_deficient: bool, keep_maps: bool, copy_all: bool
) -> FeatureRecord | None:
    record = FeatureRecord()
    modules = _all_modules(model)
    members = set(modules)
    correlations = None if keep_maps else _CorrelationBatches()
    # A distinct output is keyed by (id, _version): _version tells a tensor before and
    # after an in-place op apart, and the weak reference stored with the key tells a
    # live tensor from a later one that got the id of a freed tensor. Two tensor objects
    # viewing the same data count as two outputs: the same eigenvalue twice, never a
    # wrong one. This key is much cheaper per hook call than data_ptr/shape/stride.
    index: dict[tuple[int, int], tuple[int, weakref.ref]] = {}
    # outputs[i] is None once it is no longer needed (correlation formed, keep_maps off)
    outputs: list[torch.Tensor | None] = []
    versions: list[int | None] = []  # None once outputs[i] is a private copy
    pending: dict[tuple[int, int], list[int]] = {}  # (C, H*W) -> outputs awaiting their correlation
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
        correlations.add(items, torch.cat(maps).reshape(-1, *shape))
        for i in items:
            outputs[i] = None

    def hook(module: nn.Module, inputs: tuple, output: object) -> None:
        if module not in members:  # the global hook also sees other models' modules
            return
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            record.other_calls += 1
            return
        _, c, h, w = output.shape
        deficient = h * w <= c  # _rank_deficient, inlined: this runs on every hook call
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
        if deficient and correlations is not None:  # eigenvalue exactly 0, map not kept
            outputs.append(None)
            versions.append(None)
            return
        if copy_all:
            outputs.append(output.detach().clone())
            versions.append(None)
        else:
            outputs.append(output)
            versions.append(version)
        if correlations is None:  # maps kept: correlations are formed at the end
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
    if keep_maps:
        record.outputs = [out.detach()[:1] for out in outputs]
    record.distinct = len(outputs)
    record.correlations = correlations
    return record


def _covariance(x: torch.Tensor) -> torch.Tensor:
    """Batched unnormalised covariance (centred Gram product) of the rows of ``x`` (``k x C x N``).

    ``x`` is overwritten (centred in place): callers pass a freshly stacked copy. Both
    steps run in the input's precision, as ``torch.corrcoef`` does.
    """
    centred = x.sub_(x.mean(dim=-1, keepdim=True))
    return torch.bmm(centred, centred.transpose(-1, -2))


def _correlation(cov: torch.Tensor) -> torch.Tensor:
    """Pearson correlation (float64) from a batch of covariance matrices without constant rows."""
    cov = cov.double()
    inv_std = cov.diagonal(dim1=-2, dim2=-1).rsqrt()  # a new tensor, not a view of cov
    corr = cov.mul_(inv_std.unsqueeze(-1)).mul_(inv_std.unsqueeze(-2))
    # Only a float32 variance that underflowed to 0 can leave NaN/Inf here. (No clamp to
    # [-1, 1] as corrcoef does: in float64 that moves eigenvalues by ~1e-16 at most.)
    return corr.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)


class _CorrelationBatches:
    """Covariance matrices added batch by batch; normalised and solved per size at the end.

    Exact shortcuts, no approximation: a rank-deficient map (``N <= C``) and a map with
    a constant channel (a zero row and column of a PSD matrix, as NaN -> 0 makes it in
    the reference) both have smallest eigenvalue 0; a 1-channel map has the 1x1
    correlation [1]. Constant channels must be found exactly (max == min) because
    float32 ``corrcoef`` turns them into spurious +-1 blocks instead of NaN.
    """

    def __init__(self) -> None:
        self._matrices: dict[int, list[tuple[list[int], torch.Tensor]]] = {}
        self._ones: list[int] = []
        self._device = torch.device("cpu")

    def add(self, indices: list[int], maps: torch.Tensor) -> None:
        """``maps`` (``k x C x N``, a fresh copy: it is overwritten) are items ``indices``."""
        _, channels, positions = maps.shape
        self._device = maps.device
        if _rank_deficient(channels, positions):
            return
        constant = maps.amax(dim=-1) == maps.amin(dim=-1)
        if channels == 1:
            self._ones += [i for i, const in zip(indices, constant[:, 0].tolist()) if not const]
            return
        if constant.any():
            keep = ~constant.any(dim=-1)
            indices = [i for i, kept in zip(indices, keep.tolist()) if kept]
            if not indices:
                return
            maps = maps[keep]
        self._matrices.setdefault(channels, []).append((indices, _covariance(maps)))

    def min_eigenvalues(self, n: int, device: torch.device | None = None) -> torch.Tensor:
        """Smallest eigenvalue (float64) of items ``0 .. n-1``; 0 for those never added."""
        device = self._device if device is None else device
        out = torch.zeros(n, dtype=torch.float64, device=device)
        if self._ones:
            out[torch.tensor(self._ones, device=device)] = 1.0
        for batches in self._matrices.values():
            index = torch.tensor([i for indices, _ in batches for i in indices], device=device)
            cov = batches[0][1] if len(batches) == 1 else torch.cat([c for _, c in batches])
            out.index_copy_(0, index, torch.linalg.eigvalsh(_correlation(cov))[:, 0])
        return out


def min_corr_eigenvalues(maps: list[torch.Tensor]) -> torch.Tensor:
    """Smallest eigenvalue of each ``C x N`` map's channel correlation matrix (float64).

    Rank-deficient maps and maps with a constant channel get exactly 0 (see
    :class:`_CorrelationBatches`); the rest are batched per size through the symmetric solver.
    """
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, m in enumerate(maps):
        groups.setdefault(tuple(m.shape), []).append(i)
    correlations = _CorrelationBatches()
    for members in groups.values():
        correlations.add(members, torch.stack([maps[i] for i in members]))
    return correlations.min_eigenvalues(len(maps), maps[0].device if maps else torch.device("cpu"))


def _record(ctx: ProxyContext, maps: bool, rank_deficient: bool) -> FeatureRecord:
    # meco, meco_distinct and meco_opt agree on the pass: train mode, the one fixed sample.
    # One pass serves every MeCo variant the scorer computes: the maps are kept when
    # meco_distinct or meco_opt needs them, the rank-deficient ones when meco_opt does.
    maps = maps or "meco_distinct" in ctx.requested or "meco_opt" in ctx.requested
    rank_deficient = rank_deficient or "meco_opt" in ctx.requested
    key = f"meco_features(maps={maps}, rank_deficient={rank_deficient})"

    def run() -> FeatureRecord:
        return record_features(ctx.model, ctx.sample, keep_rank_deficient=rank_deficient, keep_maps=maps)

    return ctx.shared(key, run)


def _eigenvalues(ctx: ProxyContext, record: FeatureRecord) -> torch.Tensor:
    return ctx.shared(f"meco_eigenvalues({id(record)})", record.min_eigenvalues)


_MECO_NEEDS = Needs(inputs="sample")


@register_proxy("meco")
class MeCo(Proxy):
    """Sum of the smallest correlation eigenvalue over every hook call (authors' script)."""

    needs = _MECO_NEEDS

    def compute(self, ctx: ProxyContext) -> float:
        record = _record(ctx, maps=False, rank_deficient=False)
        if not record.distinct:
            return 0.0
        eig = _eigenvalues(ctx, record)
        counts = torch.tensor(record.counts(), dtype=torch.float64, device=eig.device)
        return float((eig * counts).sum())


@register_proxy("meco_distinct")
class MeCoDistinct(Proxy):
    """Sum of the smallest correlation eigenvalue over each distinct feature map once."""

    needs = _MECO_NEEDS

    def compute(self, ctx: ProxyContext) -> float:
        record = _record(ctx, maps=True, rank_deficient=False)
        if not record.outputs:
            return 0.0
        kept = torch.tensor(record.distinct_by_value(), dtype=torch.long)
        return float(_eigenvalues(ctx, record).cpu()[kept].sum())


@register_proxy("meco_opt")
class MeCoOpt(Proxy):
    """Per hook call: smallest eigenvalue of ``n`` seeded sampled channels, times ``C / n``."""

    needs = _MECO_NEEDS

    def __init__(self, n: int = 8) -> None:
        if n < 1:
            raise ValueError(f"meco_opt needs n >= 1 sampled channels, got {n}")
        self.n = n

    def __repr__(self) -> str:
        return f"MeCoOpt(n={self.n})"

    def compute(self, ctx: ProxyContext) -> float:
        record = _record(ctx, maps=True, rank_deficient=True)
        generator = torch.Generator().manual_seed(ctx.seed)
        subsets: list[torch.Tensor] = []
        scales: list[float] = []
        maps = record.maps
        for i in record.calls:
            fmap = maps[i]
            channels = fmap.shape[0]
            k = min(self.n, channels)
            picked = torch.randperm(channels, generator=generator)[:k].to(fmap.device)
            subsets.append(fmap.index_select(0, picked))
            scales.append(channels / k)
        if not subsets:
            return 0.0
        eig = min_corr_eigenvalues(subsets)
        return float((eig * torch.tensor(scales, dtype=torch.float64, device=eig.device)).sum())
