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
storage pointer, shape, stride, dtype and version counter, with every output held
alive during the pass) gets its eigenvalue computed once and weighted by the number
of hook calls that returned it, which gives the same number as the per-call loop.
The Gram product runs in float32 like ``torch.corrcoef``; normalisation and the
symmetric eigen-solver (batched per matrix size) run in float64. Maps whose smallest
eigenvalue is exactly 0 (``H*W <= C``, or a constant channel) skip the solver.
On 50 random TSS networks MeCo costs 2.0-2.2x a plain batch-1 forward pass on one CPU
thread, against about 11x for the per-call float32 ``eig`` loop
(``benchmarks/proxy_cost.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.nn.modules.module import register_module_forward_hook

from zeronas.proxies._base import Needs, Proxy, ProxyContext, register_proxy

__all__ = ["FeatureRecord", "record_features", "min_corr_eigenvalues"]


@dataclass
class FeatureRecord:
    """The 4-D outputs of one forward pass, de-duplicated.

    ``outputs[i]`` is sample 0 of a distinct output (``1 x C x H x W``) with the
    contents it had when its hook fired, ``maps[i]`` the same as ``C x (H*W)``;
    ``calls`` lists, per hook call with a 4-D output, the index into ``outputs``.
    Rank-deficient maps (smallest eigenvalue exactly 0, see :func:`min_corr_eigenvalues`)
    are left out unless asked for; their calls are counted in ``skipped_calls``.
    """

    #: the distinct 4-D outputs (sample 0 is the map), as they were when their hook fired
    outputs: list[torch.Tensor] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    #: hook calls whose output was not a 4-D feature map (they contribute 0)
    other_calls: int = 0
    #: hook calls whose map was rank-deficient and not kept (they contribute 0)
    skipped_calls: int = 0

    @property
    def maps(self) -> list[torch.Tensor]:
        return [out[0].reshape(out.shape[1], -1) for out in self.outputs]

    def counts(self) -> list[int]:
        counts = [0] * len(self.outputs)
        for i in self.calls:
            counts[i] += 1
        return counts

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


def record_features(model: nn.Module, x: torch.Tensor, keep_rank_deficient: bool = True) -> FeatureRecord:
    """Forward ``x`` through ``model`` in train mode with a hook on every module.

    Distinct outputs are kept by reference, not copied. A forward pre-hook on every
    module with ``inplace=True`` copies a recorded map just before the module may
    overwrite it (BN -> ReLU(inplace)); if some other in-place op changed a recorded
    map anyway (its version counter moved), the pass is repeated copying every map.
    """
    record = _record_pass(model, x, keep_rank_deficient, copy_all=False)
    if record is None:
        record = _record_pass(model, x, keep_rank_deficient, copy_all=True)
    return record


def _record_pass(model: nn.Module, x: torch.Tensor, keep_rank_deficient: bool, copy_all: bool) -> FeatureRecord | None:
    record = FeatureRecord()
    modules = _all_modules(model)
    members = set(modules)
    index: dict[tuple, int] = {}
    # Every distinct output is held until the end: that keeps a freed storage from being
    # reused by a later, different tensor with the same data_ptr within this pass.
    outputs: list[torch.Tensor] = []
    versions: list[int | None] = []  # None once outputs[i] is a private copy

    def hook(module: nn.Module, inputs: tuple, output: object) -> None:
        if module not in members:  # the global hook also sees other models' modules
            return
        if not isinstance(output, torch.Tensor) or output.dim() != 4:
            record.other_calls += 1
            return
        shape = output.shape
        if not keep_rank_deficient and shape[2] * shape[3] <= shape[1]:
            record.skipped_calls += 1
            return
        # _version tells a tensor before and after an in-place op apart.
        key = (output.data_ptr(), shape, output.stride(), output.dtype, output._version)
        i = index.get(key)
        if i is None:
            i = index[key] = len(outputs)
            if copy_all:
                outputs.append(output.detach().clone())
                versions.append(None)
            else:
                outputs.append(output)
                versions.append(output._version)
        record.calls.append(i)

    def before_inplace(module: nn.Module, inputs: tuple) -> None:
        for t in inputs:
            if isinstance(t, torch.Tensor) and t.dim() == 4:
                i = index.get((t.data_ptr(), t.shape, t.stride(), t.dtype, t._version))
                if i is not None and versions[i] is not None:
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
    finally:
        for handle in handles:
            handle.remove()
    for out, version in zip(outputs, versions):
        if version is not None and out._version != version:
            return None  # changed in place after its hook by something we could not see coming
    record.outputs = [out.detach()[:1] for out in outputs]
    return record


def _correlation(x: torch.Tensor, constant: torch.Tensor | None = None) -> torch.Tensor:
    """Batched Pearson correlation of the rows of ``x`` (``k x C x N``) as float64.

    Centring and the Gram product run in the input's precision (as ``torch.corrcoef``
    does); normalisation in float64. Constant rows (zero variance, also every row when
    N == 1) get all-zero rows and columns, diagonal included, as NaN -> 0 gives in the
    reference. They are found exactly (max == min) because float32 ``corrcoef`` turns
    them into spurious +-1 blocks instead of NaN.
    """
    if constant is None:
        constant = x.amax(dim=-1) == x.amin(dim=-1)
    centred = x - x.mean(dim=-1, keepdim=True)
    cov = torch.bmm(centred, centred.transpose(-1, -2)).double()
    if constant.any():
        cov = cov.masked_fill(constant.unsqueeze(-1) | constant.unsqueeze(-2), 0.0)
    std = cov.diagonal(dim1=-2, dim2=-1).sqrt().masked_fill(constant, 1.0)
    corr = cov / (std.unsqueeze(-1) * std.unsqueeze(-2))
    corr = torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)
    return corr.clamp_(-1.0, 1.0)


