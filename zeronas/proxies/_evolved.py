"""``evolved:FILE``: a proxy evolved by ``zeronas proxy evolve`` (GreenMachine), read from its JSON file.

The file's ``formula`` (see :mod:`zeronas.proxies._formula`) is evaluated on the per-layer statistics
of :mod:`zeronas.proxies._layer_stats`: one forward/backward pass (cross-entropy) of the scorer's first
mini-batch. The statistics are generic, so a formula evolved on one space scores any space; how well
it ranks there is another question (the file's ``protocol`` says what it was evolved on).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from zeronas.errors import ZeronasError
from zeronas.proxies._api import register_proxy_family
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._formula import evaluate_formula, parse_formula
from zeronas.proxies._layer_stats import context_statistics

__all__ = ["EvolvedProxy", "read_evolved"]


def _absolute(path: str) -> str:
    return str(Path(path.strip()).expanduser().resolve())


def read_evolved(path: str | Path) -> dict[str, Any]:
    """The contents of an evolved-proxy file, checked: its formula parses."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ZeronasError(f"evolved proxy file {path} does not exist; write one with 'zeronas proxy evolve'") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ZeronasError(f"evolved proxy file {path} is not readable JSON: {err}") from None
    if not isinstance(record, dict) or not isinstance(record.get("formula"), str):
        raise ZeronasError(f"{path} has no 'formula'; pass a file written by 'zeronas proxy evolve'")
    try:
        parse_formula(record["formula"])
    except ValueError as err:
        raise ZeronasError(f"{path}: {err}") from None
    return record


@register_proxy_family("evolved", normalise=_absolute)
class EvolvedProxy(Proxy):
    """The formula of an evolved-proxy file, on the network's per-layer statistics."""

    needs = Needs(inputs="batches", labels=True, backward=True)

    def __init__(self, path: str) -> None:
        self.path = _absolute(path)
        self.name = f"evolved:{self.path}"
        self.formula = read_evolved(self.path)["formula"]

    def compute(self, ctx: ProxyContext) -> float:
        stats = context_statistics(ctx)
        mask = np.ones((1, max(stats.shape[1], 1)), dtype=bool)
        if stats.shape[1] == 0:
            raise ValueError("the network has no weight layers")
        return float(evaluate_formula(self.formula, stats[None], mask)[0])

    def __repr__(self) -> str:
        return f"EvolvedProxy({self.path!r})"
