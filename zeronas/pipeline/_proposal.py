"""Stage 1 (proxy-scored proposal) and stage 2 (top-k validation) of one search.

Runs as one Ray Tune trial per search. The trial never scores anything itself: it asks its
algorithm for proposals, sends them in small batches to the shared scorer pool with several
batches in flight, and reports the new log rows to Tune. The driver's
:class:`~zeronas.pipeline._log_callback.LogCallback` writes them.

A seeded search is reproducible whatever the workers' timing: results are told to the
algorithm in ask order (a result that overtakes an earlier one waits in a buffer), and the
next batch is asked for only at a fixed number of tells (when a whole batch fits in the
in-flight window). The algorithm thus sees the same history at every ask.

Stage 2 validates the top-k by the run's validation signal (never test, unless the user asked
for it), returns the best of them, and looks up that one architecture's test accuracy once,
in its own ``test`` row; the algorithm never sees it.

The log is the search's durable state: a trial that starts (first run, Tune restore after a
killed driver, or a retried trial) first replays this search's logged rows into its
algorithm, so resuming never scores or logs an architecture twice.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import ray
from ray import tune

from zeronas.pipeline._pool import get_pool
from zeronas.pipeline._predictor_objective import PredictorObjective, label_row, make_objective
from zeronas.pipeline._results import EvaluatedArch, top_k
from zeronas.pipeline._score_table import cached_output, load_values

if TYPE_CHECKING:
    from zeronas.pipeline._run_config import RunConfig

#: how often a search reports its new log rows to Tune
REPORT_SECONDS = 0.5


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _errors_text(errors: dict[str, str | None]) -> str | None:
    parts = [f"{name}: {why}" for name, why in errors.items() if why]
    return "; ".join(parts) or None


def _replay(run: RunConfig, search_id: str) -> list[list[dict]]:
    """This search's rows already in the log: (proxy rows by iteration, validate, test and label rows)."""
    import pyarrow.dataset as ds

    from zeronas.logs import open_log

    run_dir = run.run_dir
    try:
        dataset = open_log([run_dir])
    except Exception:  # no part file yet
        return [[], [], [], []]
    names = set(dataset.schema.names)
    columns = [
        "stage",
        "arch",
        "index",
        "canonical",
        "score",
        "accuracy",
        "iteration",
        "n_proposed",
        "elapsed",
        "params",
        "flops",
        "supernet",
        "predicted_acc",
    ]
    wanted = [c for c in columns if c in names]
    wanted += [f"proxy_{p}" for p in run.proxies if f"proxy_{p}" in names]
    table = dataset.to_table(columns=wanted, filter=ds.field("search_id") == search_id)
    rows = sorted(table.to_pylist(), key=lambda r: r["iteration"] or 0)
    return [[r for r in rows if r["stage"] == stage] for stage in ("proxy", "validate", "test", "label")]


