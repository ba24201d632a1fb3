"""A tiny name -> factory registry, shaped like torchvision's ``models/_api.py``."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from zeronas.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            key = name.lower()
            if key in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[key] = factory
            for alias in aliases:
                self._aliases[alias.lower()] = key
            return factory

        return decorator

    def canonical_name(self, name: str) -> str:
        key = name.lower().strip()
        key = self._aliases.get(key, key)
        if key not in self._entries:
            known = ", ".join(self.names())
            raise UnknownNameError(f"unknown {self.kind} {name!r}; choose one of: {known}")
        return key

    def get(self, name: str, **kwargs) -> T:
        return self._entries[self.canonical_name(name)](**kwargs)

    def factory(self, name: str) -> Callable[..., T]:
        return self._entries[self.canonical_name(name)]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name.lower().strip()
        return self._aliases.get(key, key) in self._entries
