"""MeCo-based NAS: Algorithm 1 of Jiang et al., "MeCo: Zero-Shot NAS with One Data and Single Forward
Pass via Minimum Eigenvalue of Correlation" (NeurIPS 2023), a perturbation search over an untrained
supernet in the manner of Zero-Cost-PT (Xiang et al. 2023), with any proxy as the score.

Each of ``candidates`` proposals starts from the space's full supernet (every op on every edge, a
DARTS supernet at initialisation) and visits the edges in a seeded random order. On edge ``e`` it
asks for the supernet with each op ``k`` removed from ``e`` (all variants in one batch); once all are
told it keeps on ``e`` the op whose removal lowers the score most (arg min of the score without
``k``), fixes ``e`` and goes on. In a space whose nodes choose their inputs (DARTS:
``space.node_input_edges()``), every edge then holds one op and the candidate prunes: it visits those
nodes in a seeded random order, asks for the supernet without each of the node's incoming edges, and
keeps the ``keep`` (2) edges whose removal lowers the score most (their presence matters most). The
candidate is then a plain architecture, which is asked too; the candidate with the highest score is
the answer (``best``). Per candidate that is 6 edges x 5 ops + 1 = 31 evaluations on TSS and
28 edges x 7 ops + (3 + 4 + 5) x 2 cells + 1 = 221 on DARTS (fewer when candidates share supernets).

All a space provides is the supernet interface of ``SearchSpace``: ``supernet()``, ``edge_op_sets``,
``with_edge_ops`` (an empty op set removes an edge), ``node_input_edges`` and ``ops``, the ops a plain
architecture's edge may hold.

Choices where the papers are silent or differ:

* ``none`` is never the kept op where it is not an op of plain architectures (DARTS, as DARTS-PT and
  Zero-Cost-PT derive their genotypes): on a DARTS edge only the 7 other ops are removed in turn, so
  ``none`` stays in the supernet until its edge is fixed. On TSS ``none`` is an op like the others.
* One random order over the edges of both DARTS cells, one over the 8 nodes of both cells; edges are
  all fixed before any node is pruned (as in Zero-Cost-PT's DARTS search).
* The candidates run side by side (their asks interleave) so that the scorer pool stays busy; each
  candidate's edge order (then node order) is drawn from the seed when the algorithm is made.
* A failed variant (score None) is never the arg min: its removal tells nothing about the op (or
  edge). Ties, and a decision whose variants all failed, go to the first op in the space's op order
  (the first edges by input).
* Every decision is a function of the scores told, keyed by arch string, never of the order of tells;
  the first score told for an arch is the one used. Replaying a log therefore restores the state
  exactly, and an architecture is never asked twice (two candidates needing the same supernet share
  its score). (A weighted multi-proxy objective scores an arch by its percentile among the values
  seen so far, which does depend on order; use one proxy for a reproducible meco-pt.)
* ``dedup_isomorphic`` and ``avoid_repeats`` are accepted for the common interface; meco-pt never
  repeats a proposal, and supernets have no isomorphism classes, so they change nothing.
"""

from __future__ import annotations

import math
import numbers

from zeronas.errors import ZeronasError
from zeronas.search_algos._api import register_algorithm
from zeronas.search_algos._base import SearchAlgorithm
from zeronas.spaces._base import SearchSpace


