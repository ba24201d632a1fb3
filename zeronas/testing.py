"""Conformance checks for proxies, spaces and search algorithms, public so a plugin runs them too.

Like scikit-learn's ``parametrize_with_checks``: ``check_proxy(name)``, ``check_space(name)`` and
``check_algorithm(name)`` each yield one :class:`Check` per property, named
``<kind>[<name>,<space>]-<property>`` so ``pytest -k`` selects one. A check does its work only
when called, and raises ``AssertionError`` saying what broke. For a plugin's proxy::

    import pytest
    from zeronas.testing import check_proxy
    import my_proxies  # registers "mine"

    @pytest.mark.parametrize("check", check_proxy("mine"), ids=str)
    def test_mine(check):
        check()

What a proxy declares in :class:`~zeronas.proxies.Needs` selects checks: ``network=False``
=> it computes without a network; ``inputs="none"`` => its value does not change when the
inputs do, ``inputs="sample"`` => nor when the mini-batches do; ``num_batches=k`` => batches
past the k-th change nothing; ``labels=False`` => permuting the labels changes nothing;
``backward=False`` => it gives the same value under ``torch.no_grad()``.
"""

from __future__ import annotations

import functools
import itertools
import math
import pickle
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch.nn as nn

    from zeronas.proxies import ProxyContext
    from zeronas.search_algos import SearchAlgorithm
    from zeronas.spaces import SearchSpace

__all__ = ["Check", "check_algorithm", "check_proxy", "check_space", "run_search", "toy_costs", "toy_score"]

SPACES = ("tss", "sss")


@dataclass(frozen=True)
class Check:
    """One named property check; call it to run it."""

    name: str
    run: Callable[[], None]

    def __call__(self) -> None:
        self.run()

    def __str__(self) -> str:
        return self.name


def _checks(prefix: str, functions: list[Callable[..., None]], *args: Any) -> Iterator[Check]:
    for function in functions:
        yield Check(f"{prefix}-{function.__name__.removeprefix('_check_')}", functools.partial(function, *args))


# -- proxies -------------------------------------------------------------------------------
_PROXY_ARCH_SEED = 7
_PROXY_SEED = 1
_PROXY_BATCH = 4


def check_proxy(name: str, spaces: tuple[str, ...] = SPACES) -> Iterator[Check]:
    """Checks of the registered proxy ``name`` on one seeded network of each of ``spaces``."""
    from zeronas.proxies import get_proxy

    needs = get_proxy(name).needs
    yield from _checks(f"proxy[{name}]", [_check_registered, _check_documented], name)
    for space in spaces:
        selected = [
            _check_gives_a_finite_value,
            _check_deterministic,
            _check_scorer_value_is_the_direct_value,
            _check_leaves_no_hooks,
            _check_leaves_no_gradients,
            _check_leaves_weights_unchanged,
            _check_survives_a_broken_network,
        ]
        if not needs.network:
            selected.append(_check_needs_no_network)
        if needs.inputs == "none":
            selected.append(_check_ignores_inputs)
        if needs.inputs == "sample":
            selected.append(_check_ignores_batches)
        if needs.inputs == "batches":
            selected.append(_check_ignores_batches_past_num_batches)
        if not needs.labels:
            selected.append(_check_ignores_labels)
        if not needs.backward:
            selected.append(_check_needs_no_autograd)
        yield from _checks(f"proxy[{name},{space}]", selected, name, space)


def _check_registered(name: str) -> None:
    from zeronas.proxies import Proxy, get_proxy, resolve_proxy

    proxy = get_proxy(name)
    assert isinstance(proxy, Proxy), f"{name} builds a {type(proxy).__name__}, not a Proxy"
    assert proxy.name == resolve_proxy(name), f"{name}: name is {proxy.name!r}"


def _check_documented(name: str) -> None:
    from zeronas.proxies import get_proxy

    cls = type(get_proxy(name))
    module = sys.modules.get(cls.__module__)
    docs = [(cls.__doc__ or "").strip(), (getattr(module, "__doc__", None) or "").strip()]
    assert any(docs), f"{name}: neither {cls.__name__} nor its module {cls.__module__} has a docstring"


