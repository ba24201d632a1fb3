"""SED: suppression of local entropy decrease, a data-free score from the cell topology alone.

Wu, Huang, Xu, Hao. "Zero-Shot NAS via the Suppression of Local Entropy Decrease", arXiv 2411.06236.

What the paper gives (from the copies we could read: the arXiv abstract page of v3, the abstract
and opening of the introduction of the HTML v2, and third-party summaries such as
chatpaper.com/pt/paper/75564): particular topologies -- large pooling kernels, small convolution
kernels and excessive skip connections -- lower the local entropy of feature maps (proved with
one-dimensional and multivariate Gaussian entropies), degrading features to a bias, and SED scores
an architecture from its topology only (no data, no forward pass) by how well it suppresses that
decrease; the paper evaluates it on five benchmarks. None of these copies holds the paper's SED
equation, its per-operation weights or its NAS-Bench-201 correlation, and no official code was found
in the indexed public repositories, so the paper's own CIFAR-10 figure cannot be quoted here.

**Reconstructed (ours, not the paper's equation)**, each choice below:

1. per-edge weights: a ``k x k`` convolution adds ``k^2`` (its receptive field: 1 for
   ``nor_conv_1x1``, 9 for ``nor_conv_3x3``), an ``avg_pool_3x3`` subtracts 1, a ``skip_connect``
   subtracts 1 (every TSS pool is 3x3, so the pooling-kernel term reduces to a count);
2. the three terms are added with unit weights: ``sed = sum_conv k^2 - n_pool - n_skip``;
3. only *live* edges count (op not ``none``, on a path from the cell input to its output);
4. a cell with no input-output path (output independent of the input) scores ``-7``, below every
   connected cell (whose minimum is ``-6``);
5. the per-cell value scores the network (every cell of a TSS network is the same; no depth term).

Measured (ours): Spearman 0.8462, Kendall 0.6707 against ``cifar10_test_acc_200ep`` on all 15,625
TSS cells (``zeronas score --space tss --all --proxies sed --out sed_all.parquet``, then
``python benchmarks/proxy_correlation.py --scores sed_all.parquet``).

SSS: every network has the same cell (``SizeSpace.cell``), so every SSS network gets that
cell's value: defined, but constant, so it cannot rank SSS networks.

DARTS: not implemented (``None`` with a one-line reason). It would need the same three terms over
the live edges of both the normal and the reduction cell (``sep_conv``/``dil_conv`` k x k
kernels, max/avg pooling, ``skip_connect``; each intermediate node takes two inputs and
the cell output concatenates nodes 2-5), with a stated weighting of the two cells.
"""

from __future__ import annotations

from zeronas.proxies._api import register_proxy
from zeronas.proxies._base import Needs, Proxy, ProxyContext

#: per-op contribution of a live edge (k^2 for a k x k convolution, -1 for pool and skip)
TSS_EDGE_SCORE = {"nor_conv_1x1": 1.0, "nor_conv_3x3": 9.0, "avg_pool_3x3": -1.0, "skip_connect": -1.0}
#: score of a cell whose output does not depend on its input
DISCONNECTED_SCORE = -7.0


def live_edges(ops: dict[tuple[int, int], str], output: int = 3) -> list[tuple[int, int]]:
    """Edges ``(dst, src)`` that are not ``none`` and lie on a path from node 0 to ``output``."""
    edges = [e for e, op in ops.items() if op != "none"]
    reach = {0}
    for dst, src in sorted(edges):  # sources precede destinations in a NAS-Bench-201 cell
        if src in reach:
            reach.add(dst)
    feeds = {output}
    for dst, src in sorted(edges, reverse=True):
        if dst in feeds:
            feeds.add(src)
    return [(dst, src) for dst, src in edges if src in reach and dst in feeds]


def tss_sed(ops: dict[tuple[int, int], str]) -> float:
    live = live_edges(ops)
    if not live:
        return DISCONNECTED_SCORE
    return float(sum(TSS_EDGE_SCORE[ops[e]] for e in live))


@register_proxy("sed")
class SED(Proxy):
    needs = Needs(network=False, inputs="none")

    def compute(self, ctx: ProxyContext) -> float:
        from zeronas.spaces._tss_cell import EDGES, TSS_OPS, parse_cell

        if ctx.space.name == "tss":
            code = ctx.space.parse(ctx.arch)
        elif ctx.space.name == "sss":
            code = parse_cell(ctx.space.cell)
        else:
            raise ValueError(f"sed is defined for the tss and sss spaces, not {ctx.space.name}")
        return tss_sed({edge: TSS_OPS[c] for edge, c in zip(EDGES, code)})
