"""Optuna samplers driven through Optuna's own ask/tell interface.

Each decision of ``space.choices`` becomes one ``CategoricalDistribution``; a trial's
parameters are the options chosen. Trials asked by this algorithm are kept open until their
architecture is told; an architecture told without having been asked (a resumed search
replaying its log) is added with ``study.add_trial``.

A failed evaluation (score None or non-finite) is told to Optuna as a COMPLETE trial whose
score is ``-inf``, the worst possible, as the base class promises. Optuna's built-in samplers
ignore FAIL trials, so telling failures as FAIL would let a sampler keep proposing a region
where every network fails. ``-inf`` is what Optuna's samplers know how to rank: TPE and
NSGA-II order it below every real score, and the GP sampler clips it to the worst finite
score it has seen (``gp.warn_and_convert_inf``). With a cost objective the cost is still
the architecture's real cost.

Pickling: a sampler may hold what pickle cannot carry (optuna 5.1's ``NSGAIISampler`` holds a
thread lock), so a pickled search carries no sampler and no study. It carries how the sampler
was built (name and options, or an unused copy of the given instance) and the Optuna calls made
so far (asks, tells, added trials); unpickling rebuilds the sampler and replays those calls.
Optuna's samplers are deterministic given their seed and the calls they see, so the clone
proposes what the original would have proposed.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import optuna
from optuna.distributions import CategoricalDistribution

from zeronas.errors import UnknownNameError, ZeronasError
from zeronas.search_algos._api import register_algorithm
from zeronas.search_algos._base import SearchAlgorithm

if TYPE_CHECKING:
    from zeronas.spaces._base import SearchSpace

#: an Optuna sampler whose required constructor arguments (a base sampler, fixed parameters)
#: cannot be derived from the space
_NEEDS_ARGUMENTS = {"PartialFixedSampler"}
_COSTS = ("params", "flops")
#: what a failed evaluation is told to Optuna as (see the module docstring)
FAILED_SCORE = -math.inf


def optuna_sampler_names() -> list[str]:
    """Class names of the Optuna samplers usable as ``optuna:<name>`` (from ``optuna.samplers.__all__``)."""
    names = []
    for name in optuna.samplers.__all__:
        obj = getattr(optuna.samplers, name)
        if (
            inspect.isclass(obj)
            and issubclass(obj, optuna.samplers.BaseSampler)
            and not inspect.isabstract(obj)
            and name not in _NEEDS_ARGUMENTS
        ):
            names.append(name)
    return sorted(names)


def is_optuna_sampler(obj: object) -> bool:
    return isinstance(obj, optuna.samplers.BaseSampler)


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna's experimental/deprecation warnings and per-trial INFO logs, then restore its log level."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(verbosity, optuna.logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"optuna\b.*")
            warnings.filterwarnings("ignore", category=UserWarning, module=r"optuna\b.*")
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


class OptunaSearch(SearchAlgorithm):
    """Any Optuna sampler over the space's categorical encoding.

    ``sampler`` is an Optuna sampler class name (``TPESampler``, ``GPSampler``, ...), built
    with ``sampler_options`` (``seed`` is filled in when the sampler takes one), or a sampler
    instance, which is copied and used as configured (its own seed; ``seed`` then only seeds
    the base class). With ``cost`` set to ``"params"`` or ``"flops"`` the study has two
    objectives, score maximised and that cost minimised, read from the ``costs`` given to
    ``tell`` (and computed with the space when missing). A failed evaluation is told to Optuna
    as score ``-inf``, the worst possible (see the module docstring).

    An instance not built by a registered subclass is named ``optuna:<SamplerClass>``, the
    name :func:`~zeronas.search_algos.get_algorithm` takes.
    """

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        sampler: str | optuna.samplers.BaseSampler = "TPESampler",
        sampler_options: Mapping[str, Any] | None = None,
        cost: str | None = None,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        super().__init__(
            space, seed, dedup_isomorphic=dedup_isomorphic, avoid_repeats=avoid_repeats, max_retries=max_retries
        )
        if cost is not None and cost not in _COSTS:
            raise ZeronasError(f"unknown cost {cost!r} for a multi-objective search; use one of: {', '.join(_COSTS)}")
        self.cost = cost
        if is_optuna_sampler(sampler):
            if sampler_options:
                raise ZeronasError("sampler_options apply to a sampler name; configure a sampler instance directly")
            self.sampler_name = type(sampler).__name__
        else:
            self.sampler_name = sampler_class(sampler).__name__
        if not type(self).name:
            self.name = f"optuna:{self.sampler_name}"
        self._decisions = [(name, list(options)) for name, options in self.space.choices]
        self._distributions = {
            name: CategoricalDistribution([_choice(o, i) for i, o in enumerate(options)])
            for name, options in self._decisions
        }
        self._option_index = [{_choice(o, i): i for i, o in enumerate(options)} for _, options in self._decisions]
        #: an unused copy of a given sampler instance (None: the sampler is built from its name)
        self._template: optuna.samplers.BaseSampler | None = None
        self._sampler_options: dict[str, Any] = {}
        if is_optuna_sampler(sampler):
            self._template = _unused_copy(sampler)  # the caller's sampler is not advanced by this search
        else:
            self._sampler_options = self._complete_options(dict(sampler_options or {}))
        #: the Optuna calls made so far, replayed on unpickling: ("ask",), ("tell", number, values),
        #: ("add", params, values)
        self._calls: list[tuple[Any, ...]] = []
        self._new_study()
        self._open: dict[str, list[int]] = defaultdict(list)  # dedup key -> open trial numbers
        self._results: dict[str, list[float]] = {}  # dedup key -> told values

    # -- pickling (see the module docstring) ----------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["sampler"], state["study"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._new_study()
        with _quiet_optuna():
            for call in self._calls:
                if call[0] == "ask":
                    self.study.ask(self._distributions)
                elif call[0] == "tell":
                    self.study.tell(call[1], call[2])
                else:
                    self.study.add_trial(self._finished_trial(call[1], call[2]))

    def _new_study(self) -> None:
        """A fresh sampler (from the name and options, or a copy of the template) and an empty study."""
        with _quiet_optuna():
            if self._template is not None:
                self.sampler = _unused_copy(self._template)
            else:
                self.sampler = self._build_sampler(self._sampler_options)
            directions = ["maximize", "minimize"] if self.cost else ["maximize"]
            self.study = optuna.create_study(sampler=self.sampler, directions=directions)

    # -- sampler construction -------------------------------------------------
    def _complete_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` with the search seed and the space-derived defaults filled in."""
        cls = sampler_class(self.sampler_name)
        params = inspect.signature(cls).parameters
        if "seed" in params:
            options.setdefault("seed", self.seed)
        if cls is optuna.samplers.GridSampler:
            options.setdefault("search_space", {n: d.choices for n, d in self._distributions.items()})
        if "warn_independent_sampling" in params and cls is not optuna.samplers.TPESampler:
            # categorical-only spaces make CMA-ES / QMC / GP fall back to independent sampling
            options.setdefault("warn_independent_sampling", False)
        return options

    def _build_sampler(self, options: Mapping[str, Any]) -> optuna.samplers.BaseSampler:
        try:
            return sampler_class(self.sampler_name)(**options)
        except (TypeError, ValueError) as err:
            raise ZeronasError(f"cannot build optuna sampler {self.sampler_name} with {options}: {err}") from None

    # -- encoding ----------------------------------------------------------------
    def _arch_of(self, params: Mapping[str, Any]) -> str:
        code = [index[params[name]] for (name, _), index in zip(self._decisions, self._option_index)]
        return self.space.format(code)

    def _params_of(self, arch: str) -> dict[str, Any]:
        code = self.space.parse(arch)
        return {name: _choice(options[c], c) for (name, options), c in zip(self._decisions, code)}

    def _values(self, arch: str, score: float | None, costs: Mapping[str, float]) -> list[float]:
        if score is None:
            score = FAILED_SCORE
        if not self.cost:
            return [score]
        cost = costs.get(self.cost)
        if cost is None:
            cost = self.space.params(arch) if self.cost == "params" else self.space.flops(arch)
        return [score, float(cost)]

    # -- ask / tell ----------------------------------------------------------------
    def _ask(self, n: int) -> list[str]:
        proposals = []
        with _quiet_optuna():
            for _ in range(n):
                arch = self._ask_one()
                if arch is None:
                    break
                proposals.append(arch)
        return proposals

    def _ask_one(self) -> str | None:
        for _ in range(self.max_retries):
            trial = self.study.ask(self._distributions)
            self._calls.append(("ask",))
            arch = self._arch_of(trial.params)
            if self._claim(arch):
                self._open[self._key(arch)].append(trial.number)
                return arch
            # an isomorph of an earlier proposal: answer the sampler with that result, or
            # keep the trial open until the earlier proposal is told
            key = self._key(arch)
            if key in self._results:
                self._finish(trial.number, self._results[key])
            else:
                self._open[key].append(trial.number)
        return None

    def _tell(self, arch: str, score: float | None, costs: dict[str, float]) -> None:
        key = self._key(arch)
        values = self._values(arch, score, costs)
        self._results[key] = values
        with _quiet_optuna():
            numbers = self._open.pop(key, [])
            for number in numbers:
                self._finish(number, values)
            if not numbers:  # never asked (or asked and already told): record it as a finished trial
                params = self._params_of(arch)
                self.study.add_trial(self._finished_trial(params, values))
                self._calls.append(("add", params, values))

    def _finished_trial(self, params: dict[str, Any], values: list[float]) -> optuna.trial.FrozenTrial:
        return optuna.trial.create_trial(params=params, distributions=self._distributions, values=values)

    def _finish(self, number: int, values: list[float]) -> None:
        self.study.tell(number, values)
        self._calls.append(("tell", number, values))


