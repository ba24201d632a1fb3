"""Reading a search's results: the evaluated-arch record, the top-k rule, and each search's top-k from the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from zeronas.pipeline._objective import Objective
from zeronas.pipeline._run_config import RunConfig


@dataclass
class EvaluatedArch:
    """One distinct architecture a search has scored."""

    arch: str
    canonical: str
    #: proxy name -> value (None: the proxy failed)
    values: dict[str, float | None]
    #: objective score when it was scored (None: no proxy value)
    score: float | None
    #: 1-based count of distinct evaluations of its search
    iteration: int
    #: ``{"params": ..., "flops": ...}`` when the space counts them
    costs: dict[str, float] | None = None
    #: a supernet (scored for the search's own use, e.g. by meco-pt): never a top-k candidate
    supernet: bool = False


def top_k(
    evaluated: list[EvaluatedArch],
    objective: Objective,
    k: int,
    *,
    min_distance: int = 0,
    space: Any = None,
    exclude: Collection[str] = (),
) -> list[tuple[EvaluatedArch, float]]:
    """The k best distinct (by canonical form) plain archs, best first, with their final scores.

    Supernets are left out, also from the rank combination of a multi-proxy objective: they are
    not architectures anyone would train, and their values would shift the plain archs' ranks.
    ``min_distance`` > 0 (needs ``space``) makes the top-k diverse: going down the ranking, an arch
    is taken only if its code differs from every arch already taken in at least that many
    decisions, so the lookups are not spent on one-edge variants of one cell. Archs in ``exclude``
    (already looked up, e.g. predictor labels) are skipped."""
    evaluated = [e for e in evaluated if not e.supernet]
    final = objective.final_scores([e.values for e in evaluated])
    ranked = sorted(
        ((e, s) for e, s in zip(evaluated, final, strict=True) if s is not None),
        key=lambda es: (-es[1], es[0].iteration),
    )
    chosen: list[tuple[EvaluatedArch, float]] = []
    seen: set[str] = set()
    codes: list[tuple[int, ...]] = []
    for e, s in ranked:
        if e.canonical in seen or e.arch in exclude:
            continue
        if min_distance > 0:
            code = space.parse(e.arch)
            if any(sum(a != b for a, b in zip(code, c, strict=True)) < min_distance for c in codes):
                continue
            codes.append(code)
        seen.add(e.canonical)
        chosen.append((e, s))
        if len(chosen) == k:
            break
    return chosen


def collect(run: RunConfig, search_ids: list[str]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Per search: its top-k (see :func:`collect_top`) and the architecture it returns."""
    from zeronas.logs import open_log

    rows = open_log([run.run_dir]).to_table().to_pylist()
    top = collect_top(run, search_ids, rows)
    return top, {sid: _returned(run, [r for r in rows if r["search_id"] == sid], top[sid]) for sid in search_ids}


def _returned(run: RunConfig, mine: list[dict[str, Any]], top: list[dict[str, Any]]) -> dict[str, Any]:
    """The search's answer: its ``test`` row (the best of the top-k by validation), or without a
    benchmark the proxy's best; with the validation and test figures and what the search spent.
    With real training (stage 3), ``trained`` is the candidate selected on held-out validation
    accuracy, with its test accuracy evaluated once (its ``train_test`` row)."""
    test = next((r for r in mine if r["stage"] == "test"), None)
    derived = next((r for r in mine if r["stage"] == "derive"), {})
    trained_test = next((r for r in mine if r["stage"] == "train_test"), None)
    chosen = test or (top[0] if top else {})
    # every lookup: the top-k's validation rows and a predictor's labels (the same signal), any of them returnable
    validated = {r["arch"]: r for r in mine if r["stage"] in ("label", "validate")}
    return {
        "arch": chosen.get("arch"),
        "index": chosen.get("index"),
        "score": chosen.get("score"),
        "params": chosen.get("params"),
        "flops": chosen.get("flops"),
        "validation_accuracy": validated.get(chosen.get("arch"), {}).get("accuracy"),
        "validation_source": run.accuracy_source if validated else None,
        "test_accuracy": test.get("accuracy") if test else None,
        "test_source": run.test_source if test else None,
        "selected_on_test": run.select_on_test,
        "lookups": sum(r["stage"] in ("label", "validate") for r in mine),
        "proxy_evals": sum(r["stage"] == "proxy" for r in mine),
        # a supernet-training search's cost (its derive row), else the trained proxy's model's (bossnas):
        # seconds on its device, GPU-seconds on cuda
        "train_device_seconds": derived["train_device_seconds"] if derived else run.proxy_training_seconds(),
        "train_device": derived["device"] if derived else run.proxy_training_devices(),
        "trained": _trained_answer(trained_test, mine) if trained_test else None,
    }


