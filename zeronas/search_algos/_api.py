"""Search algorithm registry: the ``register_algorithm`` decorator (imports no algorithm).

Name -> instance dispatch, including ``optuna:<Sampler>`` names, lives one level up in
``_dispatch.py``, above both the base class and the Optuna integration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from zeronas._registry import Registry

if TYPE_CHECKING:
    from zeronas.search_algos._base import SearchAlgorithm

A = TypeVar("A", bound=Callable[..., "SearchAlgorithm"])

_ALGORITHMS: Registry[SearchAlgorithm] = Registry("search algorithm")


def register_algorithm(name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[A], A]:
    """Class decorator registering a :class:`SearchAlgorithm` under ``name`` (which it sets as ``cls.name``)."""
    if ":" in name or any(":" in a for a in aliases):
        raise ValueError(f"search algorithm name {name!r}: ':' is reserved for optuna:<Sampler> names")
    return _ALGORITHMS.register(name, aliases=aliases)
