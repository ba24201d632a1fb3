"""``analyze(paths, benchmark=...) -> AnalysisReport``: every section of ``zeronas analyze``."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zeronas.analysis import _anytime, _compare, _quality, _workers
from zeronas.analysis._load import LogData, Search, load, per_arch_means
from zeronas.analysis._report import AnalysisReport, ReportTable
from zeronas.analysis._truth import NO_TRUTH, Truth, benchmark_truth, log_truth, validation_truth
from zeronas.datasets import canonical_dataset
from zeronas.errors import ZeronasError
from zeronas.logs import RUN_PARTITION

__all__ = ["analyze"]

#: share of evaluated archs that need a known truth before anytime curves mean anything
MIN_CURVE_COVERAGE = 0.99
#: resampled points (archs × proxies × resamples) the per-search intervals may cost, about a minute
MAX_PER_SEARCH_BOOTSTRAP = 50_000_000


def analyze(
    paths: Sequence[str | Path] | str | Path,
    *,
    benchmark: str | Path | None = None,
    dataset: str | None = None,
    space: str | None = None,
    metric: str | None = None,
    epochs: int | None = None,
    top_k: int = 10,
    n_resamples: int = 200,
    seed: int = 0,
    per_search_bootstrap: int = MAX_PER_SEARCH_BOOTSTRAP,
) -> AnalysisReport:
    """Analyse one or many runs' logs; ground truth from ``benchmark`` or the log's lookups.

    ``per_search_bootstrap``: resampled points (archs × columns × resamples) the per-search intervals may cost;
    above it they are left out, with a note (the whole-log table keeps its intervals)."""
    if top_k < 1:
        raise ZeronasError(f"--top-k must be at least 1, got {top_k}")
    if n_resamples < 0:
        raise ZeronasError(f"--bootstrap must be 0 (no intervals) or more, got {n_resamples}")
    if space is not None:
        from zeronas.spaces import get_space

        space = get_space(space).name
    data = load(paths, canonical_dataset(dataset) if dataset else None, space)
    report = AnalysisReport()
    truths = _ground_truths(data, benchmark, metric, epochs, report)
    gt = _truth_per_row(data, truths)
    ctx = _Context(data, truths, gt, top_k, n_resamples, seed)
    ctx.per_search_bootstrap = per_search_bootstrap
    ctx.best_test = _best_test(data, benchmark, truths, metric, epochs)
    ctx.valid_truths = _validation_truths(data, benchmark)
    ctx.valid_gt = _truth_per_row(data, ctx.valid_truths)
    if data.missing:
        report.notes.append(f"log lacks the columns {', '.join(data.missing)}: figures that need them are left out")
    if data.supernet_rows:
        report.notes.append(
            f"{data.supernet_rows} supernet evaluation(s) (meco-pt) are left out of every table; "
            "they count in the budget"
        )
    report.tables.append(_overview(ctx))
    report.tables += _proxy_quality(ctx, report)
    figures = [_search_figures(ctx, s) for s in data.searches]
    report.tables += _search_tables(ctx, figures)
    report.plot_data["searches"] = figures
    report.tables += _anytime_tables(ctx, report)
    report.tables += _comparison_tables(ctx, figures, report)
    report.tables += _worker_tables(ctx, report)
    report.joined_factory = lambda: _joined(ctx)
    return report


class _Context:
    def __init__(self, data: LogData, truths: dict, gt: np.ndarray, top_k: int, n_resamples: int, seed: int):
        self.data, self.truths, self.gt = data, truths, gt
        self.top_k, self.n_resamples, self.seed = top_k, n_resamples, seed
        self.per_search_bootstrap = MAX_PER_SEARCH_BOOTSTRAP
        self.score = data.array("score")
        self.multi_run = data.n_runs > 1
        self._curves: dict[str, np.ndarray] = {}
        #: (space, dataset) -> best test accuracy in the space, for regret (absent: unknown)
        self.best_test: dict[tuple[str, str], float] = {}
        #: (space, dataset) -> the benchmark's validation signal the searches selected on, and per proxy row
        self.valid_truths: dict[tuple[str, str], Truth] = {}
        self.valid_gt = np.full(data.proxy.num_rows, np.nan)

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def label(self, s: Search) -> str:
        return s.key if self.multi_run else s.search_id

    def truth(self, s: Search) -> Truth:
        return self.truths[(s.space, s.dataset)]

    def curve(self, s: Search) -> np.ndarray:
        if s.key not in self._curves:
            self._curves[s.key] = _anytime.topk_curve(self.score[s.rows], self.gt[s.rows], self.top_k)
        return self._curves[s.key]

    def evals_curve(self, s: Search) -> np.ndarray:
        """``curve`` with one value per proxy evaluation, the supernets left out of the rows included."""
        return _anytime.over_iterations(self.curve(s), self.data.array("iteration")[s.rows])

    def n_evals(self, s: Search) -> int:
        """Distinct proxy evaluations of the search: its rows and the supernets left out of them (none for a
        supernet-training search, whose one row is its derived arch)."""
        if (self.data.array("stage")[s.rows] == "derive").any():
            return 0
        return max(s.rows.stop - s.rows.start, len(self.evals_curve(s)))

    def groups(self) -> list[tuple[str, str]]:
        return sorted({(s.space, s.dataset) for s in self.data.searches})

    def coverage(self, group: tuple[str, str]) -> float:
        rows = _rows_of(self.data, group)
        return float(np.isfinite(self.gt[rows]).mean()) if len(rows) else 0.0


def _ground_truths(data: LogData, benchmark, metric: str | None, epochs: int | None, report: AnalysisReport) -> dict:
    truths = {}
    other = data.other
    for space, dataset in sorted({(s.space, s.dataset) for s in data.searches}):
        if benchmark is not None and "?" in (space, dataset):
            missing = "space" if space == "?" else "dataset"
            report.notes.append(f"the log names no {missing}: pass --{missing} to join --benchmark")
            truths[(space, dataset)] = Truth()
        elif benchmark is not None:
            truths[(space, dataset)] = benchmark_truth(benchmark, space, dataset, metric, epochs)
        else:
            mask = pc.and_(
                pc.and_(pc.equal(other.column("stage"), "validate"), pc.equal(other.column("space"), space)),
                pc.equal(other.column("dataset"), dataset),
            )
            truths[(space, dataset)] = log_truth(other.filter(pc.fill_null(mask, False)))
    return truths


def _validation_truths(data: LogData, benchmark) -> dict:
    """Per (space, dataset): the benchmark column the searches' ``validate`` rows name (the anytime curves
    of the returned arch need it for every evaluated arch, so only a benchmark gives it)."""
    out = {}
    other = data.other
    for space, dataset in sorted({(s.space, s.dataset) for s in data.searches}):
        if benchmark is None or "?" in (space, dataset):
            out[(space, dataset)] = Truth()
            continue
        mask = pc.fill_null(
            pc.and_(
                pc.and_(pc.equal(other.column("stage"), "validate"), pc.equal(other.column("space"), space)),
                pc.equal(other.column("dataset"), dataset),
            ),
            False,
        )
        sources = Counter(s for s in other.filter(mask).column("accuracy_source").to_pylist() if s)
        source = sources.most_common(1)[0][0] if sources else None
        out[(space, dataset)] = validation_truth(benchmark, space, dataset, source)
    return out


def _best_test(data: LogData, benchmark, truths: dict, metric: str, epochs: int | None) -> dict:
    """Best test accuracy (full schedule) of each (space, dataset) in the benchmark: regret's reference."""
    if benchmark is None:
        return {}
    best = {}
    for group, truth in truths.items():
        if not truth:
            continue
        if metric == "test" and epochs is None:
            best[group] = truth.best_known
        else:
            try:
                best[group] = benchmark_truth(benchmark, group[0], group[1], "test", None).best_known
            except ZeronasError:  # a validation-only benchmark (NAS-Bench-301): no test figure, no regret
                continue
    return best


