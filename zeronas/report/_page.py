"""The report page: one self-contained HTML file (Plotly's JavaScript inlined), sections built from an
:class:`~zeronas.analysis.AnalysisReport` and the runs' ``_run.json``."""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from zeronas.analysis import AnalysisReport, html_table
from zeronas.analysis._truth import NO_TRUTH
from zeronas.report import _figures

#: (id, heading) of every section, in page order
SECTIONS = [
    ("run", "The run"),
    ("returned", "What each search returned"),
    ("anytime", "Anytime curves"),
    ("proxies", "Proxies vs accuracy"),
    ("comparison", "Algorithm comparison"),
    ("workers", "Workers"),
    ("failures", "Failures"),
]
#: failed archs listed per reason (the count is always complete)
MAX_LISTED_FAILURES = 50
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #223; color: #eee; padding: 12px 24px; }
header h1 { margin: 0; font-size: 20px; }
nav { position: sticky; top: 0; background: #f4f4f8; padding: 6px 24px; border-bottom: 1px solid #ccd; z-index: 10; }
nav a { margin-right: 16px; color: #225; text-decoration: none; font-size: 14px; }
main { padding: 0 24px 48px; max-width: 1400px; }
section { border-bottom: 1px solid #ddd; padding-bottom: 16px; }
h2 { margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid #ccd; padding: 3px 8px; text-align: right; }
th { background: #eef; }
td:first-child, th:first-child { text-align: left; }
td.arch, .arch { font-family: ui-monospace, monospace; font-size: 12px; text-align: left; }
ul.notes { font-size: 12px; color: #555; margin: 2px 0 12px; }
p.empty { background: #fff6e0; border-left: 4px solid #e0a000; padding: 6px 10px; }
p.protocol { font-size: 13px; color: #444; }
details summary { cursor: pointer; }
pre { font-size: 12px; background: #f7f7f7; padding: 8px; overflow-x: auto; }
"""


@dataclass
class Page:
    """Sections filled in page order; charts are Plotly figures rendered at the end."""

    parts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    n_charts: int = 0

    def add(self, section: str, text: str) -> None:
        self.parts[section].append(text)

    def chart(self, section: str, fig: go.Figure | None) -> None:
        if fig is None:
            return
        self.n_charts += 1
        self.parts[section].append(
            f'<div class="chart" data-section="{section}">'
            + fig.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"chart-{self.n_charts}", config=_PLOTLY_CONFIG
            )
            + "</div>"
        )

    def empty(self, section: str, why: str) -> None:
        self.parts[section].append(f'<p class="empty">{html.escape(why)}</p>')


def _e(value) -> str:
    return html.escape(str(value))


def _kv_table(rows: list[tuple[str, object]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td class='arch'>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _run_section(page: Page, configs: dict[str, dict], report: AnalysisReport) -> None:
    if not configs:
        page.empty("run", "no _run.json next to the log files: the run's configuration is unknown")
    for run_id, info in configs.items():
        config = info.get("config", {})
        spec, run = config.get("spec", {}), config.get("run", {})
        protocol = run.get("proxy_protocol", {})
        versions = config.get("versions") or {}
        rows = [
            ("run", run_id),
            ("command", config.get("command", "not recorded (a log written before zeronas recorded it)")),
            ("created", info.get("created", "?")),
            ("resumed", ", ".join(info.get("resumed", [])) or "never"),
            ("space / dataset", f"{run.get('space', spec.get('space', '?'))} / {run.get('dataset', '?')}"),
            ("objective", run.get("objective_spec", spec.get("proxy", "?"))),
            ("proxies logged", ", ".join(info.get("proxies", []))),
            ("algorithms", ", ".join(spec.get("algos", []) or [str(spec.get("algo", "?"))])),
            ("seeds", ", ".join(str(s) for s in spec.get("seeds", [])) or "?"),
            ("budget per search", spec.get("budget", "?")),
            ("top-k validated", run.get("top_k", spec.get("top_k", "?"))),
            ("validation signal", run.get("accuracy_source", "?")),
            ("test column (read once)", run.get("test_source", "?")),
            ("proxy protocol", json.dumps({k: v for k, v in protocol.items() if k != "seeds"}, default=str)),
            ("device", spec.get("device", "?")),
            ("workers", spec.get("workers", "auto") if spec.get("workers") is not None else "auto"),
            (
                "versions",
                ", ".join(f"{k} {v}" for k, v in versions.items())
                or "not recorded (a log written before zeronas recorded them)",
            ),
        ]
        page.add("run", _kv_table(rows))
        page.add(
            "run",
            "<details><summary>full _run.json</summary><pre>"
            + _e(json.dumps(info, indent=2, sort_keys=True, default=str))
            + "</pre></details>",
        )
    figures = report.plot_data.get("searches", [])
    walls = [f.wall_s for f in figures if math.isfinite(f.wall_s)]
    done = sum(f.returned_arch is not None for f in figures)
    page.add(
        "run",
        _kv_table(
            [
                ("wall time (longest search)", f"{max(walls):.1f} s" if walls else "unknown"),
                ("searches in the log", len(figures)),
                (
                    "searches that returned an arch",
                    f"{done} of {len(figures)}"
                    + ("" if done == len(figures) else " (still running, or stopped early)"),
                ),
                ("report read the log at", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
            ]
        ),  # fmt: skip
    )
    for note in report.notes:
        page.add("run", f'<p class="protocol">{_e(note)}</p>')
    page.add("run", html_table(report.table("Overview")))


def _returned_section(page: Page, report: AnalysisReport) -> None:
    figures = report.plot_data.get("searches", [])
    rows = [
        "<tr>"
        + f"<td>{_e(f.label)}</td><td>{_e(f.algorithm)}</td><td>{_e(f.seed)}</td>"
        + f"<td class='arch'>{_e(f.returned_arch or '–')}</td>"
        + f"<td>{_figures.fmt_number(f.returned_valid)}</td><td>{_figures.fmt_number(f.returned_test)}</td>"
        + f"<td>{f.n_lookups}</td><td>{f.n_evals}</td><td>{_figures.fmt_number(f.train_device_s)}</td></tr>"
        for f in figures
    ]
    page.add(
        "returned",
        "<table><thead><tr><th>search</th><th>algorithm</th><th>seed</th><th>returned arch</th>"
        "<th>validation acc (%)</th><th>test acc (%), read once</th><th>lookups</th><th>proxy evals</th>"
        "<th>supernet training (device s)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>",
    )
    if not any(f.returned_arch for f in figures):
        page.empty(
            "returned", "no search has returned an arch yet (no test rows: still running, or run without --benchmark)"
        )
    for table in report.section("comparison"):
        if table.title.startswith("Algorithms under"):
            page.add("returned", html_table(table))
    best = [t for t in report.table("Overview").rows if str(t[0]).startswith("best known accuracy")]
    for name, value in best:
        page.add(
            "returned",
            f'<p class="protocol">{_e(name)} (the space\'s best, for reference): {_figures.fmt_number(value)} %</p>',
        )


def _anytime_section(page: Page, report: AnalysisReport) -> None:
    panels = report.plot_data.get("anytime", [])
    for panel in panels:
        page.chart("anytime", _figures.anytime_figure(panel))
    if not panels:
        reasons = [n for t in report.section("anytime") for n in t.notes]
        page.empty("anytime", "no anytime curve: " + ("; ".join(dict.fromkeys(reasons)) or NO_TRUTH))
    page.add(
        "anytime",
        '<p class="protocol">Curves are drawn at up to '
        f"{_figures.MAX_CURVE_POINTS} evenly spaced evaluations (exact values there); tables hold checkpoints.</p>",
    )
    for table in report.section("anytime"):
        page.add("anytime", html_table(table))


def _proxies_section(page: Page, report: AnalysisReport) -> None:
    groups = report.plot_data.get("scatter", [])
    for points in groups:
        n = len(points.archs)
        if points.quality:
            page.chart("proxies", _figures.scatter_figure(points))
        else:
            page.empty("proxies", f"proxy vs accuracy ({points.label}): {NO_TRUTH}")
        for cost in ("params", "flops"):
            page.chart("proxies", _figures.pareto_figure(points, cost))
        if n > _figures.MAX_POINTS:
            page.add(
                "proxies",
                f'<p class="protocol">{points.label}: each chart draws {_figures.MAX_POINTS} of the {n} distinct archs '
                "(uniform random sample, seed 0) so the page stays responsive; ρ, τ, intervals and the Pareto "
                "front use every arch.</p>",
            )
    for table in report.section("proxy quality"):
        page.add("proxies", html_table(table))


def _comparison_section(page: Page, report: AnalysisReport) -> None:
    for label, metric, values, figures in report.plot_data.get("final", []):
        if any(np.isfinite(v) for vs in values.values() for v in vs):
            page.chart("comparison", _figures.comparison_figure(label, metric, values, figures))
        else:
            page.empty("comparison", f"{label}: no {metric} values to compare")
    for table in report.section("comparison"):
        if not table.title.startswith("Algorithms under"):
            page.add("comparison", html_table(table))


def _workers_section(page: Page, report: AnalysisReport) -> None:
    busy = report.plot_data.get("busy")
    fig = _figures.timeline_figure(busy) if busy is not None else None
    if fig is None:
        page.empty("workers", "the log has no worker_id values: no timeline")
    page.chart("workers", fig)
    page.chart("workers", _figures.throughput_figure(report.plot_data.get("throughput", {})))
    if busy is not None and not np.isfinite(busy.attempts).any():
        page.add("workers", '<p class="protocol">requeues: this log predates the attempts column</p>')
    for table in report.section("workers"):
        if table.title != "Errors by reason":
            page.add("workers", html_table(table))


def _failures_section(page: Page, report: AnalysisReport) -> None:
    page.add("failures", html_table(report.table("Errors by reason")))
    failures = report.plot_data.get("failures", {})
    if not failures:
        page.empty("failures", "no null proxy value: every arch was scored by every proxy")
    for reason, where in failures.items():
        listed = "".join(
            f"<tr><td>{_e(s)}</td><td class='arch'>{_e(a)}</td></tr>" for s, a in where[:MAX_LISTED_FAILURES]
        )
        more = f"<p>and {len(where) - MAX_LISTED_FAILURES} more</p>" if len(where) > MAX_LISTED_FAILURES else ""
        page.add(
            "failures",
            f"<details><summary>{_e(reason)}: {len(where)} arch(s)</summary>"
            f"<table><tr><th>search</th><th>arch</th></tr>{listed}</table>{more}</details>",
        )


def render_page(report: AnalysisReport, configs: dict[str, dict], title: str) -> str:
    """The whole HTML document."""
    page = Page()
    _run_section(page, configs, report)
    _returned_section(page, report)
    _anytime_section(page, report)
    _proxies_section(page, report)
    _comparison_section(page, report)
    _workers_section(page, report)
    _failures_section(page, report)
    nav = "".join(f'<a href="#{sid}">{_e(heading)}</a>' for sid, heading in SECTIONS)
    body = "".join(
        f'<section id="{sid}"><h2>{_e(heading)}</h2>{"".join(page.parts[sid])}</section>' for sid, heading in SECTIONS
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_CSS}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<header><h1>{_e(title)}</h1></header><nav>{nav}</nav><main>{body}</main></body></html>\n"
    )


def read_configs(run_dirs: list[Path]) -> dict[str, dict]:
    """``_run.json`` of each run directory that has one."""
    from zeronas.logs import RUN_CONFIG_NAME, read_run_config

    return {d.name.split("=", 1)[-1]: read_run_config(d) for d in run_dirs if (d / RUN_CONFIG_NAME).is_file()}