def _unused_copy(sampler: optuna.samplers.BaseSampler) -> optuna.samplers.BaseSampler:
    try:
        return copy.deepcopy(sampler)
    except TypeError as err:  # e.g. "cannot pickle '_thread.lock' object"
        raise ZeronasError(
            f"cannot copy the optuna sampler instance {type(sampler).__name__} ({err}); pass its name "
            f"instead, e.g. sampler={type(sampler).__name__!r} with sampler_options={{...}}"
        ) from None


def _choice(option: Any, index: int) -> Any:
    """Optuna categorical choices must be None/bool/int/float/str; other options go by index."""
    return option if option is None or isinstance(option, (bool, int, float, str)) else index


def sampler_class(name: str) -> type:
    """The Optuna sampler class called ``name`` (any case; ``"tpe"`` finds ``TPESampler``)."""
    names = optuna_sampler_names()
    lookup = {n.lower(): n for n in names}
    key = str(name).strip().lower()
    if key not in lookup and key + "sampler" in lookup:  # "optuna:tpe" -> TPESampler
        key += "sampler"
    if key not in lookup:
        raise UnknownNameError(f"unknown optuna sampler {name!r}; choose one of: {', '.join(names)}")
    return getattr(optuna.samplers, lookup[key])


@register_algorithm("tpe")
class TPESearch(OptunaSearch):
    """Optuna's multivariate TPE (seeded; constant liar for the asynchronous open trials).

    A failed evaluation is a trial of score ``-inf``: it lands in TPE's "bad" group, so TPE
    learns to avoid regions where networks fail (told as FAIL, TPE would ignore it).
    """

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        n_startup_trials: int = 10,
        multivariate: bool = True,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        options = {"n_startup_trials": n_startup_trials, "multivariate": multivariate, "constant_liar": True}
        super().__init__(
            space,
            seed,
            sampler="TPESampler",
            sampler_options=options,
            dedup_isomorphic=dedup_isomorphic,
            avoid_repeats=avoid_repeats,
            max_retries=max_retries,
        )


@register_algorithm("nsga2", aliases=("nsgaii",))
class NSGA2Search(OptunaSearch):
    """Optuna's NSGA-II on two objectives: score (maximised) and ``cost`` (minimised).

    The default population of 32 gives ~30 generations for a 1,000-evaluation budget. A
    failed evaluation is a trial of score ``-inf`` (and its real cost), dominated by every
    real score of equal or lower cost, so it ranks behind them in non-dominated sorting.
    """

    def __init__(
        self,
        space: SearchSpace | str,
        seed: int = 0,
        *,
        cost: str = "params",
        population_size: int = 32,
        dedup_isomorphic: bool = False,
        avoid_repeats: bool = False,
        max_retries: int = 100,
    ) -> None:
        super().__init__(
            space,
            seed,
            sampler="NSGAIISampler",
            sampler_options={"population_size": population_size},
            cost=cost,
            dedup_isomorphic=dedup_isomorphic,
            avoid_repeats=avoid_repeats,
            max_retries=max_retries,
        )