def _truth_per_row(data: LogData, truths: dict) -> np.ndarray:
    gt = np.full(data.proxy.num_rows, np.nan)
    archs = data.proxy.column("arch")
    for group, truth in truths.items():
        idx = _rows_of(data, group)
        gt[idx] = truth.lookup(archs.take(pa.array(idx)))
    return gt


def _rows_of(data: LogData, group: tuple[str, str]) -> np.ndarray:
    """Proxy-row indices of the searches in a (space, dataset) group."""
    parts = [np.arange(s.rows.start, s.rows.stop) for s in data.searches if (s.space, s.dataset) == group]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _group_label(group: tuple) -> str:
    return "/".join(str(g) for g in group)


# -- overview -------------------------------------------------------------------------
def _overview(ctx: _Context) -> ReportTable:
    data = ctx.data
    stages = data.other.column("stage")
    rows = [
        ["runs", data.n_runs],
        ["searches", len(data.searches)],
        ["proxy rows", data.proxy.num_rows],
        ["validate rows", pc.sum(pc.equal(stages, "validate")).as_py() or 0],
        ["train rows", pc.sum(pc.equal(stages, "train")).as_py() or 0],
        ["train_test rows", pc.sum(pc.equal(stages, "train_test")).as_py() or 0],
        ["distinct archs", len(pc.unique(data.proxy.column("arch")))],
        ["proxies", ", ".join(p[len("proxy_") :] for p in data.proxies) or "none"],
    ]
    for group in ctx.groups():
        truth = ctx.truths[group]
        name = _group_label(group)
        rows.append([f"ground truth {name}", truth.source or NO_TRUTH])
        rows.append([f"truth coverage {name}", ctx.coverage(group)])
        if truth.best_known is not None:
            rows.append([f"best known accuracy {name}", truth.best_known])
    return ReportTable("overview", "Overview", ["item", "value"], rows)