def min_corr_eigenvalues(maps: list[torch.Tensor]) -> torch.Tensor:
    """Smallest eigenvalue of each ``C x N`` map's channel correlation matrix (float64).

    Exact shortcuts, no approximation: a rank-deficient map (``N <= C``) and a map
    with a constant channel (a zero row and column of a PSD matrix) both have smallest
    eigenvalue 0. The rest are batched per matrix size through the symmetric solver.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for i, m in enumerate(maps):
        groups.setdefault(tuple(m.shape), []).append(i)
    stacks = {shape: (members, lambda members=members: torch.stack([maps[i] for i in members]))
              for shape, members in groups.items()}
    return _grouped_min_eigenvalues(len(maps), stacks, maps[0].device if maps else torch.device("cpu"))


def record_min_eigenvalues(record: FeatureRecord) -> torch.Tensor:
    """:func:`min_corr_eigenvalues` of ``record.maps``, stacking whole outputs per shape."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, out in enumerate(record.outputs):
        _, c, h, w = out.shape
        groups.setdefault((c, h * w), []).append(i)
    outputs = record.outputs
    stacks = {
        shape: (members, lambda members=members, shape=shape: torch.cat([outputs[i] for i in members]).reshape(-1, *shape))
        for shape, members in groups.items()
    }
    return _grouped_min_eigenvalues(len(outputs), stacks, outputs[0].device if outputs else torch.device("cpu"))


def _grouped_min_eigenvalues(n: int, stacks: dict, device: torch.device) -> torch.Tensor:
    out = torch.zeros(n, dtype=torch.float64, device=device)
    for (channels, positions), (members, stack) in stacks.items():
        if _rank_deficient(channels, positions):
            continue
        stacked = stack()
        index = torch.tensor(members, device=device)
        has_constant = (stacked.amax(dim=-1) == stacked.amin(dim=-1)).any(dim=-1)
        if channels == 1:  # the 1x1 correlation [1] (or [0] when constant)
            out.index_copy_(0, index, (~has_constant).double())
            continue
        if has_constant.any():
            keep = ~has_constant
            if not keep.any():
                continue
            index, stacked = index[keep], stacked[keep]
        no_constant = torch.zeros(stacked.shape[:2], dtype=torch.bool, device=stacked.device)
        out.index_copy_(0, index, torch.linalg.eigvalsh(_correlation(stacked, no_constant))[:, 0])
    return out


def _record(ctx: ProxyContext) -> FeatureRecord:
    # meco, meco_distinct and meco_opt agree on the pass: train mode, the one fixed sample.
    # meco_opt also needs the rank-deficient maps (its sampled sub-matrices are not).
    keep_all = "meco_opt" in ctx.requested

    def run() -> FeatureRecord:
        return record_features(ctx.model, ctx.sample, keep_rank_deficient=keep_all)

    return ctx.shared("meco_features", run)


def _eigenvalues(ctx: ProxyContext, record: FeatureRecord) -> torch.Tensor:
    return ctx.shared("meco_eigenvalues", lambda: record_min_eigenvalues(record))


_MECO_NEEDS = Needs(inputs="sample")


@register_proxy("meco")
class MeCo(Proxy):
    """Sum of the smallest correlation eigenvalue over every hook call (authors' script)."""

    needs = _MECO_NEEDS

    def compute(self, ctx: ProxyContext) -> float:
        record = _record(ctx)
        if not record.outputs:
            return 0.0
        eig = _eigenvalues(ctx, record)
        counts = torch.tensor(record.counts(), dtype=torch.float64, device=eig.device)
        return float((eig * counts).sum())


@register_proxy("meco_distinct")
class MeCoDistinct(Proxy):
    """Sum of the smallest correlation eigenvalue over each distinct feature map once."""

    needs = _MECO_NEEDS

    def compute(self, ctx: ProxyContext) -> float:
        record = _record(ctx)
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
        record = _record(ctx)
        if record.skipped_calls:
            raise RuntimeError("meco_opt needs the rank-deficient maps; list it in the scorer's proxies")
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
