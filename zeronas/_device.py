"""Parsing a user's device choice once, for proxies and training alike; full float32 precision."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """float32 matmuls and convolutions in full float32 (no TF32) inside, previous flags restored after.

    On Ampere and later GPUs torch may run float32 convolutions in TF32 (10-bit mantissa) by
    default; a proxy scored that way differs from its CPU value by far more than float32
    rounding. torch >= 2.9 has per-backend ``fp32_precision`` settings and refuses a mix of
    those and the legacy ``allow_tf32`` flags, so only the API this torch has is touched.
    """
    backends = torch.backends
    if hasattr(backends.cuda.matmul, "fp32_precision"):
        settings = [(backends.cuda.matmul, "fp32_precision", "ieee"), (backends.cudnn.conv, "fp32_precision", "ieee")]
    else:  # torch < 2.9
        settings = [(backends.cuda.matmul, "allow_tf32", False), (backends.cudnn, "allow_tf32", False)]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in settings]
    try:
        for owner, name, value in settings:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
