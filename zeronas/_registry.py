"""A tiny name -> factory registry, shaped like torchvision's ``models/_api.py``.

One behaviour for every kind (spaces, proxies, search algorithms): names and aliases are
case-folded, a name or alias already taken raises, the registry stamps the canonical name
on what it registers (``factory.name``), and :meth:`Registry.resolve` is the one way from
what a user typed to that canonical name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from zeronas.errors import UnknownNameError

T = TypeVar("T")
F = TypeVar("F", bound=Callable)


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[F], F]:
        """Decorator registering ``factory`` under ``name`` (and ``aliases``) and setting ``factory.name``."""

        def decorator(factory: F) -> F:
            key = _key(name)
            alias_keys = [_key(a) for a in aliases]
            for taken in (key, *alias_keys):
                if taken in self._entries or taken in self._aliases:
                    raise ValueError(f"{self.kind} name {taken!r} is already registered (by {self.resolve(taken)!r})")
            if len(set(alias_keys) | {key}) != len(alias_keys) + 1:
                raise ValueError(f"{self.kind} {name!r}: repeated name among its aliases {aliases}")
            factory.name = key  # type: ignore[attr-defined]
            self._entries[key] = factory
            self._aliases.update(dict.fromkeys(alias_keys, key))
            return factory

        return decorator

    def resolve(self, name: str, *, where: str | None = None) -> str:
        """The canonical (registered) name of ``name`` or one of its aliases, any case.

        Unknown names raise :class:`~zeronas.errors.UnknownNameError` listing the valid ones
        (``where``, e.g. ``"--proxy"``, says where the name came from).
        """
        origin = f" in {where}" if where else ""
        if not isinstance(name, str):
            raise UnknownNameError(f"{self.kind} name{origin} must be a string, got {name!r}")
        key = name.strip().lower()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise UnknownNameError(
                f"unknown {self.kind} {name.strip()!r}{origin}; choose one of: {', '.join(self.names())}"
            )
        return key

    def get(self, name: str, **kwargs) -> T:
        return self._entries[self.resolve(name)](**kwargs)

    def factory(self, name: str) -> Callable[..., T]:
        return self._entries[self.resolve(name)]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.strip().lower()
        return self._aliases.get(key, key) in self._entries


def _key(name: str) -> str:
    key = name.strip().lower()
    if not key:
        raise ValueError("a registered name must be a non-empty string")
    return key
