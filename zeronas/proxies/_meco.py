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

All three share one recorded forward pass (:mod:`zeronas.proxies._features`). Each
distinct tensor (identified by object and version counter) gets its eigenvalue computed
once and weighted by the number of hook calls that returned it, which gives the same
number as the per-call loop. Precision: the Gram product runs in float32 like
``torch.corrcoef``; float64 is used only where the correlation matrix needs it, for the
normalisation of the covariance and the symmetric eigen-solver (batched per matrix size,
at the end of the pass): smallest eigenvalues of near-singular correlation matrices lose
their digits in float32. Maps whose smallest eigenvalue is exactly 0 (``H*W <= C``, or a
constant channel) skip the solver. For ``meco`` alone the Gram products are formed during
the pass, a cache-sized batch of same-shape maps at a time, and the maps are released
(the other two keep them). On CUDA nothing reads a value back to the host until the
final sum (plus one check per ``eigvalsh`` call inside torch); the constant-channel
shortcut is then applied by masking instead of filtering. Costs: ``benchmarks/proxy_cost.py``
and docs/measured/proxy-cost.md.
"""

from __future__ import annotations

import torch

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._features import FeatureRecord, rank_deficient, record_features

__all__ = ["FeatureRecord", "record_features", "min_corr_eigenvalues", "min_eigenvalues"]


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


def _defer_checks(device: torch.device) -> bool:
    """Whether value-dependent shortcuts wait for the end of the pass (masking instead of
    filtering): on a CPU reading a value costs nothing; on CUDA it waits for the queue to drain."""
    return device.type != "cpu"


def _to(values: list, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A small host list on ``device`` without waiting for the device (a plain ``.to`` would)."""
    return torch.tensor(values, dtype=dtype).to(device, non_blocking=True)


class _CorrelationBatches:
    """Covariance matrices added batch by batch; normalised and solved per size at the end.

    Exact shortcuts, no approximation: a rank-deficient map (``N <= C``) and a map with
    a constant channel (a zero row and column of a PSD matrix, as NaN -> 0 makes it in
    the reference) both have smallest eigenvalue 0; a 1-channel map has the 1x1
    correlation [1]. Constant channels must be found exactly (max == min) because
    float32 ``corrcoef`` turns them into spurious +-1 blocks instead of NaN. On a CPU the
    maps with a constant channel are dropped as they come; elsewhere (``_defer_checks``)
    their mask stays on the device and their eigenvalue is set to 0 at the end.
    """

    def __init__(self) -> None:
        # channels -> [(indices, covariance matrices, has-a-constant-channel mask or None)]
        self._matrices: dict[int, list[tuple[list[int], torch.Tensor, torch.Tensor | None]]] = {}
        self._ones: list[tuple[list[int], torch.Tensor | None]] = []
        self._device = torch.device("cpu")

    def add(self, indices: list[int], maps: torch.Tensor) -> None:
        """``maps`` (``k x C x N``, a fresh copy: it is overwritten) are items ``indices``."""
        _, channels, positions = maps.shape
        self._device = maps.device
        if rank_deficient(channels, positions):
            return
        constant = maps.amax(dim=-1) == maps.amin(dim=-1)
        if _defer_checks(maps.device):
            if channels == 1:
                self._ones.append((indices, constant[:, 0]))
            else:
                self._matrices.setdefault(channels, []).append((indices, _covariance(maps), constant.any(dim=-1)))
            return
        if channels == 1:
            varying = [i for i, const in zip(indices, constant[:, 0].tolist(), strict=True) if not const]
            self._ones.append((varying, None))
            return
        if constant.any():
            keep = ~constant.any(dim=-1)
            indices = [i for i, kept in zip(indices, keep.tolist(), strict=True) if kept]
            if not indices:
                return
            maps = maps[keep]
        self._matrices.setdefault(channels, []).append((indices, _covariance(maps), None))

    def min_eigenvalues(self, n: int, device: torch.device | None = None) -> torch.Tensor:
        """Smallest eigenvalue (float64) of items ``0 .. n-1``; 0 for those never added."""
        device = self._device if device is None else device
        out = torch.zeros(n, dtype=torch.float64, device=device)
        for indices, constant in self._ones:
            if indices:
                values = torch.ones(len(indices), dtype=torch.float64, device=device)
                if constant is not None:
                    values = values.masked_fill_(constant, 0.0)
                out.index_copy_(0, _to(indices, torch.long, device), values)
        for channels, batches in self._matrices.items():
            index = _to([i for indices, _, _ in batches for i in indices], torch.long, device)
            cov = batches[0][1] if len(batches) == 1 else torch.cat([c for _, c, _ in batches])
            corr = _correlation(cov)
            masks = [m for _, _, m in batches if m is not None]
            if masks:  # deferred: solve an identity instead, then report 0
                constant = masks[0] if len(masks) == 1 else torch.cat(masks)
                eye = torch.eye(channels, dtype=corr.dtype, device=corr.device)
                corr = torch.where(constant[:, None, None], eye, corr)
                eig = torch.linalg.eigvalsh(corr)[:, 0].masked_fill_(constant, 0.0)
            else:
                eig = torch.linalg.eigvalsh(corr)[:, 0]
            out.index_copy_(0, index, eig)
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


