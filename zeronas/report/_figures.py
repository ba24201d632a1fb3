"""Plotly figures of an :class:`~zeronas.analysis.AnalysisReport`'s plot data: the same curves, points and
statistics as ``analyze``'s PNGs and tables, drawn for the browser. Points are downsampled for display only."""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from zeronas.analysis._anytime import SPREAD, AnytimePanel, CurveBand
from zeronas.analysis._pareto import pareto_front
from zeronas.analysis._plots import axis_scale
from zeronas.analysis._quality import ArchPoints
from zeronas.analysis._workers import BusyIntervals, utilisation

#: points drawn per scatter panel; statistics always use every point
MAX_POINTS = 2_000
#: curve points drawn per band (values at evenly spaced evaluations)
MAX_CURVE_POINTS = 400
#: worker intervals drawn one by one; above it the timeline shows the busy share per time bin
MAX_INTERVALS = 5_000
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
_FONT = {"family": "system-ui, sans-serif", "size": 12}


def sample(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Indices of at most ``limit`` of ``n`` points, uniformly at random (seeded), in order."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def fmt_number(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if abs(value) >= 1e5 or (value != 0 and abs(value) < 1e-2):
        return f"{value:.3g}"
    return f"{value:.{digits}f}"


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        height=height,
        margin={"l": 70, "r": 20, "t": 80, "b": 60},
        font=_FONT,
        template="plotly_white",
        hoverlabel={"align": "left"},
        legend={"orientation": "h", "y": -0.18},
    )
    return fig


def _thin(band: CurveBand) -> np.ndarray:
    n = len(band.x)
    if n <= MAX_CURVE_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))


def _add_band(fig: go.Figure, band: CurveBand, colour: str, col: int, show_legend: bool, unit: str) -> None:
    idx = _thin(band)
    idx = idx[np.isfinite(band.median[idx])]
    x = band.x[idx]
    name = f"{band.label} (n={band.n_seeds})"
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([band.q_hi[idx], band.q_lo[idx][::-1]]),
            fill="toself",
            fillcolor=colour,
            opacity=0.2,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=band.label,
        ),
        row=1,
        col=col,
    )
    lo, hi = SPREAD
    fig.add_trace(
        go.Scatter(
            x=x,
            y=band.median[idx],
            mode="lines",
            line={"color": colour, "width": 2},
            name=name,
            legendgroup=band.label,
            showlegend=show_legend,
            customdata=np.stack([band.q_lo[idx], band.q_hi[idx]], axis=1),
            hovertemplate=f"{html.escape(band.label)}<br>{unit} %{{x:.4g}}<br>median %{{y:.2f}}"
            f"<br>{lo:.0%}–{hi:.0%}: %{{customdata[0]:.2f}}–%{{customdata[1]:.2f}}<extra></extra>",
        ),
        row=1,
        col=col,
    )


def anytime_figure(panel: AnytimePanel) -> go.Figure:
    cols = 2 if panel.time_bands else 1
    fig = make_subplots(
        rows=1, cols=cols, shared_yaxes=True, subplot_titles=["vs proxy evaluations", "vs wall time"][:cols]
    )
    for i, band in enumerate(panel.eval_bands):
        _add_band(fig, band, _PALETTE[i % len(_PALETTE)], 1, True, "evaluations")
    for i, band in enumerate(panel.time_bands):
        _add_band(fig, band, _PALETTE[i % len(_PALETTE)], 2, False, "seconds")
    fig.update_xaxes(title_text="proxy evaluations", row=1, col=1)
    if any(len(b.x) > 50 for b in panel.eval_bands):
        fig.update_xaxes(type="log", row=1, col=1)
    if cols == 2:
        fig.update_xaxes(title_text="wall time since search start (s)", row=1, col=2)
    fig.update_yaxes(title_text=panel.y_label if len(panel.y_label) < 60 else panel.y_label.split(",")[0], col=1)
    lo, hi = SPREAD
    return _layout(fig, f"{panel.title} ({panel.label}) — median over seeds, band {lo:.0%}–{hi:.0%} quantiles", 440)