def proposal_trial(config: dict[str, Any], run: RunConfig) -> None:
    from zeronas.search_algos import get_algorithm
    from zeronas.spaces import get_space

    search = config["search"]
    space = get_space(run.space)
    objective = make_objective(run, search)
    predictor = objective if isinstance(objective, PredictorObjective) else None
    algo = get_algorithm(search["algorithm"], space=space, seed=search["seed"], **(search.get("options") or {}))
    base = run.row_base(search)
    proxy_seed = search["proxy_seed"]
    pool = get_pool(run.pool_name)
    table = load_values(run.scores_from, run.proxies) if run.scores_from else {}
    budget = run.budget
    budget_seconds = run.budget_seconds

    evaluated: dict[str, EvaluatedArch] = {}
    logged_proxy, logged_validate, logged_test, logged_labels = _replay(run, search["search_id"])
    elapsed_before = 0.0
    n_proposed = 0
    for r in logged_proxy:
        values = {p: r.get(f"proxy_{p}") for p in run.proxies}
        if predictor:
            score = r["score"]
            predictor.restore(values, r["arch"], score, r.get("predicted_acc"))
        else:
            score = objective.observe(values)
        costs = _costs(r)
        evaluated[r["arch"]] = EvaluatedArch(
            r["arch"], r["canonical"], values, score, r["iteration"], costs, bool(r.get("supernet"))
        )
        algo.tell(r["arch"], score, costs)
        elapsed_before = max(elapsed_before, r["elapsed"] or 0.0)
        n_proposed = max(n_proposed, r["n_proposed"] or 0)
    if predictor:
        for r in logged_labels:
            predictor.restore_label(r["arch"], r.get("accuracy"))
        predictor.refit()
    started = time.monotonic() - elapsed_before

    def elapsed() -> float:
        return time.monotonic() - started

    def out_of_budget() -> bool:
        return len(evaluated) >= budget or (budget_seconds is not None and elapsed() >= budget_seconds)

    pending: dict[Any, list[tuple[int, str]]] = {}  # ref -> its (ask sequence number, arch)
    pending_archs: set[str] = set()
    arrived: dict[int, dict[str, Any]] = {}  # scorer outputs waiting for an earlier one
    next_seq = told = 0
    unreported: list[dict[str, Any]] = []
    last_report = time.monotonic()

    def report(done: int, rows: list[dict[str, Any]] | None = None) -> None:
        nonlocal last_report, unreported
        rows = unreported + (rows or [])
        if not rows and not done:
            return
        best = max((e.score for e in evaluated.values() if e.score is not None and not e.supernet), default=None)
        tune.report({"evals": len(evaluated), "best_score": best, "n_proposed": n_proposed, "rows": rows, "done": done})
        unreported, last_report = [], time.monotonic()

    batch = run.ask_batch
    max_in_flight = max(run.max_in_flight, batch)
    result_timeout = run.result_timeout
    stale_asks = 0

    def propose() -> None:
        """Ask while a whole batch fits in the in-flight window (a fixed point in the tell sequence)."""
        nonlocal n_proposed, next_seq, stale_asks
        while not out_of_budget() and not algo.finished and stale_asks < 50:
            in_flight = next_seq - told
            room = min(batch, budget - len(evaluated) - in_flight)
            if room <= 0 or in_flight + batch > max_in_flight:
                return
            fresh: list[tuple[int, str]] = []
            for arch in algo.ask(room):
                n_proposed += 1
                if arch in evaluated:  # a repeat: answer from this search's memory, no rescoring
                    e = evaluated[arch]
                    algo.tell(arch, e.score, e.costs)
                elif arch in table:  # --scores-from: the table's values, told in ask order like a score
                    pending_archs.add(arch)
                    arrived[next_seq] = cached_output(arch, table[arch])
                    next_seq += 1
                elif arch not in pending_archs:
                    pending_archs.add(arch)
                    fresh.append((next_seq, arch))
                    next_seq += 1
            if not fresh:
                if pending or told in arrived:  # results to wait for or tell first (e.g. meco-pt's step)
                    break
                stale_asks += 1
                continue
            stale_asks = 0
            pending[pool.score.remote([arch for _, arch in fresh], proxy_seed)] = fresh

    label_rows = list(logged_labels)
    propose()
    while True:
        while told in arrived:  # cached values arrive at once, scored ones below
            out = arrived.pop(told)
            row = _proxy_row(out, base, run, space, objective, evaluated, algo, n_proposed, elapsed())
            pending_archs.discard(row["arch"])
            unreported.append(row)
            if predictor:
                new_labels = _label_rows(predictor, base, run, space, evaluated, elapsed())
                label_rows += new_labels
                unreported += new_labels
            told += 1
            stale_asks = 0  # new results change what the algorithm proposes
            propose()
        # tune.report blocks until the Tune controller takes the result (tens of ms): batch the
        # rows so that one search is not throttled by its own reporting
        if time.monotonic() - last_report >= REPORT_SECONDS or not pending:
            report(0)
        if not pending:
            break
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=result_timeout)
        if not ready:  # the pool bounds its own waits; this catches a pool that stopped answering
            raise TimeoutError(f"the scorer pool returned no result for {result_timeout:.0f} s")
        entries = pending.pop(ready[0])
        for (seq, _), out in zip(entries, ray.get(ready[0]), strict=True):
            arrived[seq] = out

    report(0)
    rows: list[dict[str, Any]] = []
    if run.benchmark:
        validated = logged_validate
        if not validated:
            looked_up = {r["arch"] for r in label_rows}
            validated = _validate(list(evaluated.values()), base, run, space, objective, algo, looked_up, elapsed())
            rows += validated
        if not logged_test:
            rows.append(returned_row(validated + _as_candidates(label_rows, len(validated)), base, run, elapsed()))
    report(1, rows)


