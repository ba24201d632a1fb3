"""Parsing a user's device choice once, for proxies and training alike."""

from __future__ import annotations

import torch

from zeronas.errors import ZeronasError


def parse_device(name: str | torch.device) -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N``; a CUDA device on a machine without one is a user error."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ZeronasError(f"unknown device {name!r} ({err}); use cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ZeronasError(f"unsupported device {name!r}; use cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ZeronasError(f"device {name!r} requested but CUDA is not available; use cpu")
    return device
