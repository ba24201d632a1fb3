"""Zero-cost proxies: a registry of proxies and a scorer that computes several per network.

>>> scorer = ArchScorer(space="tss", proxies=["meco", "synflow"], dataset="cifar10", seed=0)
>>> scorer.score(arch).values   # {"meco": ..., "synflow": ...}

Registered: ``meco`` (authors' script: every hook call), ``meco_distinct`` (each
distinct feature map once), ``meco_opt`` (8 sampled channels per map), ``zico``, and
the baselines ``params``, ``flops``, ``synflow``, ``snip``, ``grad_norm``, ``fisher``,
``grasp``, ``jacov``, ``nwot``, ``zen``, and ``ntk`` (TE-NAS, logged negated),
``sed`` (data-free, topology only) and ``swap`` (regularised SWAP-Score); ``evolved:FILE`` scores with a
formula ``zeronas proxy evolve`` wrote; ``bossnas`` (not zero-cost) rates with a trained BossNAS supernet.
Each module's docstring states its definition.
"""

from zeronas.proxies import (  # noqa: F401  (imported to register the proxies)
    _bossnas,
    _evolved,
    _fisher,
    _flops,
    _grad_norm,
    _grasp,
    _jacov,
    _meco,
    _ntk,
    _nwot,
    _params,
    _sed,
    _snip,
    _swap,
    _synflow,
    _zen,
    _zico,
)
from zeronas.proxies._api import (
    get_proxy,
    list_proxies,
    proxy_factory,
    proxy_families,
    register_proxy,
    register_proxy_family,
    resolve_proxy,
)
from zeronas.proxies._base import Needs, Proxy, ProxyContext
from zeronas.proxies._scorer import ArchScore, ArchScorer
from zeronas.proxies._table import ScoreWriter, scores_to_table, write_parquet_atomic

__all__ = [
    "ArchScore",
    "ArchScorer",
    "Needs",
    "Proxy",
    "ProxyContext",
    "ScoreWriter",
    "get_proxy",
    "list_proxies",
    "proxy_factory",
    "proxy_families",
    "register_proxy",
    "register_proxy_family",
    "resolve_proxy",
    "scores_to_table",
    "write_parquet_atomic",
]
