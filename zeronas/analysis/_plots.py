"""PNG plots of an :class:`AnalysisReport` (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from zeronas._atomic import atomic_write
from zeronas.analysis._anytime import SPREAD, AnytimePanel
from zeronas.analysis._quality import ArchPoints
from zeronas.analysis._report import AnalysisReport
from zeronas.errors import ZeronasError

_DPI = 120
_MAX_LEGEND = 12


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png", dpi=_DPI)
    return path


def axis_scale(values: np.ndarray) -> str:
    """``log`` when positive values span more than three decades; ``symlog`` for wide mixed signs."""
    v = values[np.isfinite(values)]
    if not len(v):
        return "linear"
    if v.min() > 0 and v.max() / v.min() > 1e3:
        return "log"
    nonzero = np.abs(v[v != 0])
    if v.min() <= 0 < v.max() and len(nonzero) and nonzero.max() / nonzero.min() > 1e4:
        return "symlog"  # zeros (synflow of a disconnected cell) or mixed signs over decades
    return "linear"


def _x_scale(ax, values: np.ndarray) -> str:
    scale = axis_scale(values)
    if scale == "log":
        ax.set_xscale("log")
    elif scale == "symlog":
        nonzero = np.abs(values[np.isfinite(values) & (values != 0)])
        ax.set_xscale("symlog", linthresh=float(np.percentile(nonzero, 5)))
    return "" if scale == "linear" else f" ({scale} scale)"


def _scatter(points: ArchPoints, out: Path) -> Path:
    n = len(points.quality)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.6 * cols, 3.9 * rows + 0.5), layout="constrained")
    y = points.values["truth"]
    for i, (name, (n_ok, est)) in enumerate(points.quality.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        x = points.values[name]
        ok = np.isfinite(x) & np.isfinite(y)
        ax.scatter(x[ok], y[ok], s=5, alpha=0.35, linewidths=0, rasterized=True)
        scale = _x_scale(ax, x[ok])
        ax.set_title(
            f"{name}: ρ = {est['spearman'].value:.3f}, τ = {est['kendall'].value:.3f} (n = {n_ok})", fontsize=10
        )
        ax.set_xlabel(f"{name} proxy value{scale}")
        ax.set_ylabel("true accuracy (%)")
        ax.grid(alpha=0.3)
    # two lines: a single narrow panel would otherwise cut the title off
    fig.suptitle(f"Proxy vs ground truth, {points.label}\ntruth: {points.source}", fontsize=10)
    return _save(fig, out)


def _band(ax, band, x_log: bool = False) -> None:
    ok = np.isfinite(band.median)
    (line,) = ax.plot(band.x[ok], band.median[ok], label=f"{band.label} (n={band.n_seeds})", linewidth=1.6)
    ax.fill_between(band.x[ok], band.q_lo[ok], band.q_hi[ok], color=line.get_color(), alpha=0.2, linewidth=0)
    if x_log:
        ax.set_xscale("log")


def _anytime(panel: AnytimePanel, out: Path) -> Path:
    panels = 2 if panel.time_bands else 1
    fig = Figure(figsize=(6.2 * panels, 4.6), layout="constrained")
    ax = fig.add_subplot(1, panels, 1)
    for band in panel.eval_bands:
        _band(ax, band, x_log=len(band.x) > 50)
    ax.set_xlabel("proxy evaluations")
    ax.set_ylabel(textwrap.fill(panel.y_label, 45), fontsize=9)
    ax.set_title("vs evaluations", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if panel.time_bands:
        ax2 = fig.add_subplot(1, 2, 2, sharey=ax)
        for band in panel.time_bands:
            _band(ax2, band)
        ax2.set_xlabel("wall time since search start (s)")
        ax2.set_title("vs wall time", fontsize=10)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8, loc="lower right")
    lo, hi = SPREAD
    fig.suptitle(
        textwrap.fill(f"{panel.title}, {panel.label}", 90)
        + f"\nline: median over seeds; band: {lo:.0%}–{hi:.0%} quantiles",
        fontsize=10,
    )
    return _save(fig, out)


def _boxes(label: str, metric: str, values: dict[str, list[float]], out: Path) -> Path:
    names = list(values)
    # wide enough for the two-line title and the key below the axis, whatever the number of boxes
    fig = Figure(figsize=(max(6.0, 1.3 * len(names) + 2), 4.6), layout="constrained")
    ax = fig.add_subplot()
    data = [np.array([v for v in values[a] if np.isfinite(v)]) for a in names]
    ax.boxplot(data, tick_labels=names, showmeans=True)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.08, 0.08, len(d)), d, s=14, color="k", alpha=0.6, zorder=3)
    unit = " (%)" if metric.endswith("_acc") or metric == "returned_test" else ""
    ax.set_ylabel(f"{metric}{unit}")
    ax.set_xlabel("algorithm\nbox = quartiles, line = median, ▲ = mean, dots = seeds", fontsize=9)
    ax.set_title(f"{metric} per algorithm over seeds\n{label}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out)


def _throughput(timeline: dict[str, tuple[np.ndarray, np.ndarray]], out: Path) -> Path:
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    many = len(timeline) > _MAX_LEGEND
    for name, (x, y) in timeline.items():
        ax.plot(
            x,
            y,
            drawstyle="steps-mid",
            linewidth=1.0 if many else 1.4,
            alpha=0.5 if many else 0.9,
            label=None if many else name,
        )
    if many:
        total_x = next(iter(timeline.values()))[0]
        if all(len(x) == len(total_x) for x, _ in timeline.values()):
            ax.plot(
                total_x,
                np.sum([y for _, y in timeline.values()], axis=0) / len(timeline),
                "k",
                linewidth=2,
                label="mean per worker",
            )
    ax.set_xlabel("time since the run's first logged row (s)")
    ax.set_ylabel("archs scored per second")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Throughput per worker ({len(timeline)} workers)", fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, ncols=2 if len(timeline) > 6 else 1)
    return _save(fig, out)


def write_plots(report: AnalysisReport, directory: str | Path) -> list[Path]:
    """Write every plot the report has data for; returns the PNG paths."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ZeronasError(f"cannot create the plot directory {directory}: {err.strerror}") from err
    data = report.plot_data
    written = []
    for points in data.get("scatter", []):
        if points.quality:
            written.append(_scatter(points, directory / f"proxy_vs_accuracy_{_slug(points.label)}.png"))
    # the returned arch's curve first: file names sort it before the oracle's
    for panel in data.get("anytime", []):
        if panel.eval_bands:
            name = "anytime" if panel.what == "returned" else f"anytime_{panel.what}"
            written.append(_anytime(panel, directory / f"{name}_{_slug(panel.label)}.png"))
    for label, metric, values, _ in data.get("final", []):
        if any(len(v) for v in values.values()):
            written.append(_boxes(label, metric, values, directory / f"final_{_slug(label)}.png"))
    if data.get("throughput"):
        written.append(_throughput(data["throughput"], directory / "throughput.png"))
    return written
