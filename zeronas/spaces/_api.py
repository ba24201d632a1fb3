"""Space registry: ``register_space`` decorator, cached ``get_space``, ``resolve_space``, ``list_spaces``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from zeronas._registry import Registry

if TYPE_CHECKING:
    from zeronas.spaces._base import SearchSpace

S = TypeVar("S", bound=Callable[..., "SearchSpace"])

_SPACES: Registry[SearchSpace] = Registry("search space")


def register_space(name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[S], S]:
    """Class decorator registering a :class:`SearchSpace` under ``name`` (which it sets as ``cls.name``)."""
    return _SPACES.register(name, aliases=aliases)


def resolve_space(name: str, *, where: str | None = None) -> str:
    """The registered name of a space name or alias (any case); unknown names raise UnknownNameError."""
    return _SPACES.resolve(name, where=where)


def get_space(name: str) -> SearchSpace:
    """The (shared, cached) instance of a registered space; unknown names raise UnknownNameError."""
    return _instance(resolve_space(name))


@functools.cache
def _instance(key: str) -> SearchSpace:
    return _SPACES.get(key)


def list_spaces() -> list[str]:
    return _SPACES.names()
