"""The formula language of evolved proxies: a strongly typed DEAP primitive set over per-layer statistics.

Terminals are the statistics of :data:`~zeronas.proxies._layer_stats.LAYER_STATS`, each a vector
over the network's weight layers, plus ``n_layers`` and numeric constants (scalars). Functions:
element-wise arithmetic on layer vectors and on scalars (``div`` protected: 1 where the divisor
is below 1e-12 in magnitude), ``log`` (of the magnitude, 0 near 0), ``sqrt`` (of the magnitude),
``abs``, a vector scaled by a scalar, and the reductions over layers ``sum``, ``mean``, ``max``,
``min``, ``std`` (vector -> scalar). A formula is a scalar.

Evaluation is vectorised over architectures: a vector is a ``(archs, layers)`` array padded past
each arch's last layer and a ``mask`` of its real layers; only the reductions read the mask.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

import numpy as np
from deap import gp

from zeronas.proxies._layer_stats import LAYER_STATS

__all__ = ["LayerVector", "evaluate_formula", "formula_in_words", "parse_formula", "primitive_set"]

_EPS = 1e-12


class LayerVector:
    """Type tag of a per-layer statistic in the typed primitive set (never instantiated)."""


def _div(a, b):
    with np.errstate(all="ignore"):
        return np.where(np.abs(b) > _EPS, a / np.where(np.abs(b) > _EPS, b, 1.0), 1.0)


def _log(a):
    with np.errstate(all="ignore"):
        return np.where(np.abs(a) > _EPS, np.log(np.where(np.abs(a) > _EPS, np.abs(a), 1.0)), 0.0)


def _sqrt(a):
    return np.sqrt(np.abs(a))


def _scale(v, s):
    s = np.asarray(s, dtype=np.float64)
    return v * (s[:, None] if s.ndim == 1 else s)


def _reduction(reduce: Callable, mask_ref: list) -> Callable:
    def reduced(v):
        mask = mask_ref[0]
        with np.errstate(all="ignore"):
            values = np.where(mask, np.broadcast_to(v, mask.shape), np.nan)
            out = reduce(values, axis=1)
        return np.where(mask.any(axis=1), out, 0.0)

    return reduced


def _nanstd(values, axis):
    return np.nanstd(values, axis=axis)


#: the mask of the arrays being evaluated: reductions read it (set by evaluate_formula)
_MASK: list = [np.ones((1, 1), dtype=bool)]

_ARITHMETIC = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": _div}
_UNARY = {"log": _log, "sqrt": _sqrt, "abs": np.abs}
_REDUCTIONS = {"sum": np.nansum, "mean": np.nanmean, "max": np.nanmax, "min": np.nanmin, "std": _nanstd}


@functools.lru_cache(maxsize=1)
def primitive_set() -> gp.PrimitiveSetTyped:
    """The one primitive set (built once: DEAP's ephemeral constants are process-wide names)."""
    pset = gp.PrimitiveSetTyped("formula", [LayerVector] * len(LAYER_STATS) + [float], float)
    pset.renameArguments(**{f"ARG{i}": name for i, name in enumerate(LAYER_STATS)})
    pset.renameArguments(**{f"ARG{len(LAYER_STATS)}": "n_layers"})
    for name, fn in _ARITHMETIC.items():
        pset.addPrimitive(fn, [LayerVector, LayerVector], LayerVector, name=f"v{name}")
        pset.addPrimitive(fn, [float, float], float, name=name)
    for name, fn in _UNARY.items():
        pset.addPrimitive(fn, [LayerVector], LayerVector, name=f"v{name}")
        pset.addPrimitive(fn, [float], float, name=name)
    pset.addPrimitive(_scale, [LayerVector, float], LayerVector, name="vscale")
    for name, fn in _REDUCTIONS.items():
        pset.addPrimitive(_reduction(fn, _MASK), [LayerVector], float, name=name)
    pset.addEphemeralConstant("zeronas_const", _constant, float)
    return pset


def _constant() -> float:
    # DEAP draws from the ``random`` module, which the evolution seeds
    return round(random.uniform(-2.0, 2.0), 3)


def parse_formula(text: str) -> gp.PrimitiveTree:
    """The tree of a formula written as DEAP prints it, e.g. ``sum(vmul(w_l2, g_l2))``; ValueError if it is not one."""
    try:
        return gp.PrimitiveTree.from_string(text, primitive_set())
    except (TypeError, IndexError, SyntaxError, NameError) as err:
        raise ValueError(f"not a formula of the evolved-proxy language: {text!r} ({err})") from None


def evaluate_formula(tree: gp.PrimitiveTree | str, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The formula's value per arch: ``values[k, s, l]`` statistic ``s`` of layer ``l`` of arch ``k``,
    ``mask[k, l]`` True for its real layers. Non-finite results are returned as they are."""
    if isinstance(tree, str):
        tree = parse_formula(tree)
    fn = _compiled(str(tree))
    _MASK[0] = mask
    n_layers = mask.sum(axis=1).astype(np.float64)
    with np.errstate(all="ignore"):
        out = fn(*[values[:, s, :] for s in range(values.shape[1])], n_layers)
    return np.broadcast_to(np.asarray(out, dtype=np.float64), (values.shape[0],)).copy()


@functools.lru_cache(maxsize=4096)
def _compiled(text: str) -> Callable:
    return gp.compile(gp.PrimitiveTree.from_string(text, primitive_set()), primitive_set())


_WORDS = {
    "vadd": "+",
    "vsub": "-",
    "vmul": "*",
    "vdiv": "/",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "vscale": "*",
}


def formula_in_words(tree: gp.PrimitiveTree | str) -> str:
    """Infix text of a formula, e.g. ``sum_layers(w_l2 * g_l2)``."""
    if isinstance(tree, str):
        tree = parse_formula(tree)
    stack: list[tuple[gp.Primitive | gp.Terminal, list[str]]] = []
    text = ""
    for node in tree:
        stack.append((node, []))
        while stack and len(stack[-1][1]) == stack[-1][0].arity:
            prim, args = stack.pop()
            if isinstance(prim, gp.Terminal):
                text = str(prim.value) if not isinstance(prim.value, str) else prim.value
            elif prim.name in _WORDS:
                text = f"({args[0]} {_WORDS[prim.name]} {args[1]})"
            elif prim.name in _REDUCTIONS:
                text = f"{prim.name}_layers({args[0]})"
            else:
                text = f"{prim.name.lstrip('v')}({args[0]})"
            if stack:
                stack[-1][1].append(text)
    return text
