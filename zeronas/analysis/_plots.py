"""PNG plots of an :class:`AnalysisReport` (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from zeronas._atomic import atomic_write
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


def _x_scale(ax, values: np.ndarray) -> str:
    """Log axis when positive values span more than three decades; symlog for wide mixed signs."""
    v = values[np.isfinite(values)]
    if not len(v):
        return ""
    if v.min() > 0 and v.max() / v.min() > 1e3:
        ax.set_xscale("log")
        return " (log scale)"
    nonzero = np.abs(v[v != 0])
    if v.min() < 0 < v.max() and len(nonzero) and nonzero.max() / nonzero.min() > 1e4:
        ax.set_xscale("symlog", linthresh=float(np.percentile(nonzero, 5)))
        return " (symlog scale)"
    return ""


def _scatter(label: str, source: str, points: dict, out: Path) -> Path:
    n = len(points)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.6 * cols, 3.9 * rows + 0.5), layout="constrained")
    for i, (name, (x, y, rho, tau)) in enumerate(points.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        ok = np.isfinite(x) & np.isfinite(y)
        ax.scatter(x[ok], y[ok], s=5, alpha=0.35, linewidths=0, rasterized=True)
        scale = _x_scale(ax, x[ok])
        ax.set_title(f"{name}: ρ = {rho:.3f}, τ = {tau:.3f} (n = {ok.sum()})", fontsize=10)
        ax.set_xlabel(f"{name} proxy value{scale}")
        ax.set_ylabel("true accuracy (%)")
        ax.grid(alpha=0.3)
    # two lines: a single narrow panel would otherwise cut the title off
    fig.suptitle(f"Proxy vs ground truth, {label}\ntruth: {source}", fontsize=10)
    return _save(fig, out)


def _band(ax, band, x_log: bool = False) -> None:
    ok = np.isfinite(band.mean)
    (line,) = ax.plot(band.x[ok], band.mean[ok], label=f"{band.label} (n={band.n_seeds})", linewidth=1.6)
    ax.fill_between(
        band.x[ok],
        (band.mean - band.std)[ok],
        (band.mean + band.std)[ok],
        color=line.get_color(),
        alpha=0.2,
        linewidth=0,
    )
    if x_log:
        ax.set_xscale("log")


def _anytime(label: str, k: int, eval_bands: list, time_bands: list, out: Path) -> Path:
    panels = 2 if time_bands else 1
    fig = Figure(figsize=(6.2 * panels, 4.4), layout="constrained")
    ax = fig.add_subplot(1, panels, 1)
    for band in eval_bands:
        _band(ax, band, x_log=len(band.x) > 50)
    ax.set_xlabel("proxy evaluations")
    ax.set_ylabel(f"oracle: best true accuracy of top-{k} by score (%)")
    ax.set_title("vs evaluations", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if time_bands:
        ax2 = fig.add_subplot(1, 2, 2, sharey=ax)
        for band in time_bands:
            _band(ax2, band)
        ax2.set_xlabel("wall time since search start (s)")
        ax2.set_title("vs wall time", fontsize=10)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Anytime oracle top-{k} accuracy (not a search result), {label}, mean ± std over seeds", fontsize=11)
    return _save(fig, out)


def _boxes(label: str, metric: str, values: dict[str, list[float]], out: Path) -> Path:
    names = list(values)
    fig = Figure(figsize=(max(4.5, 1.3 * len(names) + 2), 4.2), layout="constrained")
    ax = fig.add_subplot()
    data = [np.array([v for v in values[a] if np.isfinite(v)]) for a in names]
    ax.boxplot(data, tick_labels=names, showmeans=True)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.08, 0.08, len(d)), d, s=14, color="k", alpha=0.6, zorder=3)
    unit = " (%)" if metric.endswith("_acc") else ""
    ax.set_ylabel(f"final {metric}{unit}")
    ax.set_xlabel("algorithm  (box = quartiles, line = median, ▲ = mean, dots = seeds)", fontsize=9)
    ax.set_title(f"Final {metric} per algorithm over seeds, {label}", fontsize=10)
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
    for label, source, points in data.get("scatter", []):
        if points:
            written.append(_scatter(label, source, points, directory / f"proxy_vs_accuracy_{_slug(label)}.png"))
    for label, k, eval_bands, time_bands in data.get("anytime", []):
        if eval_bands:
            written.append(_anytime(label, k, eval_bands, time_bands, directory / f"anytime_{_slug(label)}.png"))
    for label, metric, values in data.get("final", []):
        if any(len(v) for v in values.values()):
            written.append(_boxes(label, metric, values, directory / f"final_{_slug(label)}.png"))
    if data.get("throughput"):
        written.append(_throughput(data["throughput"], directory / "throughput.png"))
    return written
