"""Search algorithms with one ask/tell interface: random, regularized evolution, MeCo-PT, RoBoT, Optuna samplers.

>>> algo = get_algorithm("rea", space="tss", seed=0)
>>> archs = algo.ask(8)
>>> algo.tell(archs[0], 1.5, {"params": 1.2e6})
"""

from zeronas.search_algos._api import register_algorithm
from zeronas.search_algos._base import SearchAlgorithm
from zeronas.search_algos._dispatch import (
    TRAINING_SEARCHES,
    default_extra_proxies,
    get_algorithm,
    is_training_search,
    list_algorithms,
    resolve_algorithm,
)
from zeronas.search_algos._evolution import RegularizedEvolution
from zeronas.search_algos._meco_pt import MecoPT
from zeronas.search_algos._optuna import NSGA2Search, OptunaSearch, TPESearch, optuna_sampler_names
from zeronas.search_algos._random import RandomSearch
from zeronas.search_algos._robot import RoBoT

__all__ = [
    "MecoPT",
    "NSGA2Search",
    "OptunaSearch",
    "RandomSearch",
    "RegularizedEvolution",
    "RoBoT",
    "SearchAlgorithm",
    "TPESearch",
    "TRAINING_SEARCHES",
    "default_extra_proxies",
    "get_algorithm",
    "is_training_search",
    "list_algorithms",
    "optuna_sampler_names",
    "register_algorithm",
    "resolve_algorithm",
]
