"""Space registry: ``register_space`` decorator, cached ``get_space``, ``list_spaces``."""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

from zeronas._registry import Registry
from zeronas.spaces._base import SearchSpace

S = TypeVar("S", bound=Callable[..., SearchSpace])

_SPACES: Registry[SearchSpace] = Registry("search space")


def register_space(name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[S], S]:
    """Class decorator registering a :class:`SearchSpace` under ``name``."""
    return _SPACES.register(name, aliases=aliases)  # type: ignore[return-value]


def get_space(name: str) -> SearchSpace:
    """The (shared, cached) instance of a registered space; unknown names raise UnknownNameError."""
    return _instance(_SPACES.canonical_name(name))


@functools.lru_cache(maxsize=None)
def _instance(key: str) -> SearchSpace:
    return _SPACES.get(key)


def list_spaces() -> list[str]:
    return _SPACES.names()
