"""One registry behaviour for spaces, proxies and search algorithms, and one resolver per kind
that every path (Python, `zeronas score`, `zeronas search`) goes through."""

from __future__ import annotations

import pytest

from zeronas._registry import Registry
from zeronas.cli import main
from zeronas.errors import UnknownNameError
from zeronas.proxies import get_proxy, list_proxies, resolve_proxy
from zeronas.search_algos import get_algorithm, list_algorithms, resolve_algorithm
from zeronas.spaces import get_space, list_spaces, resolve_space


def test_the_registry_stamps_the_canonical_name_and_resolves_aliases_in_any_case():
    registry: Registry[object] = Registry("widget")

    @registry.register("Gear", aliases=("cog",))
    class Gear:
        pass

    assert Gear.name == "gear"
    assert registry.resolve(" COG ") == registry.resolve("gear") == "gear"
    assert isinstance(registry.get("Cog"), Gear)
    with pytest.raises(UnknownNameError, match=r"unknown widget 'bolt' in --part; choose one of: gear"):
        registry.resolve("bolt", where="--part")


@pytest.mark.parametrize(
    "name, aliases, taken",
    [("gear", (), "gear"), ("COG", (), "cog"), ("wheel", ("Gear",), "gear"), ("wheel", ("cog",), "cog")],
)
def test_a_name_or_alias_already_taken_raises(name, aliases, taken):
    registry: Registry[object] = Registry("widget")
    registry.register("gear", aliases=("cog",))(type("Gear", (), {}))
    with pytest.raises(ValueError, match=f"widget name '{taken}' is already registered .by 'gear'"):
        registry.register(name, aliases=aliases)(type("Other", (), {}))
    assert registry.names() == ["gear"] and "wheel" not in registry


@pytest.mark.parametrize(
    "names, get, resolve",
    [
        (list_spaces, lambda n: get_space(n), resolve_space),
        (list_proxies, lambda n: get_proxy(n), resolve_proxy),
        (list_algorithms, lambda n: get_algorithm(n, space="tss"), resolve_algorithm),  # meco-pt: TSS only
    ],
    ids=["spaces", "proxies", "algorithms"],
)
def test_every_registered_object_carries_the_name_it_is_registered_under(names, get, resolve):
    for name in names():
        assert get(name).name == name == resolve(name.upper())


def test_optuna_names_resolve_to_the_sampler_class_and_round_trip():
    assert resolve_algorithm("optuna:tpe") == "optuna:TPESampler"
    algo = get_algorithm("optuna:qmc", space="sss")
    assert algo.name == "optuna:QMCSampler" and get_algorithm(algo.name, space="sss").sampler_name == "QMCSampler"
    assert get_algorithm("tpe", space="sss").name == "tpe"  # a registered subclass keeps its own name


def test_search_proxy_alias_works_like_get_proxy():
    from zeronas.cli._search import build_spec
    from zeronas.pipeline import Objective, validate

    assert get_proxy("naswot").name == resolve_proxy("NASWOT") == "nwot"
    assert Objective.parse("NASWOT:1,synflow:0.5").weights == {"nwot": 1.0, "synflow": 0.5}
    _, run = validate(build_spec({"proxy": "naswot", "extra_proxies": "NASWOT,SynFlow", "budget": "10"}))
    assert run.proxies == ["nwot", "synflow"] and run.objective == {"nwot": 1.0}


def test_search_algorithm_names_resolve_like_get_algorithm():
    from zeronas.cli._search import build_spec
    from zeronas.pipeline import validate

    spec, _ = validate(build_spec({"algos": "REA,random,rea,optuna:tpe", "budget": "10"}))
    assert spec.algos == ["rea", "random", "optuna:TPESampler"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--proxy", "naswot", "--extra-proxies", "nope"], "unknown proxy 'nope' in --extra-proxies; choose one of:"),
        (["--proxy", "NASWOT:1,bogus:1"], "unknown proxy 'bogus' in --proxy; choose one of:"),
        (["--proxy", "nwot,naswot"], "proxy 'nwot' appears twice in --proxy"),
    ],
)
def test_search_proxy_errors_name_the_flag(argv, message, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["search", *argv, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


def test_score_takes_proxy_aliases(tmp_path, capsys):
    import pyarrow.parquet as pq

    out = tmp_path / "s.parquet"
    argv = ["score", "--space", "sss", "--sample", "1", "--proxies", "NASWOT,params", "--batch-size", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    columns = pq.read_table(out).column_names
    assert {"nwot", "params"} <= set(columns) and "naswot" not in columns