@register_algorithm("meco-pt", aliases=("meco_pt", "mecopt", "zero-cost-pt"))
class MecoPT(SearchAlgorithm):
    """Proposal by supernet perturbation; ``best`` is the best finished candidate, supernets aside."""

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        candidates: int = 10,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        super().__init__(
            space, seed, dedup_isomorphic=dedup_isomorphic, avoid_repeats=avoid_repeats, max_retries=max_retries
        )
        if isinstance(candidates, bool) or not isinstance(candidates, numbers.Integral) or candidates < 1:
            raise ZeronasError(f"meco-pt candidates must be a positive integer, got {candidates!r}")
        try:
            self.full_supernet = self.space.supernet()
        except ValueError as err:
            raise ZeronasError(f"meco-pt cannot search the {self.space.name} space: {err}") from None
        n_edges = len(self.space.edge_op_sets(self.full_supernet))
        self.n_candidates = int(candidates)
        self._edge_orders = [tuple(int(e) for e in self.rng.permutation(n_edges)) for _ in range(self.n_candidates)]
        self._nodes = self.space.node_input_edges()
        self._node_orders = [
            tuple(int(n) for n in self.rng.permutation(len(self._nodes))) if self._nodes else ()
            for _ in range(self.n_candidates)
        ]
        self._scores: dict[str, float | None] = {}
        self._asked: set[str] = set()  # proposed and not yet told
        self._steps: dict[tuple[str, str, int], str] = {}  # (arch, "edge"/"node", index) -> next arch, once decided

    # -- state, derived from the scores told -------------------------------------
    def _walk(self, candidate: int) -> tuple[str, list[str]]:
        """Where ``candidate`` stands: (its current arch, the archs whose scores it waits for)."""
        arch = self.full_supernet
        for edge in self._edge_orders[candidate]:
            ops = self.space.edge_op_sets(arch)[edge]
            if len(ops) <= 1:
                continue
            step = self._steps.get((arch, "edge", edge))
            if step is None:
                keepable = [k for k in ops if k in self.space.ops]  # DARTS: never `none`
                variants = [self.space.with_edge_ops(arch, edge, [o for o in ops if o != k]) for k in keepable]
                if untold := self._untold(variants):
                    return arch, untold
                kept = keepable[self._ranked(variants)[0]]
                step = self._steps[(arch, "edge", edge)] = self.space.with_edge_ops(arch, edge, [kept])
            arch = step
        for node in self._node_orders[candidate]:
            possible, keep = self._nodes[node]
            sets = self.space.edge_op_sets(arch)
            present = [e for e in possible if sets[e]]
            if len(present) <= keep:
                continue
            step = self._steps.get((arch, "node", node))
            if step is None:
                variants = [self.space.with_edge_ops(arch, e, []) for e in present]
                if untold := self._untold(variants):
                    return arch, untold
                step = arch
                for i in self._ranked(variants)[keep:]:
                    step = self.space.with_edge_ops(step, present[i], [])
                self._steps[(arch, "node", node)] = step
            arch = step
        return arch, [] if arch in self._scores else [arch]

    def _untold(self, archs: list[str]) -> list[str]:
        return [a for a in archs if a not in self._scores]

    def _ranked(self, variants: list[str]) -> list[int]:
        """Positions of ``variants`` by score, lowest first; a failure (None) last, ties by position."""
        return sorted(range(len(variants)), key=lambda i: _or_inf(self._scores[variants[i]]))

    @property
    def candidates(self) -> list[tuple[str, float | None]]:
        """The finished candidates ``(plain arch, score)``, in candidate order."""
        done = []
        for c in range(self.n_candidates):
            arch, waiting = self._walk(c)
            if not waiting:
                done.append((arch, self._scores[arch]))
        return done

    @property
    def best(self) -> tuple[str, float] | None:
        scored = [(a, s) for a, s in self.candidates if s is not None]
        return max(scored, key=lambda a_s: a_s[1]) if scored else None

    @property
    def finished(self) -> bool:
        return len(self.candidates) == self.n_candidates

    # -- ask / tell ------------------------------------------------------------------
    def _ask(self, n: int) -> list[str]:
        proposals: list[str] = []
        for c in range(self.n_candidates):
            for arch in self._walk(c)[1]:
                if arch not in self._asked and arch not in proposals:
                    proposals.append(arch)
                if len(proposals) == n:
                    break
            if len(proposals) == n:
                break
        self._asked.update(proposals)
        return proposals

    def _tell(self, arch: str, score: float | None, costs: dict[str, float]) -> None:
        self._scores.setdefault(arch, score)
        self._asked.discard(arch)


def _or_inf(score: float | None) -> float:
    return math.inf if score is None else score
