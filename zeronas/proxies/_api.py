"""Proxy registry: ``register_proxy`` decorator, ``get_proxy``, ``resolve_proxy``, ``list_proxies``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from zeronas._registry import Registry

if TYPE_CHECKING:
    from zeronas.proxies._base import Proxy

P = TypeVar("P", bound=Callable[..., "Proxy"])

_PROXIES: Registry[Proxy] = Registry("proxy")


def register_proxy(name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[P], P]:
    """Class decorator: ``@register_proxy("meco")`` makes ``get_proxy("meco")`` build it and sets ``cls.name``."""
    return _PROXIES.register(name, aliases=aliases)


def register_proxy_family(prefix: str, normalise: Callable[[str], str] = str.strip) -> Callable[[P], P]:
    """Class decorator for a parameterised proxy: ``prefix:PARAM`` names build ``cls(PARAM, **options)``
    (``evolved:FILE``); ``normalise`` gives the parameter's canonical text (e.g. an absolute path)."""
    return _PROXIES.register_family(prefix, normalise)


def proxy_families() -> list[str]:
    """Prefixes of the parameterised proxy names (``evolved``)."""
    return _PROXIES.families()


def resolve_proxy(name: str, *, where: str | None = None) -> str:
    """The registered name of a proxy name or alias (any case): ``resolve_proxy("NASWOT") == "nwot"``.

    Every path that takes a proxy name (Python, ``zeronas score``, ``zeronas search --proxy`` and
    ``--extra-proxies``) resolves it here; unknown names raise UnknownNameError listing the valid ones
    (``where``, e.g. ``"--proxy"``, says where the name came from).
    """
    return _PROXIES.resolve(name, where=where)


def get_proxy(name: str, **kwargs: Any) -> Proxy:
    """A new proxy instance; unknown names raise :class:`~zeronas.errors.UnknownNameError`."""
    return _PROXIES.get(name, **kwargs)


def proxy_factory(name: str) -> Callable[..., Proxy]:
    """The class (constructor) registered under ``name``: its signature lists the proxy's options."""
    return _PROXIES.factory(name)


def list_proxies(trained: bool = False) -> list[str]:
    """Registered proxy names: the zero-cost ones, and with ``trained=True`` also those backed by a trained
    model (``bossnas``), which cannot be built without a checkpoint option."""
    return [n for n in _PROXIES.names() if trained or not getattr(_PROXIES.factory(n), "trained", False)]