def _scorer(name: str, space: str):
    from zeronas.proxies import ArchScorer

    return ArchScorer(space=space, proxies=[name], seed=_PROXY_SEED, batch_size=_PROXY_BATCH)


def _proxy_arch(space: str) -> str:
    from zeronas.spaces import get_space

    return get_space(space).sample(np.random.default_rng(_PROXY_ARCH_SEED))


@functools.lru_cache(maxsize=4)
def _scored(name: str, space: str) -> tuple[float | None, str | None, float]:
    """``(value, error, seconds)`` of the proxy through a scorer (shared by the checks that compare to it)."""
    result = _scorer(name, space).score(_proxy_arch(space))
    return result.values[name], result.errors[name], result.seconds[name]


def _check_gives_a_finite_value(name: str, space: str) -> None:
    value, error, seconds = _scored(name, space)
    assert value is not None and math.isfinite(value) and error is None, f"{name} failed: {error}"
    assert seconds >= 0


def _check_deterministic(name: str, space: str) -> None:
    first = _scored(name, space)[0]
    again = _scorer(name, space).score(_proxy_arch(space)).values[name]
    assert first is not None and first == again, f"{name}: two scorers with the same seed gave {first} and {again}"


@dataclass
class _DirectRun:
    """One direct ``compute`` on a freshly built network, and what it left behind."""

    value: float
    hooks_added: int
    grads_left: list[str]
    changed: list[str]


@functools.lru_cache(maxsize=4)
def _direct_run(name: str, space: str) -> _DirectRun:
    import torch

    from zeronas.proxies import get_proxy

    scorer = _scorer(name, space)
    model = scorer.build(_proxy_arch(space))
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    hooks = _hooks(model)
    torch.manual_seed(_PROXY_SEED)
    value = get_proxy(name).compute(_context(scorer, model))
    return _DirectRun(
        value=float(value),
        hooks_added=_hooks(model) - hooks,
        grads_left=[k for k, p in model.named_parameters() if p.grad is not None],
        changed=[k for k, p in model.named_parameters() if not torch.equal(p, before[k])],
    )


def _context(scorer, model: nn.Module | None) -> ProxyContext:
    arch = _proxy_arch(scorer.space_name)
    return scorer.context(scorer.space.validate(arch), model)


def _hooks(model: nn.Module) -> int:
    from torch.nn.modules import module as torch_module

    global_hooks = sum(
        len(getattr(torch_module, name))
        for name in ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks")
    )
    return global_hooks + sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules()
    )


def _check_scorer_value_is_the_direct_value(name: str, space: str) -> None:
    scored = _scored(name, space)[0]
    direct = _direct_run(name, space).value
    assert scored is not None and math.isclose(direct, scored, rel_tol=1e-9), (direct, scored)


def _check_leaves_no_hooks(name: str, space: str) -> None:
    assert _direct_run(name, space).hooks_added == 0, f"{name} left hooks on the network"


def _check_leaves_no_gradients(name: str, space: str) -> None:
    left = _direct_run(name, space).grads_left
    assert not left, f"{name} left .grad on {left[:3]}"


def _check_leaves_weights_unchanged(name: str, space: str) -> None:
    changed = _direct_run(name, space).changed
    assert not changed, f"{name} changed parameters {changed[:3]} (work on a copy)"


#: what a proxy may raise on a network it cannot score; any other exception is a bug the scorer would hide as None
NUMERICAL_FAILURES = ("FloatingPointError", "ArithmeticError", "ZeroDivisionError", "OverflowError", "LinAlgError")