# -- proxy quality ------------------------------------------------------------------------
def _quality_columns(ctx: _Context) -> list[str]:
    cols = list(ctx.data.proxies)
    if any(s.objective in ("combined", "score") for s in ctx.data.searches):
        cols.append("score")
    if np.isfinite(ctx.data.array("predicted_acc")).any():  # --objective predictor: rated like a proxy
        cols.append("predicted_acc")
    return cols


def _proxy_quality(ctx: _Context, report: AnalysisReport) -> list[ReportTable]:
    tables = []
    cols = _quality_columns(ctx)
    scatter = []
    for group in ctx.groups():
        truth = ctx.truths[group]
        title = f"Proxy quality on distinct archs ({_group_label(group)})"
        table = ReportTable("proxy quality", title, _quality.QUALITY_COLUMNS)
        tables.append(table)
        idx = _rows_of(ctx.data, group)
        archs = ctx.data.proxy.column("arch").take(pa.array(idx))
        values = {c: ctx.data.array(c)[idx] for c in cols + ["index", "params", "flops"]}
        values["__truth"] = ctx.gt[idx]
        arch_names, means = per_arch_means(archs, values)
        points = _quality.ArchPoints(
            _group_label(group),
            truth.source,
            arch_names,
            {_short(c): means[c] for c in cols + ["index", "params", "flops"]} | {"truth": means["__truth"]},
            {},
        )
        scatter.append(points)
        if not truth:
            table.notes.append(NO_TRUTH)
            continue
        intervals = (
            f"95 % percentile-bootstrap intervals ({ctx.n_resamples} resamples)"
            if ctx.n_resamples
            else "no intervals (--bootstrap 0)"
        )
        table.notes.append(
            f"truth: {truth.source}; top5 = share of the true top 5 % among the proxy's top 5 %; {intervals}"
        )
        if truth.best_known is None:
            table.notes.append(
                "truth comes only from the searches' own lookups of their top-k, a narrow range: "
                "pass --benchmark PATH for the whole log"
            )
        for c in cols:
            result = _quality.proxy_quality(means[c], means["__truth"], n_resamples=ctx.n_resamples, rng=ctx.rng())
            table.rows.append([_short(c)] + _quality.quality_cells(result))
            if result is not None:
                points.quality[_short(c)] = result
        if not cols:
            table.notes.append("the log has no proxy_* values and no score to assess")
    report.plot_data["scatter"] = scatter

    per_search = ReportTable("proxy quality", "Proxy quality per search", ["search"] + _quality.QUALITY_COLUMNS)
    work = sum(s.rows.stop - s.rows.start for s in ctx.data.searches if ctx.truth(s)) * len(cols) * ctx.n_resamples
    resamples = ctx.n_resamples if work <= ctx.per_search_bootstrap else 0
    if resamples < ctx.n_resamples:
        per_search.notes.append(
            "intervals left out: the log is too large to bootstrap every search quickly (the whole-log table has them)"
        )
    for s in ctx.data.searches:
        if not ctx.truth(s):
            continue
        for c in cols:
            result = _quality.proxy_quality(
                ctx.data.array(c)[s.rows], ctx.gt[s.rows], n_resamples=resamples, rng=ctx.rng()
            )
            per_search.rows.append([ctx.label(s), _short(c)] + _quality.quality_cells(result))
    if not any(ctx.truths.values()):
        per_search.notes.append(NO_TRUTH)
    tables.append(per_search)
    return tables