def _costs(row: dict[str, Any]) -> dict[str, float] | None:
    if row.get("params") is None or row.get("flops") is None:
        return None
    return {"params": float(row["params"]), "flops": float(row["flops"])}


def _proxy_row(out, base, run, space, objective, evaluated, algo, n_proposed, elapsed) -> dict[str, Any]:
    result = out.get("result")
    arch = result["arch"] if result is not None else out["arch"]
    values = dict(result["values"]) if result is not None else {p: None for p in run.proxies}
    error = _errors_text(result["errors"]) if result is not None else out.get("error")
    score = objective.observe(values, arch) if isinstance(objective, PredictorObjective) else objective.observe(values)
    canonical = space.canonical(arch)
    costs = _costs(out)
    supernet = space.is_supernet(arch)
    evaluated[arch] = EvaluatedArch(arch, canonical, values, score, len(evaluated) + 1, costs, supernet)
    algo.tell(arch, score, costs)
    row = {
        **base,
        "stage": "proxy",
        "arch": arch,
        "index": index_or_none(space, arch),
        "canonical": canonical,
        "score": score,
        "objective": "predictor" if run.predictor else run.objective_spec,
        "predicted_acc": objective.predicted.get(arch) if isinstance(objective, PredictorObjective) else None,
        "proxy_seconds": sum(result["seconds"].values()) if result is not None else None,
        # a trained proxy's model (bossnas): its cost, the same on every row, paid once per search
        "train_device_seconds": run.proxy_training_seconds(),
        "params": out.get("params"),
        "flops": out.get("flops"),
        "supernet": supernet,
        "in_space": space.in_space(arch),
        "cached": bool(out.get("cached")),
        "worker_id": out.get("worker_id"),
        "node": out.get("node"),
        "device": out.get("device"),
        "iteration": len(evaluated),
        "n_proposed": n_proposed,
        "elapsed": elapsed,
        "timestamp": _now(),
        "error": error,
        "scored_at": out.get("scored_at"),
        "attempts": out.get("attempts"),
    }
    for name in run.proxies:
        row[f"proxy_{name}"] = values.get(name)
    return row


def _label_rows(predictor, base, run, space, evaluated, elapsed) -> list[dict[str, Any]]:
    """The lookups of a labelling round now due (none most of the time), as ``label`` log rows."""
    rows = []
    for arch, acc, score in predictor.label_due():
        e = evaluated[arch]
        extra = {
            "index": index_or_none(space, arch),
            "canonical": e.canonical,
            "predicted_acc": predictor.predicted.get(arch),
            "timestamp": _now(),
            **{f"proxy_{name}": e.values.get(name) for name in run.proxies},
        }
        rows.append(label_row(base, run, arch, acc, score, len(predictor.labels), elapsed, extra))
    return rows


def index_or_none(space, arch: str) -> int | None:
    """The space's index of ``arch``; None for an arch without one (a supernet, a genotype outside the space)."""
    try:
        return int(space.index_of(arch))
    except (KeyError, ValueError, IndexError):
        return None


def _validate(evaluated, base, run, space, objective, algo, looked_up, elapsed) -> list[dict[str, Any]]:
    """The search's validation lookups on the run's signal: those the algorithm spends itself (robot), else
    one per top-k candidate by score. Archs already looked up (predictor labels, the same signal) are not
    looked up again; with another signal they count as not looked up."""
    from zeronas.groundtruth import open_ground_truth
    from zeronas.pipeline._predictor_objective import label_source

    truth = open_ground_truth(run.benchmark, run.space)

    def lookup(arch: str) -> float | None:
        return truth.lookup(arch, run.validate_dataset, metric=run.metric, epochs=run.epochs)

    if label_source(run.validate_dataset) != run.accuracy_source:
        looked_up = set()
    plain = [e for e in evaluated if not e.supernet and e.arch not in looked_up]
    spent = algo.spend_lookups([(e.arch, e.values) for e in plain], lookup, run.top_k)
    if spent is None:
        chosen = top_k(plain, objective, run.top_k, min_distance=run.top_k_distance, space=space)
        spent = [(e.arch, lookup(e.arch), s) for e, s in chosen]
    by_arch = {e.arch: e for e in plain}
    ranked = enumerate(spent, start=1)
    return [validation_row(by_arch[arch], rank, acc, s, base, run, space, elapsed) for rank, (arch, acc, s) in ranked]