def min_eigenvalues(record: FeatureRecord) -> torch.Tensor:
    """Smallest correlation eigenvalue (float64) of each distinct output of ``record``, computed once."""
    if "min_eigenvalues" not in record._cache:
        correlations = record.sink
        if correlations is None:
            correlations = _CorrelationBatches()
            groups: dict[tuple[int, int], list[int]] = {}
            for i, out in enumerate(record.outputs):
                _, c, h, w = out.shape
                groups.setdefault((c, h * w), []).append(i)
            for shape, members in groups.items():
                if not rank_deficient(*shape):
                    correlations.add(members, torch.cat([record.outputs[i] for i in members]).reshape(-1, *shape))
        device = record.outputs[0].device if record.outputs else None
        record._cache["min_eigenvalues"] = correlations.min_eigenvalues(record.distinct, device)
    return record._cache["min_eigenvalues"]


def _record(ctx: ProxyContext, maps: bool, rank_deficient: bool) -> FeatureRecord:
    # meco, meco_distinct and meco_opt agree on the pass: train mode, the one fixed sample.
    # One pass serves every MeCo variant the scorer computes: the maps are kept when
    # meco_distinct or meco_opt needs them, the rank-deficient ones when meco_opt does.
    maps = maps or "meco_distinct" in ctx.requested or "meco_opt" in ctx.requested
    rank_deficient = rank_deficient or "meco_opt" in ctx.requested
    key = f"meco_features(maps={maps}, rank_deficient={rank_deficient})"

    def run() -> FeatureRecord:
        return record_features(
            ctx.model, ctx.sample, keep_rank_deficient=rank_deficient, keep_maps=maps, sink=_CorrelationBatches
        )

    return ctx.shared(key, run)


def _eigenvalues(ctx: ProxyContext, record: FeatureRecord) -> torch.Tensor:
    return ctx.shared(f"meco_eigenvalues({id(record)})", lambda: min_eigenvalues(record))


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
        counts = _to(record.counts(), torch.float64, eig.device)
        return float((eig * counts).sum())


@register_proxy("meco_distinct")
class MeCoDistinct(Proxy):
    """Sum of the smallest correlation eigenvalue over each distinct feature map once."""

    needs = _MECO_NEEDS

    def compute(self, ctx: ProxyContext) -> float:
        record = _record(ctx, maps=True, rank_deficient=False)
        if not record.outputs:
            return 0.0
        eig = _eigenvalues(ctx, record)
        return float(eig[_to(record.distinct_by_value(), torch.long, eig.device)].sum())


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
        if not record.calls:
            return 0.0
        generator = torch.Generator().manual_seed(ctx.seed)
        maps = record.maps
        # the seeded draws on the host, in call order, then one transfer for them all
        picks: list[torch.Tensor] = []
        scales: list[float] = []
        for i in record.calls:
            channels = maps[i].shape[0]
            k = min(self.n, channels)
            picks.append(torch.randperm(channels, generator=generator)[:k])
            scales.append(channels / k)
        device = maps[0].device
        picked = torch.cat(picks).to(device, non_blocking=True).split([len(p) for p in picks])
        subsets = [maps[i].index_select(0, sel) for i, sel in zip(record.calls, picked, strict=True)]
        eig = min_corr_eigenvalues(subsets)
        return float((eig * _to(scales, torch.float64, eig.device)).sum())