def _short(column: str) -> str:
    return column[len("proxy_") :] if column.startswith("proxy_") else column


# -- search quality ----------------------------------------------------------------------------
def _search_figures(ctx: _Context, s: Search) -> _compare.SearchFigures:
    data = ctx.data
    sl = s.rows
    n = ctx.n_evals(s)
    n_proposed, dup = _compare.duplicate_share(n, data.array("n_proposed")[sl])
    other = data.other.filter(pc.equal(data.other.column("search"), s.key))
    stage = other.column("stage")
    acc = pc.cast(other.column("accuracy"), pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    is_val = np.asarray(pc.equal(stage, "validate").to_numpy(zero_copy_only=False), dtype=bool)
    # a predictor search's labels are validation lookups too
    is_label = np.asarray(pc.equal(stage, "label").to_numpy(zero_copy_only=False), dtype=bool)
    is_test = np.asarray(pc.equal(stage, "test").to_numpy(zero_copy_only=False), dtype=bool)
    sources = other.column("accuracy_source").to_pylist()
    selected_on_test = any(src and "_test_" in src for src, v in zip(sources, is_val, strict=True) if v)
    is_train = np.asarray(pc.equal(stage, "train").to_numpy(zero_copy_only=False), dtype=bool)
    epochs = pc.cast(other.column("epochs"), pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)
    elapsed = np.concatenate(
        [
            data.array("elapsed")[sl],
            pc.cast(other.column("elapsed"), pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False),
        ]
    )
    truth = ctx.truth(s)
    final = float(ctx.curve(s)[-1]) if n and truth else math.nan
    returned_test = _compare.nanmax(acc[is_test])
    archs = other.column("arch").to_numpy(zero_copy_only=False)
    returned_arch = (str(archs[is_test][0]) or None) if is_test.any() else None  # "": nothing to return
    returned_valid = _compare.nanmax(acc[is_val & (archs == returned_arch)]) if returned_arch else math.nan
    best_test = ctx.best_test.get((s.space, s.dataset))
    regret = best_test - returned_test if best_test is not None and np.isfinite(returned_test) else math.nan
    proxy_wall = _compare.nanmax(data.array("elapsed")[sl])
    train_s = data.array("train_device_seconds")[sl]
    return _compare.SearchFigures(
        key=s.key,
        label=ctx.label(s),
        algorithm=s.algorithm,
        seed=s.seed,
        group=(s.space, s.dataset, s.objective),
        n_evals=n,
        n_proposed=n_proposed,
        duplicate_share=dup,
        isomorphic_share=_compare.isomorphic_share(data.array("canonical")[sl]),
        best_score=_compare.nanmax(ctx.score[sl]),
        returned_test=returned_test,
        returned_arch=returned_arch,
        returned_valid=returned_valid,
        selected_on_test=selected_on_test,
        final_topk_acc=final,
        best_validated=_compare.nanmax(acc[is_val]),
        best_trained=_compare.nanmax(acc[is_train]),
        regret=regret,
        n_lookups=int(is_val.sum() + is_label.sum()),
        # one derive row (a supernet search), or every proxy row with the same trained proxy's cost (bossnas)
        train_device_s=float(np.nanmax(train_s)) if np.isfinite(train_s).any() else math.nan,
        train_epochs=int(epochs[is_train].sum()),
        wall_s=_compare.nanmax(elapsed),
        evals_per_s=n / proxy_wall if proxy_wall > 0 else math.nan,
    )


def _search_tables(ctx: _Context, figures: list[_compare.SearchFigures]) -> list[ReportTable]:
    k = ctx.top_k
    quality = ReportTable(
        "search quality", "Search quality",
        ["search", "algorithm", "seed", "objective", "returned_test", "regret", "lookups", "proxy_evals",
         "train_device_s", "best_score", f"oracle_top{k}_acc", "best_validated", "best_trained"],
    )  # fmt: skip
    budget = ReportTable(
        "search quality", "Search budget",
        ["search", "evals", "proposed", "dup_share", "iso_share", "lookups", "train_epochs", "wall_s", "evals_per_s"],
    )  # fmt: skip
    for f in figures:
        quality.rows.append([
            f.label, f.algorithm, f.seed, f.group[2], f.returned_test, f.regret, f.n_lookups, f.n_evals,
            f.train_device_s, f.best_score, f.final_topk_acc, f.best_validated, f.best_trained,
        ])  # fmt: skip
        budget.rows.append([
            f.label, f.n_evals, f.n_proposed, f.duplicate_share, f.isomorphic_share, f.n_lookups, f.train_epochs,
            f.wall_s, f.evals_per_s,
        ])  # fmt: skip
    quality.notes += _honesty_notes(ctx, figures)
    budget.notes.append(
        "evals = distinct archs scored; dup_share = repeated proposals / proposals; "
        "iso_share = scored archs isomorphic to an earlier one; "
        "lookups = validation lookups (a predictor search's labels included)"
    )
    if any(np.isfinite(f.train_device_s) for f in figures):
        quality.notes.append(
            "train_device_s = seconds a supernet-training search (rarts, darts-1st, milenas) trained on its device "
            "(GPU-seconds on a GPU; its proxy_evals are 0 and its one candidate is the arch it derived), or what "
            "the model behind a trained proxy (bossnas) cost to train and rate, counted in full for each search"
        )
    return [quality, budget]


def _honesty_notes(ctx: _Context, figures: list[_compare.SearchFigures]) -> list[str]:
    k = ctx.top_k
    notes = [
        "returned_test = test accuracy of the arch the search returned (best validation of its top-k), "
        "looked up once after selection; regret = best test accuracy in the space − returned_test",
        f"oracle_top{k}_acc = best true accuracy among the top-{k} by score: an oracle pick, not a search result",
    ]
    selected = sorted(f.label for f in figures if f.selected_on_test)
    if selected:
        notes.append(f"SELECTED ON TEST (--select-on-test): {', '.join(selected)}")
    if not any(np.isfinite(f.returned_test) for f in figures):
        notes.append("returned_test: the log has no test rows (searches run without --benchmark)")
    if not ctx.best_test:
        notes.append(f"regret: {NO_TRUTH}")
    if not any(ctx.truths.values()):
        notes.append(f"oracle_top{k}_acc: {NO_TRUTH}")
    return notes


# -- anytime curves ----------------------------------------------------------------------------
def _by_group(ctx: _Context) -> dict[tuple, dict[str, list[Search]]]:
    out: dict[tuple, dict[str, list[Search]]] = defaultdict(lambda: defaultdict(list))
    for s in ctx.data.searches:
        out[(s.space, s.dataset, s.objective)][s.algorithm].append(s)
    return out


def _anytime_tables(ctx: _Context, report: AnalysisReport) -> list[ReportTable]:
    tables, panels = [], []
    for group, algos in sorted(_by_group(ctx).items()):
        returned_table, returned_panels = _returned_curves(ctx, group, algos)
        oracle_table, oracle_panel = _oracle_curves(ctx, group, algos)
        valid, truth = ctx.valid_truths[group[:2]], ctx.truths[group[:2]]
        if oracle_panel and valid and valid.source == truth.source:
            oracle_table.notes.append("the same figure as the best validated curve (validation-only benchmark)")
            oracle_panel = None
        tables += [returned_table, oracle_table]
        panels += returned_panels + ([oracle_panel] if oracle_panel else [])
    report.plot_data["anytime"] = panels
    return tables


def _time_grid(ctx: _Context, searches: list[Search]) -> np.ndarray:
    elapsed = ctx.data.array("elapsed")
    t_max = max((_compare.nanmax(elapsed[s.rows]) for s in searches), default=math.nan)
    return np.linspace(0.0, t_max if np.isfinite(t_max) and t_max > 0 else 1.0, 200)


def _bands(ctx: _Context, algo: str, searches: list[Search], curves: list[np.ndarray], grid: np.ndarray) -> tuple:
    """Bands over seeds against evaluations and, when the log has times, against wall time."""
    elapsed = ctx.data.array("elapsed")
    iterations = ctx.data.array("iteration")
    by_evals = _anytime.by_evaluations(
        algo, [_anytime.over_iterations(c, iterations[s.rows]) for s, c in zip(searches, curves)]
    )
    if not np.isfinite(elapsed[searches[0].rows]).any():
        return by_evals, None
    return by_evals, _anytime.by_time(algo, [(elapsed[s.rows], c) for s, c in zip(searches, curves)], grid)


def _returned_curves(ctx: _Context, group: tuple, algos: dict[str, list[Search]]) -> tuple[ReportTable, list]:
    """The honest curves: the best validation accuracy among the top-k so far, and the test accuracy of the
    arch a search stopped at n would return."""
    k = ctx.top_k
    label = _group_label(group)
    table = ReportTable(
        "anytime", f"Anytime returned arch vs proxy evaluations ({label})",
        ["algorithm", "evaluations", "best_validated", "best_validated_lo", "best_validated_hi", "returned_test",
         "returned_test_lo", "returned_test_hi", "seeds"],
    )  # fmt: skip
    valid, test = ctx.valid_truths[group[:2]], ctx.truths[group[:2]]
    rows = _rows_of(ctx.data, group[:2])
    coverage = float(np.isfinite(ctx.valid_gt[rows]).mean()) if len(rows) else 0.0
    if coverage < MIN_CURVE_COVERAGE:
        if not valid:
            table.notes.append(
                f"needs the validation signal of every evaluated arch: pass --benchmark PATH ({valid.source})"
                if valid.source
                else "needs the validation signal of every evaluated arch: pass --benchmark PATH"
            )
        else:
            table.notes.append(f"the benchmark's validation signal covers only {coverage:.0%} of the evaluated archs")
        return table, []
    # a validation-only benchmark (DARTS): the returned arch's "test" figure would be its validation figure again
    with_test = bool(test) and test.source != valid.source and ctx.coverage(group[:2]) >= MIN_CURVE_COVERAGE
    grid = _time_grid(ctx, [s for ss in algos.values() for s in ss])
    panels = {
        "returned": _anytime.AnytimePanel(
            label, "returned", f"Test accuracy of the arch returned after n evaluations (best validated of top-{k})",
            f"returned arch's test accuracy (%), {test.source}", [], [],
        ),
        "validated": _anytime.AnytimePanel(
            label, "validated", f"Best validated accuracy among the top-{k} by score so far",
            f"best validation accuracy (%), {valid.source}", [], [],
        ),
    }  # fmt: skip
    for algo, ss in sorted(algos.items()):
        pairs = [_anytime.returned_curves(ctx.score[s.rows], ctx.valid_gt[s.rows], ctx.gt[s.rows], k) for s in ss]
        for what, i in (("validated", 0), ("returned", 1)):
            by_evals, by_time = _bands(ctx, algo, ss, [p[i] for p in pairs], grid)
            panels[what].eval_bands.append(by_evals)
            if by_time is not None:
                panels[what].time_bands.append(by_time)
        v, t = panels["validated"].eval_bands[-1], panels["returned"].eval_bands[-1]
        for n in _anytime.checkpoints(len(v.x)):
            cells = [float(v.median[n - 1]), float(v.q_lo[n - 1]), float(v.q_hi[n - 1])]
            cells += (
                [float(t.median[n - 1]), float(t.q_lo[n - 1]), float(t.q_hi[n - 1])] if with_test else [math.nan] * 3
            )
            table.rows.append([algo, n, *cells, v.n_seeds])
    lo, hi = _anytime.SPREAD
    table.notes.append(
        f"median [{lo:.0%}, {hi:.0%} quantiles] over seeds; validation: {valid.source}"
        + (f"; test: {test.source}" if with_test else "")
    )
    if not with_test:
        table.notes.append(
            "returned_test: the benchmark has no separate test figure (validation-only)"
            if test and test.source == valid.source
            else f"returned_test: {NO_TRUTH}"
        )
    return table, ([panels["returned"]] if with_test else []) + [panels["validated"]]


def _oracle_curves(ctx: _Context, group: tuple, algos: dict[str, list[Search]]) -> tuple:
    k = ctx.top_k
    label = _group_label(group)
    table = ReportTable(
        "anytime", f"Anytime oracle top-{k} accuracy vs proxy evaluations ({label})",
        ["algorithm", "evaluations", "accuracy", "accuracy_std", "seeds"],
    )  # fmt: skip
    coverage = ctx.coverage(group[:2])
    if coverage < MIN_CURVE_COVERAGE:
        reason = (
            NO_TRUTH
            if not ctx.truths[group[:2]]
            else f"ground truth covers only {coverage:.0%} of the evaluated archs: pass --benchmark PATH"
        )
        table.notes.append(reason)
        return table, None
    truth = ctx.truths[group[:2]]
    panel = _anytime.AnytimePanel(
        label, "oracle", f"Oracle: best true accuracy of the top-{k} by score (not a search result)",
        f"oracle: best true accuracy of top-{k} by score (%)", [], [],
    )  # fmt: skip
    grid = _time_grid(ctx, [s for ss in algos.values() for s in ss])
    for algo, ss in sorted(algos.items()):
        by_evals, by_time = _bands(ctx, algo, ss, [ctx.curve(s) for s in ss], grid)
        panel.eval_bands.append(by_evals)
        if by_time is not None:
            panel.time_bands.append(by_time)
        for n in _anytime.checkpoints(len(by_evals.x)):
            table.rows.append([algo, n, float(by_evals.mean[n - 1]), float(by_evals.std[n - 1]), by_evals.n_seeds])
    table.notes.append(f"an oracle pick, not a search result; mean ± std over seeds; truth: {truth.source}")
    if not panel.time_bands:
        table.notes.append("the log has no elapsed times: no curve against wall time")
    return table, panel


# -- algorithm comparison -------------------------------------------------------------------------
def _trains_a_supernet(f: _compare.SearchFigures) -> bool:
    """A supernet-training search (rarts, ...): a training cost and no proxy evaluation."""
    return f.n_evals == 0 and np.isfinite(f.train_device_s)


def _comparison_tables(
    ctx: _Context, figures: list[_compare.SearchFigures], report: AnalysisReport
) -> list[ReportTable]:
    k = ctx.top_k
    tables, boxes = [], []
    grouped: dict[tuple, dict[str, list[_compare.SearchFigures]]] = defaultdict(lambda: defaultdict(list))
    zero_shot = {f.group for f in figures if not _trains_a_supernet(f)}
    for f in figures:
        # a supernet search has no objective: it is compared with the zero-shot searches of its space and dataset
        joins = [g for g in zero_shot if g[:2] == f.group[:2]] if _trains_a_supernet(f) else []
        for group in joins or [f.group]:
            grouped[group][f.algorithm].append(f)
    for group, algos in sorted(grouped.items()):
        label = _group_label(group)
        has_truth = any(np.isfinite(f.returned_test) for fs in algos.values() for f in fs)
        metric = "returned_test" if has_truth else "best_score"

        def value(f: _compare.SearchFigures, has_truth: bool = has_truth) -> float:
            return f.returned_test if has_truth else f.best_score

        summary = ReportTable(
            "comparison",
            f"Algorithms under objective {group[2]} ({group[0]}/{group[1]})",
            ["algorithm", "seeds", metric, f"{metric}_std", f"{metric}_median", "regret", "regret_std", "lookups",
             "proxy_evals", "train_device_s", f"oracle_top{k}_acc"],
        )  # fmt: skip
        for algo, fs in sorted(algos.items()):
            m = _compare.summarise([value(f) for f in fs])
            r = _compare.summarise([f.regret for f in fs])
            oracle = _compare.summarise([f.final_topk_acc for f in fs])
            summary.rows.append([
                algo, len(fs), m["mean"], m["std"], m["median"], r["mean"], r["std"],
                float(np.mean([f.n_lookups for f in fs])), float(np.mean([f.n_evals for f in fs])),
                _compare.summarise([f.train_device_s for f in fs])["mean"], oracle["mean"],
            ])  # fmt: skip
        if not has_truth:
            summary.notes.append("no returned-arch test accuracy in the log (compared by best proxy score instead)")
        elif all(not np.isfinite(f.regret) for fs in algos.values() for f in fs):
            summary.notes.append(f"regret: {NO_TRUTH}")
        summary.notes.append(
            "mean ± std over seeds; lookups, proxy_evals, train_device_s (supernet training): means per search; "
            "oracle: see above"
        )
        if any(f.selected_on_test for fs in algos.values() for f in fs):
            summary.notes.append("SELECTED ON TEST: validation used the test split")
        tables.append(summary)

        tests = ReportTable(
            "comparison",
            f"Paired Wilcoxon tests on {metric} ({label})",
            ["algorithm_a", "algorithm_b", "pairs", "mean_diff", "statistic", "p_value", "note"],
        )
        if len(algos) < 2:
            tests.notes.append(f"only one algorithm ({next(iter(algos))}): nothing to compare")
        else:
            per_seed = {a: {f.seed: value(f) for f in fs if f.seed is not None} for a, fs in algos.items()}
            for t in _compare.pairwise_tests(per_seed):
                tests.rows.append([t.a, t.b, t.n_pairs, t.mean_diff, t.statistic, t.p_value, t.note])
            tests.notes.append("paired by seed; mean_diff = a − b; two-sided")
        tables.append(tests)
        boxes.append((
            label, metric, {a: [value(f) for f in fs] for a, fs in sorted(algos.items())},
            {a: [f for f in fs] for a, fs in sorted(algos.items())},
        ))  # fmt: skip
    report.plot_data["final"] = boxes
    return tables


# -- workers -----------------------------------------------------------------------------------------
def _worker_tables(ctx: _Context, report: AnalysisReport) -> list[ReportTable]:
    data = ctx.data
    table = data.proxy
    run, runs = _workers.encode(pc.coalesce(table.column(RUN_PARTITION), table.column("run_id"), pa.scalar("?")))
    worker, worker_names = _workers.encode(table.column("worker_id"))
    node, node_names = _workers.encode(table.column("node"))
    timestamp, elapsed, error = data.array("timestamp"), data.array("elapsed"), data.array("error")
    has_error = pc.is_valid(table.column("error")).to_numpy(zero_copy_only=False)
    workers, nodes = _workers.worker_figures(
        run, runs, worker, worker_names, node, node_names, data.array("proxy_seconds"), timestamp, elapsed, has_error
    )
    cols = ["worker", "node", "archs", "busy_s", "span_s", "archs_per_s", "idle_share", "errors"]
    per_worker = ReportTable("workers", "Workers", cols)
    per_node = ReportTable(
        "workers", "Nodes", ["node", "workers", "archs", "busy_s", "span_s", "archs_per_s", "idle_share", "errors"]
    )
    for w in workers:
        name = f"{w.run}/{w.name}" if ctx.multi_run else w.name
        per_worker.rows.append([name, w.node, w.n_archs, w.busy_s, w.span_s, w.archs_per_s, w.idle_share, w.n_errors])
    for n in nodes:
        name = f"{n.run}/{n.name}" if ctx.multi_run else n.name
        per_node.rows.append(
            [name, n.n_workers, n.n_archs, n.busy_s, n.span_s, n.archs_per_s, n.idle_share, n.n_errors]
        )
    if not workers:
        per_worker.notes.append("the log has no worker_id values")
    else:
        per_worker.notes.append("span = the run's wall time; idle_share = 1 − busy seconds (proxy_seconds) / span")
    errors = ReportTable("workers", "Errors by reason", ["reason", "count", "share_of_rows"])
    counts = _workers.error_reasons(error[has_error])
    for reason, count in counts.most_common():
        errors.rows.append([reason, count, count / max(1, data.proxy.num_rows)])
    if not counts:
        errors.notes.append("no errors logged")
    report.plot_data["throughput"] = _workers.throughput_timeline(run, runs, worker, worker_names, timestamp)
    report.plot_data["failures"] = _workers.failures_by_reason(error, data.array("search"), data.array("arch"))
    report.plot_data["busy"] = _workers.busy_intervals(
        run, runs, worker, worker_names, node, node_names, data.array("proxy_seconds"), data.array("scored_at"),
        timestamp, has_error, data.array("attempts"), data.array("search"), data.array("arch"),
    )  # fmt: skip
    requeued = int(np.sum(data.array("attempts") > 1))
    if requeued:
        errors.notes.append(f"{requeued} arch(s) were requeued after a worker failure (attempts > 1)")
    return [per_worker, per_node, errors]


# -- export ---------------------------------------------------------------------------------------------
def _joined(ctx: _Context) -> pa.Table:
    """Proxy rows with the ground truth and the searches' validated / trained accuracies (``trained_accuracy``:
    stage 3's held-out validation figure; ``trained_test_accuracy``: set only on the arch stage 3 selected)."""
    table = ctx.data.proxy.append_column("gt_accuracy", pa.array(ctx.gt, pa.float64(), from_pandas=True))
    other = ctx.data.other
    joins = (("validate", "validated_accuracy"), ("train", "trained_accuracy"), ("train_test", "trained_test_accuracy"))
    for stage, name in joins:
        part = other.filter(pc.fill_null(pc.equal(other.column("stage"), stage), False))
        cols = {"search": part.column("search"), "arch": part.column("arch"), name: part.column("accuracy")}
        if stage == "train":
            cols["trained_epochs"] = part.column("epochs")
        table = table.join(pa.table(cols), keys=["search", "arch"], join_type="left outer")
    return table.sort_by([("search", "ascending"), ("iteration", "ascending")])
