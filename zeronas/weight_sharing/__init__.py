"""Searches that train a weight-sharing supernet (RARTS and its first-order baselines).

The pieces every such search shares live here, beside ``search_algos`` and below ``pipeline``.
"""

from zeronas.weight_sharing._relaxed import RelaxedMethod, RelaxedSearch, RelaxedSettings
from zeronas.weight_sharing._toy import ToyResult, solve_toy

__all__ = ["RelaxedMethod", "RelaxedSearch", "RelaxedSettings", "ToyResult", "solve_toy"]
