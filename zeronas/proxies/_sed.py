"""SED: suppression of local entropy decrease, a data-free score from the cell topology alone.

Wu, Huang, Xu, Hao. "Zero-Shot NAS via the Suppression of Local Entropy Decrease",
arXiv 2411.06236 (AAAI 2025).

The paper proves that three topology choices lower the local entropy of feature maps
(pooling averages a neighbourhood into one value; a convolution with a larger kernel
raises the multivariate Gaussian entropy of its output; stacked identity paths add no
entropy) and scores an architecture by how well its topology suppresses that decrease,
summing a *conv*, a *pool* and a *skip* term. The stored copies of the paper reachable
while this module was written give the three terms but not their closed-form weights,
so the weighting below is **our reconstruction**, not the paper's equation:

Definition (TSS): keep the *live* edges of the cell (op not ``none``, on a path from the
cell input to its output). Per live edge, a ``k x k`` convolution adds ``k^2`` (its
receptive field: 1 for ``nor_conv_1x1``, 9 for ``nor_conv_3x3``), an ``avg_pool_3x3``
subtracts 1 and a ``skip_connect`` subtracts 1:
``sed = sum_conv k^2 - n_pool - n_skip``. Every cell of a TSS network is the same, so the
per-cell value ranks the networks. A cell with no input-output path (output independent
of the input) scores ``-7``, below every connected cell (whose minimum is ``-6``).

SSS: every network has the same cell (``SizeSpace.cell``), so every SSS network gets that
cell's value: defined, but constant, so it cannot rank SSS networks.

DARTS: not implemented (``None`` with a reason). It would need the same three terms over
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
