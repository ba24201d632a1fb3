"""A tiny name -> factory registry, shaped like torchvision's ``models/_api.py``.

One behaviour for every kind (spaces, proxies, search algorithms): names and aliases are
case-folded, a name or alias already taken raises, the registry stamps the canonical name
on what it registers (``factory.name``), and :meth:`Registry.resolve` is the one way from
what a user typed to that canonical name.
"""

from __future__ import annotations

import functools
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
        self._families: dict[str, tuple[Callable[..., T], Callable[[str], str]]] = {}

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

    def register_family(self, prefix: str, normalise: Callable[[str], str] = str.strip) -> Callable[[F], F]:
        """Decorator registering a parameterised family: ``prefix:PARAM`` (e.g. ``evolved:best.json``) resolves to
        ``prefix:normalise(PARAM)`` (the parameter keeps its case) and builds ``factory(PARAM, **kwargs)``."""

        def decorator(factory: F) -> F:
            key = _key(prefix)
            if key in self._families or key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} family {key!r} is already registered")
            factory.name = key  # type: ignore[attr-defined]
            self._families[key] = (factory, normalise)
            return factory

        return decorator

    def families(self) -> list[str]:
        return sorted(self._families)

    def _family(self, name: str) -> tuple[str, str] | None:
        head, sep, param = name.strip().partition(":")
        return (head.lower(), param) if sep and head.lower() in self._families else None

    def resolve(self, name: str, *, where: str | None = None) -> str:
        """The canonical (registered) name of ``name`` or one of its aliases, any case.

        Unknown names raise :class:`~zeronas.errors.UnknownNameError` listing the valid ones
        (``where``, e.g. ``"--proxy"``, says where the name came from).
        """
        origin = f" in {where}" if where else ""
        if not isinstance(name, str):
            raise UnknownNameError(f"{self.kind} name{origin} must be a string, got {name!r}")
        family = self._family(name)
        if family is not None:
            prefix, param = family
            if not param.strip():
                raise UnknownNameError(f"{self.kind} {name.strip()!r}{origin} needs a parameter after '{prefix}:'")
            return f"{prefix}:{self._families[prefix][1](param)}"
        key = name.strip().lower()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            more = "".join(f", {f}:..." for f in self.families())
            raise UnknownNameError(
                f"unknown {self.kind} {name.strip()!r}{origin}; choose one of: {', '.join(self.names())}{more}"
            )
        return key

    def get(self, name: str, **kwargs) -> T:
        return self.factory(name)(**kwargs)

    def factory(self, name: str) -> Callable[..., T]:
        key = self.resolve(name)
        family = self._family(key)
        if family is not None:
            return functools.partial(self._families[family[0]][0], family[1])
        return self._entries[key]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if self._family(name) is not None:
            return True
        key = name.strip().lower()
        return self._aliases.get(key, key) in self._entries


def _key(name: str) -> str:
    key = name.strip().lower()
    if not key:
        raise ValueError("a registered name must be a non-empty string")
    return key