def _hover_texts(points: ArchPoints, idx: np.ndarray, proxies: list[str]) -> list[str]:
    v = points.values
    texts = []
    for i in idx:
        lines = [f"<b>{html.escape(points.archs[i])}</b>"]
        if np.isfinite(v["index"][i]):
            lines.append(f"index {int(v['index'][i])}")
        lines += [f"{p} {fmt_number(float(v[p][i]), 4)}" for p in proxies]
        lines.append(f"params {fmt_number(float(v['params'][i]), 0)}, FLOPs {fmt_number(float(v['flops'][i]), 1)} M")
        if np.isfinite(v["truth"][i]):
            lines.append(f"accuracy {fmt_number(float(v['truth'][i]))} %")
        texts.append("<br>".join(lines))
    return texts


def _ci(est) -> str:
    return f"{est.value:.3f}" + (f" [{est.lo:.3f}, {est.hi:.3f}]" if math.isfinite(est.lo) else "")


def scatter_figure(points: ArchPoints) -> go.Figure:
    """Proxy (x) against accuracy (y) per assessed column, with ρ and τ and their intervals."""
    names = list(points.quality)
    proxies = [p for p in points.values if p not in ("truth", "index", "params", "flops")]
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    titles = [
        f"{n}: ρ {_ci(points.quality[n][1]['spearman'])}<br>τ {_ci(points.quality[n][1]['kendall'])}, "
        f"n = {points.quality[n][0]}"
        for n in names
    ]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.18)
    y = points.values["truth"]
    for k, name in enumerate(names):
        x = points.values[name]
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        shown = ok[sample(len(ok), MAX_POINTS)]
        row, col = k // cols + 1, k % cols + 1
        fig.add_trace(
            go.Scatter(
                x=x[shown],
                y=y[shown],
                mode="markers",
                marker={"size": 5, "opacity": 0.5, "color": _PALETTE[k % len(_PALETTE)]},
                name=name,
                text=_hover_texts(points, shown, proxies),
                hovertemplate="%{text}<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=col,
        )
        scale = axis_scale(x[ok])
        # plotly has no symlog: non-negative values over decades go on a log axis, which cannot draw zeros
        log = scale == "log" or (scale == "symlog" and x[ok].min() >= 0)
        zeros = int(np.sum(x[ok] == 0)) if log else 0
        unit = f"{name} value (log axis; {zeros} zero values not drawn)" if zeros else f"{name} value"
        fig.update_xaxes(title_text=unit, type="log" if log else "linear", row=row, col=col)
        fig.update_yaxes(title_text="accuracy (%)", row=row, col=col)
    return _layout(fig, f"Proxy vs accuracy ({points.label}); truth: {points.source}", 330 * rows + 90)


def pareto_figure(points: ArchPoints, cost: str) -> go.Figure | None:
    """Accuracy (or, without truth, the first proxy) against ``cost``, its Pareto front drawn in full."""
    has_truth = np.isfinite(points.values["truth"]).any()
    proxies = [p for p in points.values if p not in ("truth", "index", "params", "flops")]
    target = "truth" if has_truth else (proxies[0] if proxies else None)
    if target is None:
        return None
    x, y = points.values[cost], points.values[target]
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if not len(ok):
        return None
    shown = ok[sample(len(ok), MAX_POINTS)]
    front = pareto_front(x, y)
    y_title = "accuracy (%)" if has_truth else f"{target} value"
    fig = go.Figure()
    for idx, name, marker in (
        (shown, "archs", {"size": 5, "opacity": 0.4, "color": "#7f7f7f"}),
        (front, "Pareto front", {"size": 8, "color": "#d62728"}),
    ):
        fig.add_trace(
            go.Scatter(
                x=x[idx],
                y=y[idx],
                mode="markers" if name == "archs" else "lines+markers",
                marker=marker,
                line={"shape": "hv", "color": "#d62728"} if name != "archs" else None,
                name=name,
                text=_hover_texts(points, idx, proxies),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    unit = "parameters" if cost == "params" else "MFLOPs"
    fig.update_xaxes(title_text=unit, type="log" if axis_scale(x[ok]) == "log" else "linear")
    fig.update_yaxes(title_text=y_title)
    return _layout(fig, f"{y_title} vs {unit} ({points.label}): the front by lower cost, higher value", 420)


def comparison_figure(label: str, metric: str, values: dict, figures: dict) -> go.Figure:
    """Box per algorithm with every seed's search drawn as a point."""
    fig = go.Figure()
    for k, (algo, vals) in enumerate(values.items()):
        fs = figures[algo]
        fig.add_trace(
            go.Box(
                y=vals,
                name=algo,
                boxpoints="all",
                jitter=0.3,
                pointpos=0,
                boxmean=True,
                marker={"color": _PALETTE[k % len(_PALETTE)], "size": 8},
                text=[
                    f"<b>{html.escape(f.label)}</b><br>{html.escape(f.returned_arch or 'no returned arch')}"
                    f"<br>{metric} {fmt_number(v)}"
                    for f, v in zip(fs, vals)
                ],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    unit = " (%)" if metric == "returned_test" else ""
    fig.update_yaxes(title_text=f"{metric}{unit}")
    return _layout(fig, f"{metric} per algorithm over seeds ({label}): box = quartiles, dashed = mean", 420)


def timeline_figure(busy: BusyIntervals) -> go.Figure | None:
    ok = busy.lane >= 0
    if not ok.any():
        return None
    lanes = busy.lanes
    fig = go.Figure()
    if ok.sum() <= MAX_INTERVALS:
        for i, lane in enumerate(lanes):
            sel = np.flatnonzero(busy.lane == i)
            x = np.column_stack([busy.start[sel], busy.end[sel], np.full(len(sel), np.nan)]).ravel()
            what = [f"{html.escape(str(busy.search[j]))}: {html.escape(str(busy.arch[j]))}" for j in sel]
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.repeat(lane, len(x)),
                    mode="lines",
                    line={"width": 12, "color": _PALETTE[i % len(_PALETTE)]},
                    name=lane,
                    text=[t for t in what for _ in range(3)],
                    hovertemplate="%{y}<br>%{text}<br>%{x:.2f} s<extra></extra>",
                    showlegend=False,
                )
            )
        title = (
            f"Workers: what each of the {len(lanes)} scored when (one bar per arch); red × failed, orange ◆ requeued"
        )
    else:
        centres, share = utilisation(busy)
        fig.add_trace(
            go.Heatmap(
                x=centres,
                y=lanes,
                z=share,
                zmin=0,
                zmax=1,
                colorscale="Blues",
                colorbar={"title": "busy share"},
                hovertemplate="%{y}<br>%{x:.1f} s: busy %{z:.0%}<extra></extra>",
            )
        )
        title = f"Workers: busy share per time bin ({int(ok.sum())} archs, too many to draw one by one)"
    for mask, name, colour, symbol in (
        (busy.failed & ok, "failed", "#d62728", "x"),
        (ok & (busy.attempts > 1), "requeued", "#ff7f0e", "diamond"),
    ):
        sel = np.flatnonzero(mask)
        if len(sel):
            fig.add_trace(
                go.Scatter(
                    x=busy.end[sel],
                    y=[lanes[i] for i in busy.lane[sel]],
                    mode="markers",
                    marker={"color": colour, "symbol": symbol, "size": 9},
                    name=name,
                )
            )
    fig.update_xaxes(title_text=f"seconds since the run's first scoring (ends: {busy.clock})")
    return _layout(fig, title, max(260, 40 * len(lanes) + 160))


def throughput_figure(timeline: dict) -> go.Figure | None:
    if not timeline:
        return None
    fig = go.Figure()
    for k, (name, (x, y)) in enumerate(timeline.items()):
        fig.add_trace(
            go.Scatter(x=x, y=y, mode="lines", line={"shape": "hvh", "color": _PALETTE[k % len(_PALETTE)]}, name=name)
        )
    fig.update_xaxes(title_text="seconds since the run's first logged row")
    fig.update_yaxes(title_text="archs scored per second", rangemode="tozero")
    return _layout(fig, f"Throughput per worker ({len(timeline)} workers)", 380)