def _check_survives_a_broken_network(name: str, space: str) -> None:
    """Inf weights: a finite value, or None because the value is not finite or the proxy raised a numerical
    error, never a programming error (TypeError, IndexError ...); a proxy that needs no network gives the
    healthy network's value."""
    import torch
    import torch.nn as nn

    from zeronas.proxies import get_proxy

    scorer = _scorer(name, space)
    healthy = scorer.score(_proxy_arch(space)).values[name]
    original_build = scorer.build

    def broken_build(arch: str, seed: int | None = None) -> nn.Module:
        model = original_build(arch, seed)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.fill_(float("inf"))
        return model

    scorer.build = broken_build
    result = scorer.score(_proxy_arch(space))
    value, error = result.values[name], result.errors[name]
    if value is None:
        numerical = error.startswith("non-finite value") or error.split(":")[0] in NUMERICAL_FAILURES
        assert numerical, f"{name} failed on inf weights with a non-numerical error: {error}"
    else:
        assert math.isfinite(value) and error is None, (value, error)
    if not get_proxy(name).needs.network:
        assert value == healthy, f"{name} needs no network, yet inf weights moved it: {healthy} -> {value}"


def _compute_with(name: str, space: str, change: Callable[[Any], dict[str, Any]], grad: bool = True) -> float:
    """The proxy's value on the same network, with some context fields replaced."""
    import torch

    from zeronas.proxies import get_proxy

    scorer = _scorer(name, space)
    model = scorer.build(_proxy_arch(space))
    ctx = _context(scorer, model)
    ctx = replace(ctx, **change(ctx))
    torch.manual_seed(_PROXY_SEED)
    with torch.set_grad_enabled(grad):
        return float(get_proxy(name).compute(ctx))


def _other_noise(tensor, salt: int):
    import torch

    generator = torch.Generator().manual_seed(10_000 + salt)
    return torch.randn(tensor.shape, generator=generator).to(tensor.device, tensor.dtype)


def _assert_same(name: str, declared: str, value: float, space: str) -> None:
    expected = _direct_run(name, space).value
    assert math.isclose(value, expected, rel_tol=1e-9), (
        f"{name} declares {declared} but its value moved: {expected} -> {value}"
    )


def _check_needs_no_network(name: str, space: str) -> None:
    _assert_same(name, "network=False", _compute_with(name, space, lambda ctx: {"model": None}), space)


def _check_ignores_inputs(name: str, space: str) -> None:
    def change(ctx):
        batches = [(_other_noise(x, i), y.flip(0)) for i, (x, y) in enumerate(ctx.batches)]
        return {"sample": _other_noise(ctx.sample, 99), "batches": batches}

    _assert_same(name, 'inputs="none"', _compute_with(name, space, change), space)


def _check_ignores_batches(name: str, space: str) -> None:
    def change(ctx):
        return {"batches": [(_other_noise(x, i), y.flip(0)) for i, (x, y) in enumerate(ctx.batches)]}

    _assert_same(name, 'inputs="sample"', _compute_with(name, space, change), space)


def _check_ignores_batches_past_num_batches(name: str, space: str) -> None:
    from zeronas.proxies import get_proxy

    k = get_proxy(name).needs.num_batches

    def change(ctx):
        x, y = ctx.batches[0]
        return {"batches": list(ctx.batches[:k]) + [(_other_noise(x, 7), y.flip(0))]}

    _assert_same(name, f"num_batches={k}", _compute_with(name, space, change), space)


def _check_ignores_labels(name: str, space: str) -> None:
    def change(ctx):
        return {"batches": [(x, (y + 1) % ctx.num_classes) for x, y in ctx.batches]}

    _assert_same(name, "labels=False", _compute_with(name, space, change), space)


def _check_needs_no_autograd(name: str, space: str) -> None:
    _assert_same(name, "backward=False", _compute_with(name, space, lambda ctx: {}, grad=False), space)


# -- spaces ----------------------------------------------------------------------------------
def check_space(name: str) -> Iterator[Check]:
    """Checks of the registered search space ``name``."""
    yield from _checks(
        f"space[{name}]",
        [
            _check_space_registered,
            _check_size_is_the_product_of_choices,
            _check_decision_names_are_unique,
            _check_index_and_string_round_trip,
            _check_enumerate_follows_arch_at,
            _check_arch_at_rejects_out_of_range,
            _check_samples_are_valid_and_varied,
            _check_neighbours_are_the_one_edit_moves,
            _check_mutate_gives_a_neighbour,
            _check_mutation_is_uniform_over_neighbours,
            _check_crossover_takes_each_gene_from_a_parent,
            _check_canonical_is_idempotent,
            _check_network_shapes,
            _check_params_count_the_network,
            _check_flops_grow_with_resolution,
            _check_parse_rejects_garbage,
            _check_format_rejects_bad_codes,
        ],
        name,
    )