def validation_row(e: EvaluatedArch, rank: int, acc: float | None, score: float | None, base, run, space, elapsed):
    """The ``validate`` row of one looked-up candidate (``acc`` None: not in the benchmark)."""
    row = {
        **base,
        "stage": "validate",
        "arch": e.arch,
        "index": index_or_none(space, e.arch),
        "canonical": e.canonical,
        "score": score,
        "objective": "predictor" if run.predictor else run.objective_spec,
        "predicted_acc": score if run.predictor else None,
        "accuracy": acc,
        "accuracy_source": run.accuracy_source,
        # a named schedule (NB301's "nb301") has no epoch count; accuracy_source names it
        "epochs": run.epochs if isinstance(run.epochs, int) else None,
        "params": int(e.costs["params"]) if e.costs else None,
        "flops": e.costs["flops"] if e.costs else None,
        "iteration": rank,
        "elapsed": elapsed,
        "timestamp": _now(),
        "error": None if acc is not None else "not in the benchmark",
    }
    for name in run.proxies:
        row[f"proxy_{name}"] = e.values.get(name)
    return row


def returned_row(validated: list[dict[str, Any]], base, run, elapsed) -> dict[str, Any]:
    """The returned arch (see :func:`select_returned`) with its test accuracy, looked up once."""
    from zeronas.groundtruth import DEFAULT_EPOCHS, open_ground_truth

    chosen = select_returned(validated)
    acc = None
    error = None
    if chosen is None:
        return {
            **base,
            "stage": "test",
            "arch": "",
            "accuracy_source": run.test_source,
            "timestamp": _now(),
            "error": "no candidate to return: every proxy value failed",
        }
    if run.test_source is None:
        error = "the benchmark holds no test accuracy for this dataset"
    else:
        truth = open_ground_truth(run.benchmark, run.space)
        acc = truth.lookup(chosen["arch"], run.dataset, metric="test", epochs=DEFAULT_EPOCHS.get(run.space, 200))
        error = None if acc is not None else "not in the benchmark"
    if chosen.get("accuracy") is None:
        error = "; ".join(filter(None, ["no validation figure: returned the proxy's best", error]))
    return {
        **base,
        "stage": "test",
        "arch": chosen["arch"],
        "index": chosen.get("index"),
        "canonical": chosen.get("canonical"),
        "score": chosen.get("score"),
        "objective": run.objective_spec,
        "accuracy": acc,
        "accuracy_source": run.test_source,
        "params": chosen.get("params"),
        "flops": chosen.get("flops"),
        # the returned arch's rank among the validated candidates
        "iteration": chosen.get("iteration"),
        "elapsed": elapsed,
        "timestamp": _now(),
        "error": error,
    }


def _as_candidates(label_rows: list[dict[str, Any]], after: int) -> list[dict[str, Any]]:
    """A predictor's labels as returnable candidates, ranked after the ``after`` validated ones."""
    ordered = sorted(label_rows, key=lambda r: r["iteration"] or 0)
    return [{**r, "iteration": after + n} for n, r in enumerate(ordered, start=1)]


def select_returned(validated: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The architecture a search returns: the best validation accuracy of everything it looked up (ties:
    the better rank); the proxy's best when no candidate has a validation figure."""
    if not validated:
        return None
    by_rank = sorted(validated, key=lambda r: r["iteration"])
    with_acc = [r for r in by_rank if r.get("accuracy") is not None]
    if not with_acc:
        return by_rank[0]
    return max(with_acc, key=lambda r: (r["accuracy"], -r["iteration"]))
