"""Genetic programming over cached statistics (DEAP): fitness is Kendall τ on random and stratified subsets.

The labelled sample is split once (seeded) into evolution cells and held-out cells. Fitness reads the
evolution cells only: the mean Kendall τ of the formula against accuracy on ``subsets`` random subsets
and ``subsets`` stratified ones (equal numbers from each accuracy decile, so weak and strong cells are
both represented), all drawn once so a formula's fitness is a fixed number. The best formula is chosen
by that fitness alone; the held-out cells, never seen by the evolution, give the reported τ and ρ.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from deap import base, creator, gp, tools
from scipy.stats import kendalltau, spearmanr

from zeronas.errors import ZeronasError
from zeronas.proxies._formula import evaluate_formula, primitive_set

__all__ = ["EvolutionResult", "evolve", "rank_quality", "split_cells", "fitness_subsets"]

#: formulas whose value is not finite on more than this share of the cells get the worst fitness
_MAX_NON_FINITE = 0.05
_MAX_HEIGHT = 8


@dataclass
class EvolutionResult:
    formula: str
    fitness: float
    history: list[dict[str, Any]] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0


def split_cells(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(evolution, held-out) indices of ``n`` labelled cells, a seeded split."""
    if not 0.0 < holdout < 1.0:
        raise ZeronasError(f"--holdout must be a fraction between 0 and 1, got {holdout}")
    order = np.random.default_rng(seed).permutation(n)
    n_held = int(round(n * holdout))
    if n_held < 2 or n - n_held < 10:
        raise ZeronasError(f"{n} labelled cells are too few to split ({n - n_held} to evolve on, {n_held} held out)")
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def fitness_subsets(accuracy: np.ndarray, subsets: int, size: int, seed: int) -> list[np.ndarray]:
    """``subsets`` random and ``subsets`` stratified index subsets of ``size`` cells each."""
    rng = np.random.default_rng(seed)
    n = len(accuracy)
    size = min(size, n)
    strata = np.array_split(np.argsort(accuracy, kind="stable"), min(10, size))
    chosen = [rng.choice(n, size=size, replace=False) for _ in range(subsets)]
    for _ in range(subsets):
        per = [size // len(strata) + (k < size % len(strata)) for k in range(len(strata))]
        chosen.append(np.concatenate([rng.choice(s, size=min(m, len(s)), replace=False) for s, m in zip(strata, per)]))
    return chosen


def rank_quality(values: np.ndarray, accuracy: np.ndarray) -> dict[str, float]:
    """Kendall τ and Spearman ρ over the cells where ``values`` is finite, and how many those are."""
    ok = np.isfinite(values)
    if ok.sum() < 3:
        return {"kendall_tau": math.nan, "spearman": math.nan, "n": int(ok.sum())}
    return {
        "kendall_tau": float(kendalltau(values[ok], accuracy[ok]).statistic),
        "spearman": float(spearmanr(values[ok], accuracy[ok]).statistic),
        "n": int(ok.sum()),
    }


def _fitness(out: np.ndarray, accuracy: np.ndarray, subsets: list[np.ndarray]) -> float:
    bad = ~np.isfinite(out)
    if bad.mean() > _MAX_NON_FINITE or np.ptp(out[~bad]) == 0:
        return -1.0
    if bad.any():  # a few failures rank last
        out = np.where(bad, out[~bad].min() - 1.0, out)
    taus = [kendalltau(out[s], accuracy[s]).statistic for s in subsets]
    return float(np.mean([t if np.isfinite(t) else -1.0 for t in taus]))


def _types() -> None:
    if not hasattr(creator, "ZeronasFitness"):
        creator.create("ZeronasFitness", base.Fitness, weights=(1.0,))
        creator.create("ZeronasFormula", gp.PrimitiveTree, fitness=creator.ZeronasFitness)


def evolve(
    values: np.ndarray,
    mask: np.ndarray,
    accuracy: np.ndarray,
    *,
    population: int,
    generations: int,
    seed: int,
    subsets: int = 3,
    subset_size: int = 200,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> EvolutionResult:
    """Evolve a formula over ``values``/``mask`` (see :func:`~zeronas.proxies._formula.evaluate_formula`) that
    ranks like ``accuracy``. Tournament selection with a parsimony tie-break (DEAP's double tournament),
    one-point crossover, uniform subtree mutation, the 5 best kept every generation, trees at most 8 deep."""
    if population < 4 or generations < 1:
        raise ZeronasError(
            f"--population must be at least 4 and --generations at least 1 (got {population}, {generations})"
        )
    _types()
    pset = primitive_set()
    random.seed(seed)
    chosen = fitness_subsets(accuracy, subsets, subset_size, seed)
    toolbox = base.Toolbox()
    toolbox.register("expr", gp.genHalfAndHalf, pset=pset, min_=1, max_=3)
    toolbox.register("individual", tools.initIterate, creator.ZeronasFormula, toolbox.expr)
    toolbox.register("mate", gp.cxOnePoint)
    toolbox.register("expr_mut", gp.genFull, min_=0, max_=2)
    toolbox.register("mutate", gp.mutUniform, expr=toolbox.expr_mut, pset=pset)
    limit = gp.staticLimit(key=lambda tree: tree.height, max_value=_MAX_HEIGHT)
    toolbox.decorate("mate", limit)
    toolbox.decorate("mutate", limit)
    seen: dict[str, float] = {}

    def evaluate(tree) -> tuple[float]:
        text = str(tree)
        if text not in seen:
            seen[text] = _fitness(evaluate_formula(tree, values, mask), accuracy, chosen)
        return (seen[text],)

    start = time.perf_counter()
    pop = [toolbox.individual() for _ in range(population)]
    hof = tools.HallOfFame(5)
    history: list[dict[str, Any]] = []
    for generation in range(generations + 1):
        if generation:
            parents = tools.selDoubleTournament(pop, len(pop), fitness_size=3, parsimony_size=1.4, fitness_first=True)
            offspring = _vary([toolbox.clone(p) for p in parents], toolbox, cxpb=0.5, mutpb=0.3)
            pop = offspring[: len(pop) - len(hof)] + [toolbox.clone(h) for h in hof]
        for ind in pop:
            if not ind.fitness.valid:
                ind.fitness.values = evaluate(ind)
        hof.update(pop)
        scores = np.array([ind.fitness.values[0] for ind in pop])
        row = {
            "generation": generation,
            "best": float(hof[0].fitness.values[0]),
            "mean": float(scores.mean()),
            "best_size": len(hof[0]),
            "formula": str(hof[0]),
            "evaluations": len(seen),
            "seconds": round(time.perf_counter() - start, 3),
        }
        history.append(row)
        if progress is not None:
            progress(row)
    best = min((h for h in hof if h.fitness == hof[0].fitness), key=len)  # the shortest of the best
    return EvolutionResult(
        formula=str(best),
        fitness=float(best.fitness.values[0]),
        history=history,
        evaluations=len(seen),
        seconds=time.perf_counter() - start,
    )


def _vary(offspring: list, toolbox: base.Toolbox, cxpb: float, mutpb: float) -> list:
    for i in range(1, len(offspring), 2):
        if random.random() < cxpb:
            offspring[i - 1], offspring[i] = toolbox.mate(offspring[i - 1], offspring[i])
            del offspring[i - 1].fitness.values, offspring[i].fitness.values
    for i, ind in enumerate(offspring):
        if random.random() < mutpb:
            (offspring[i],) = toolbox.mutate(ind)
            del offspring[i].fitness.values
    return offspring