def _space(name: str) -> SearchSpace:
    from zeronas.spaces import get_space

    return get_space(name)


def _check_space_registered(name: str) -> None:
    from zeronas.spaces import SearchSpace, resolve_space

    space = _space(name)
    assert isinstance(space, SearchSpace) and space.name == resolve_space(name), space


def _sizes(space: SearchSpace) -> list[int]:
    return [len(options) for _, options in space.choices]


def _check_size_is_the_product_of_choices(name: str) -> None:
    space = _space(name)
    assert int(np.prod(_sizes(space))) == space.size


def _check_decision_names_are_unique(name: str) -> None:
    names = [decision for decision, _ in _space(name).choices]
    assert len(set(names)) == len(names), names


def _check_index_and_string_round_trip(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(0)
    for index in (0, 1, space.size - 1, *rng.integers(space.size, size=20).tolist()):
        arch = space.arch_at(index)
        assert space.index_of(arch) == index
        assert space.format(space.parse(arch)) == arch == space.validate(arch)


def _check_enumerate_follows_arch_at(name: str) -> None:
    space = _space(name)
    assert list(itertools.islice(space.enumerate(), 5)) == [space.arch_at(i) for i in range(5)]


def _check_arch_at_rejects_out_of_range(name: str) -> None:
    space = _space(name)
    for index in (space.size, -1):
        _assert_raises(ValueError, space.arch_at, index)


def _check_samples_are_valid_and_varied(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(30):
        arch = space.sample(rng)
        seen.add(arch)
        assert space.validate(arch) == arch
        assert isinstance(space.is_degenerate(arch), bool)
    assert len(seen) > 20, "sampling is stuck"


def _check_neighbours_are_the_one_edit_moves(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(1)
    for _ in range(30):
        arch = space.sample(rng)
        neighbours = space.neighbours(arch)
        assert len(neighbours) == len(set(neighbours)) == sum(n - 1 for n in _sizes(space))
        assert arch not in neighbours


def _check_mutate_gives_a_neighbour(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(2)
    for _ in range(30):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        assert child != arch and child in space.neighbours(arch)


def _check_mutation_is_uniform_over_neighbours(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(1)
    arch = space.arch_at(123)
    neighbours = space.neighbours(arch)
    draws = 200 * len(neighbours)
    counts = dict.fromkeys(neighbours, 0)
    for _ in range(draws):
        counts[space.mutate(arch, rng)] += 1
    expected = draws / len(neighbours)
    # every neighbour reachable, none more than ~4 sigma from the uniform count
    assert min(counts.values()) > 0
    assert max(abs(c - expected) for c in counts.values()) < 4 * np.sqrt(expected)


def _check_crossover_takes_each_gene_from_a_parent(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(3)
    for _ in range(30):
        a, b = space.sample(rng), space.sample(rng)
        mixed = space.crossover(a, b, rng)
        for gene, x, y in zip(space.parse(mixed), space.parse(a), space.parse(b)):
            assert gene in (x, y)


def _check_canonical_is_idempotent(name: str) -> None:
    space = _space(name)
    rng = np.random.default_rng(4)
    for _ in range(30):
        arch = space.sample(rng)
        assert space.canonical(space.canonical(arch)) == space.canonical(arch)


def _check_network_shapes(name: str) -> None:
    import torch

    space = _space(name)
    net = space.build(space.sample(np.random.default_rng(5)), num_classes=7)
    x = torch.randn(2, *space.input_shape)
    assert net(x).shape == (2, 7) and net.forward_features(x).dim() == 4


def _check_params_count_the_network(name: str) -> None:
    space = _space(name)
    arch = space.sample(np.random.default_rng(5))
    assert space.params(arch, 7) == sum(p.numel() for p in space.build(arch, num_classes=7).parameters())


def _check_flops_grow_with_resolution(name: str) -> None:
    space = _space(name)
    arch = space.sample(np.random.default_rng(5))
    side = space.input_shape[-1]
    assert space.flops(arch, 7, side) > space.flops(arch, 7, side // 2) > 0


def _check_parse_rejects_garbage(name: str) -> None:
    space = _space(name)
    for bad in ("", "garbage", 42):
        _assert_raises(ValueError, space.parse, bad)


def _check_format_rejects_bad_codes(name: str) -> None:
    space = _space(name)
    sizes = _sizes(space)
    _assert_raises(ValueError, space.format, [0] * (len(sizes) + 1))
    _assert_raises(ValueError, space.format, [sizes[0]] + [0] * (len(sizes) - 1))


def _assert_raises(error: type[Exception], function: Callable, *args: Any) -> None:
    try:
        function(*args)
    except error:
        return
    raise AssertionError(f"{function.__qualname__}{args} did not raise {error.__name__}")


# -- search algorithms ----------------------------------------------------------------------
def toy_score(space: SearchSpace, arch: str) -> float:
    """A toy objective with a unique optimum: TSS counts 3x3 convs, SSS sums the channels."""
    if space.name == "tss":
        return float(arch.count("nor_conv_3x3"))
    return float(sum(int(c) for c in arch.split(":")))


def toy_costs(space: SearchSpace, arch: str) -> dict[str, float]:
    """Cheap stand-ins for params / flops (the real ones build networks)."""
    return {"params": float(len(arch)), "flops": 1.0}


def run_search(algo: SearchAlgorithm, budget: int, batch: int = 8) -> list[float]:
    """Ask/tell ``algo`` on :func:`toy_score` for ``budget`` evaluations; the scores in order."""
    scores: list[float] = []
    while len(scores) < budget:
        archs = algo.ask(min(batch, budget - len(scores)))
        assert archs, "ask returned nothing before the space was exhausted"
        for arch in archs:
            scores.append(toy_score(algo.space, arch))
            algo.tell(arch, scores[-1], toy_costs(algo.space, arch))
    return scores


def check_algorithm(name: str, spaces: tuple[str, ...] = SPACES) -> Iterator[Check]:
    """Checks of the search algorithm ``name`` (registered or ``optuna:<Sampler>``) on each of ``spaces``."""
    for space in spaces:
        yield from _checks(
            f"algorithm[{name},{space}]",
            [
                _check_ask_returns_valid_archs,
                _check_same_seed_same_proposals,
                _check_warm_start_with_archs_never_asked,
                _check_async_out_of_order_tells_and_failures,
                _check_all_failures_do_not_break_it,
                _check_pickle_round_trip_resumes_identically,
                _check_dedup_isomorphic_never_repeats_a_canonical_form,
            ],
            name,
            space,
        )


def _algorithm(name: str, space: str, seed: int, **options: Any) -> SearchAlgorithm:
    from zeronas.search_algos import get_algorithm

    return get_algorithm(name, space=space, seed=seed, **options)


def _check_ask_returns_valid_archs(name: str, space_name: str) -> None:
    from zeronas.search_algos import SearchAlgorithm

    algo = _algorithm(name, space_name, 0)
    space = algo.space
    assert isinstance(algo, SearchAlgorithm)
    assert algo.ask(0) == []
    archs = algo.ask(12)
    assert len(archs) == 12
    assert all(isinstance(a, str) and space.validate(a) == a for a in archs)
    assert algo.n_proposed == 12
    _assert_raises(ValueError, algo.ask, -1)


def _check_same_seed_same_proposals(name: str, space_name: str) -> None:
    def trace(seed: int) -> list[str]:
        algo = _algorithm(name, space_name, seed)
        out: list[str] = []
        for _ in range(5):
            archs = algo.ask(6)
            out += archs
            for arch in archs[::-1]:  # told in reverse order, deterministically
                algo.tell(arch, toy_score(algo.space, arch), toy_costs(algo.space, arch))
        return out

    first = trace(3)
    assert trace(3) == first
    assert len(first) == 30


def _check_warm_start_with_archs_never_asked(name: str, space_name: str) -> None:
    from zeronas.search_algos import OptunaSearch

    algo = _algorithm(name, space_name, 0)
    space = algo.space
    rng = np.random.default_rng(123)
    told = [space.sample(rng) for _ in range(20)]
    for arch in told:
        algo.tell(arch, toy_score(space, arch), toy_costs(space, arch))
    assert algo.n_told == 20
    assert algo.best[1] == max(toy_score(space, a) for a in told)
    archs = algo.ask(8)
    assert len(archs) == 8 and all(space.validate(a) == a for a in archs)
    if isinstance(algo, OptunaSearch):
        import optuna

        states = [t.state for t in algo.study.trials]
        assert states.count(optuna.trial.TrialState.COMPLETE) == 20


def _check_async_out_of_order_tells_and_failures(name: str, space_name: str) -> None:
    from zeronas.search_algos import OptunaSearch

    algo = _algorithm(name, space_name, 1)
    space = algo.space
    outstanding = algo.ask(8) + algo.ask(8) + algo.ask(8)
    order = np.random.default_rng(0).permutation(len(outstanding))
    for k, i in enumerate(order):
        arch = outstanding[i]
        score = None if k % 3 == 0 else toy_score(space, arch)  # every third evaluation fails
        algo.tell(arch, score, toy_costs(space, arch))
        if k == 10:  # asking while others are still open
            outstanding += algo.ask(4)
    for arch in outstanding[24:]:
        algo.tell(arch, float("nan"), None)  # non-finite counts as failed
    assert algo.n_told == 28
    more = algo.ask(8)
    assert len(more) == 8 and all(space.validate(a) == a for a in more)
    if isinstance(algo, OptunaSearch):
        import optuna

        running = [t for t in algo.study.trials if t.state == optuna.trial.TrialState.RUNNING]
        assert len(running) == 8  # exactly the 8 just asked; every told trial is closed
        # failures are told as the worst possible score, not as FAIL trials the samplers ignore
        assert not [t for t in algo.study.trials if t.state == optuna.trial.TrialState.FAIL]
        worst = [t for t in algo.study.trials if t.values and t.values[0] == -math.inf]
        assert len(worst) == 8 + 4


def _check_all_failures_do_not_break_it(name: str, space_name: str) -> None:
    algo = _algorithm(name, space_name, 2)
    for _ in range(4):
        for arch in algo.ask(10):
            algo.tell(arch, None)
    assert algo.best is None
    assert len(algo.ask(5)) == 5


def _check_pickle_round_trip_resumes_identically(name: str, space_name: str) -> None:
    algo = _algorithm(name, space_name, 4)
    run_search(algo, 24)
    pending = algo.ask(3)  # proposals still open when pickled travel with it
    clone = pickle.loads(pickle.dumps(algo))
    for searcher in (algo, clone):
        for arch in pending:
            searcher.tell(arch, toy_score(searcher.space, arch), toy_costs(searcher.space, arch))
    assert clone.ask(6) == algo.ask(6)
    assert pickle.loads(pickle.dumps(clone)).ask(4) == algo.ask(4)  # a clone pickles again


def _check_dedup_isomorphic_never_repeats_a_canonical_form(name: str, space_name: str) -> None:
    algo = _algorithm(name, space_name, 5, dedup_isomorphic=True)
    space = algo.space
    rng = np.random.default_rng(9)
    told = [space.sample(rng) for _ in range(10)]
    for arch in told:
        algo.tell(arch, toy_score(space, arch))
    proposed = []
    for _ in range(8):
        archs = algo.ask(8)
        proposed += archs
        for arch in archs:
            algo.tell(arch, toy_score(space, arch))
    canon = [space.canonical(a) for a in proposed + told]
    assert len(proposed) == 64
    assert len(set(canon)) == len(canon)
