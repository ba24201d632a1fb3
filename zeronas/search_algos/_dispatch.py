"""Name -> search algorithm: ``get_algorithm``, ``resolve_algorithm``, ``list_algorithms``.

Like Ray Tune's ``create_searcher``, this sits above both the base class and the
integrations: registered names go through the registry of ``_api.py``, ``optuna:<Sampler>``
names and Optuna sampler instances to :class:`OptunaSearch`.

Searches that train a weight-sharing supernet (``TRAINING_SEARCHES``: RARTS and its first-order baselines,
``zeronas.weight_sharing``) are names here, not ask/tell classes: a search that trains one network for
hours and then derives one arch has nothing to ask or be told, so forcing it into ``SearchAlgorithm``
would make the proposal loop wait on a fake. Every name goes through :func:`resolve_algorithm`, so
``--algo rarts`` is checked and spelled like any other; the pipeline asks :func:`is_training_search` and
runs those searches as training trials (``pipeline/_supernet_stage.py``). This module imports no torch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zeronas.errors import UnknownNameError, ZeronasError
from zeronas.search_algos._api import _ALGORITHMS
from zeronas.search_algos._optuna import OptunaSearch, is_optuna_sampler, optuna_sampler_names, sampler_class

if TYPE_CHECKING:
    import optuna

    from zeronas.search_algos._base import SearchAlgorithm
    from zeronas.spaces._base import SearchSpace

__all__ = [
    "OPTUNA_PREFIX",
    "TRAINING_SEARCHES",
    "default_extra_proxies",
    "get_algorithm",
    "is_training_search",
    "list_algorithms",
    "resolve_algorithm",
]

#: names of the form ``optuna:<SamplerClassName>`` select any Optuna sampler
OPTUNA_PREFIX = "optuna:"
#: supernet-training searches (the values of ``zeronas.weight_sharing.RelaxedMethod``)
TRAINING_SEARCHES = ("rarts", "darts-1st", "milenas")


def resolve_algorithm(name: str) -> str:
    """The canonical name of an algorithm name or alias (any case): ``"REA"`` -> ``"rea"``,
    ``"optuna:tpe"`` -> ``"optuna:TPESampler"``. Unknown names raise UnknownNameError."""
    if isinstance(name, str) and name.strip().lower().startswith(OPTUNA_PREFIX):
        return OPTUNA_PREFIX + sampler_class(name.strip()[len(OPTUNA_PREFIX) :]).__name__
    if isinstance(name, str) and name.strip().lower() in TRAINING_SEARCHES:
        return name.strip().lower()
    try:
        return _ALGORITHMS.resolve(name)
    except UnknownNameError as err:
        raise UnknownNameError(f"{err}; supernet training: {', '.join(TRAINING_SEARCHES)}") from None


def is_training_search(name: str) -> bool:
    """True for a search that trains a supernet (``rarts``, ``darts-1st``, ``milenas``) instead of ask/tell."""
    return resolve_algorithm(name) in TRAINING_SEARCHES


def get_algorithm(
    name: str | optuna.samplers.BaseSampler, *, space: SearchSpace | str, seed: int = 0, **options: Any
) -> SearchAlgorithm:
    """Build a registered algorithm, ``optuna:<SamplerName>`` for any Optuna sampler, or
    :class:`OptunaSearch` around an Optuna sampler instance given in place of the name.

    Unknown names raise :class:`~zeronas.errors.UnknownNameError`; options the algorithm does
    not take raise :class:`~zeronas.errors.ZeronasError`.
    """
    if is_optuna_sampler(name):
        factory: Callable[..., SearchAlgorithm] = OptunaSearch
        options = {"sampler": name, **options}
        label = f"{OPTUNA_PREFIX}{type(name).__name__}"
    elif not isinstance(name, str):
        raise ZeronasError(f"algorithm must be a name or an optuna sampler, got {name!r}")
    else:
        label = resolve_algorithm(name)
        if label in TRAINING_SEARCHES:
            raise ZeronasError(
                f"{label} trains a supernet and has no ask/tell; run it with zeronas search --algo {label}"
            )
        if label.startswith(OPTUNA_PREFIX):
            factory = OptunaSearch
            options = {"sampler": label[len(OPTUNA_PREFIX) :], **options}
        else:
            factory = _ALGORITHMS.factory(label)
    _check_options(label, factory, options)
    return factory(space=space, seed=seed, **options)


def default_extra_proxies(name: str) -> list[str]:
    """The proxies an algorithm computes besides ``--proxy`` when ``--extra-proxies`` is not given
    (``robot`` weighs several); empty for most."""
    label = resolve_algorithm(name)
    if label.startswith(OPTUNA_PREFIX) or label in TRAINING_SEARCHES:
        return []
    return list(getattr(_ALGORITHMS.factory(label), "default_extra_proxies", ()))


def _check_options(label: str, factory: Callable[..., Any], options: Mapping[str, Any]) -> None:
    params = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ZeronasError(
            f"search algorithm {label!r} has no option {unknown[0]!r}; its options are: {', '.join(accepted)}"
        )


def list_algorithms(*, optuna_samplers: bool = False, training: bool = False) -> list[str]:
    """Registered algorithm names; with ``optuna_samplers`` also every usable ``optuna:<Sampler>``, with
    ``training`` also the supernet-training searches."""
    names = _ALGORITHMS.names()
    if training:
        names += list(TRAINING_SEARCHES)
    if optuna_samplers:
        names += [OPTUNA_PREFIX + s for s in optuna_sampler_names()]
    return names
