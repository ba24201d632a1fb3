"""Search spaces: NATS-Bench TSS (``"tss"``) and SSS (``"sss"``), the DARTS CNN space (``"darts"``).

>>> import numpy as np
>>> space = get_space("tss")
>>> net = space.build(space.sample(np.random.default_rng(0)), num_classes=10)
"""

from zeronas.spaces._api import get_space, list_spaces, register_space, resolve_space
from zeronas.spaces._base import SearchSpace
from zeronas.spaces._categorical import CategoricalSpace
from zeronas.spaces._darts import EVAL_CHANNELS, EVAL_LAYERS, PROXY_CHANNELS, PROXY_LAYERS, DartsSpace
from zeronas.spaces._darts_genotype import DARTS_OPS, KNOWN_GENOTYPES
from zeronas.spaces._sss import SSS_CELL, SSS_CHANNELS, SizeSpace
from zeronas.spaces._tss import TopologySpace
from zeronas.spaces._tss_cell import TSS_OPS

__all__ = [
    "SearchSpace",
    "CategoricalSpace",
    "TopologySpace",
    "SizeSpace",
    "DartsSpace",
    "DARTS_OPS",
    "KNOWN_GENOTYPES",
    "PROXY_CHANNELS",
    "PROXY_LAYERS",
    "EVAL_CHANNELS",
    "EVAL_LAYERS",
    "TSS_OPS",
    "SSS_CHANNELS",
    "SSS_CELL",
    "register_space",
    "get_space",
    "list_spaces",
    "resolve_space",
]