def _trained_answer(trained_test: dict[str, Any], mine: list[dict[str, Any]]) -> dict[str, Any]:
    train = next((r for r in mine if r["stage"] == "train" and r["arch"] == trained_test["arch"]), {})
    return {
        "arch": trained_test["arch"],
        "index": trained_test.get("index"),
        "epochs": trained_test.get("epochs"),
        "validation_accuracy": train.get("accuracy"),
        "validation_source": train.get("accuracy_source"),
        "test_accuracy": trained_test.get("accuracy"),
        "test_source": trained_test.get("accuracy_source"),
        "error": trained_test.get("error"),
    }


def _top(run: RunConfig, evaluated: list[EvaluatedArch], objective: Objective) -> list[tuple[EvaluatedArch, float]]:
    from zeronas.spaces import get_space

    space = get_space(run.space) if run.top_k_distance else None
    return top_k(evaluated, objective, run.top_k, min_distance=run.top_k_distance, space=space)


def collect_top(run: RunConfig, search_ids: list[str], rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per search: its top-k (validated when a benchmark was given), best first, with training results; a
    supernet search's top-k is the one arch it derived."""
    top: dict[str, list[dict[str, Any]]] = {}
    for sid in search_ids:
        mine = [r for r in rows if r["search_id"] == sid]
        validated = sorted((r for r in mine if r["stage"] == "validate"), key=lambda r: r["iteration"])
        derived = [r for r in mine if r["stage"] == "derive"]  # a supernet search's one arch
        if validated or derived:
            chosen = validated or derived
        else:
            proxy_rows = [r for r in mine if r["stage"] == "proxy"]
            objective = Objective(dict(run.objective))
            evaluated = [
                EvaluatedArch(
                    r["arch"],
                    r["canonical"],
                    {p: r.get(f"proxy_{p}") for p in run.proxies},
                    r["score"],
                    r["iteration"],
                    supernet=bool(r.get("supernet")),
                )
                for r in proxy_rows
            ]
            by_arch = {r["arch"]: r for r in proxy_rows}
            chosen = [{**by_arch[e.arch], "score": s} for e, s in _top(run, evaluated, objective)]
        trained = {r["arch"]: r for r in mine if r["stage"] == "train"}
        top[sid] = [
            {
                **r,
                "trained_accuracy": trained.get(r["arch"], {}).get("accuracy"),
                "trained_epochs": trained.get(r["arch"], {}).get("epochs"),
            }
            for r in chosen
        ]
    return top


def logged_stages(run: RunConfig) -> Counter[tuple[str, str]]:
    """How many rows each ``(search_id, stage)`` of ``run`` has in the log (empty before the first part file)."""
    from zeronas.logs import open_log

    try:
        table = open_log([run.run_dir]).to_table(columns=["search_id", "stage"])
    except Exception:  # no part file yet
        return Counter()
    return Counter(zip(table.column("search_id").to_pylist(), table.column("stage").to_pylist(), strict=True))


def finished_searches(run: RunConfig, logged: Counter[tuple[str, str]]) -> set[str]:
    """Zero-shot searches that need nothing more, on a resume: with a benchmark, their ``test`` row (the
    returned arch, written last) is logged; without one, their whole evaluation budget is."""
    ids = {sid for sid, _ in logged}
    if run.benchmark:
        return {sid for sid in ids if logged[(sid, "test")]}
    return {sid for sid in ids if logged[(sid, "proxy")] >= run.budget}
