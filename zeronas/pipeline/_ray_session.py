"""Starting or joining a Ray cluster the same way everywhere."""

from __future__ import annotations

import os
import socket

from zeronas.errors import ZeronasError


def ensure_ray(address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None) -> None:
    """Join ``address`` (e.g. ``auto``) or, without one, start a private local Ray; reuse an existing session."""
    import ray

    if ray.is_initialized():
        return
    if address is None:
        # A private local cluster needs no token; a real cluster keeps its own auth settings.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    kwargs = dict(include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            # "local", not None: Ray's None joins whatever cluster `ray start` last recorded on this machine
            ray.init(address="local", num_cpus=num_cpus, num_gpus=num_gpus, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = address or "a local Ray"
        hint = "check --address (use 'auto' on a cluster node)"
        if address and os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
            # Ray turns token auth on by itself only for address auto: an explicit address needs it asked for
            hint += (
                "; a cluster with Ray's token auth needs RAY_AUTH_MODE=token and its token "
                "(RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token)"
            )
        raise ZeronasError(f"could not start or join {where}: {err}; {hint}") from err


def node_name() -> str:
    return socket.gethostname()
