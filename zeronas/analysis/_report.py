"""The report model (tables with notes) and its renderings: rich, csv, json, markdown.

Tables keep raw numbers, so csv/json stay machine-readable. The human formats fold
``<c>_lo``/``<c>_hi`` columns into ``c [lo, hi]`` and ``<c>_std`` into ``c ± std``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReportTable", "AnalysisReport", "render", "html_table", "FORMATS"]

FORMATS = ("table", "csv", "json", "markdown")


@dataclass
class ReportTable:
    """One titled table of a report section; ``notes`` explain gaps and caveats."""

    section: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def find(self, **match: Any) -> dict[str, Any]:
        """The one record whose columns equal ``match`` (for tests and notebooks)."""
        hits = [r for r in self.records() if all(r.get(k) == v for k, v in match.items())]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} rows of {self.title!r} match {match}")
        return hits[0]


@dataclass
class AnalysisReport:
    tables: list[ReportTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: data behind the plots (per-arch points, curves, worker timelines)
    plot_data: dict[str, Any] = field(default_factory=dict)
    #: builds the joined per-architecture table on first use (only ``--export`` needs it)
    joined_factory: Any = field(default=None, repr=False)
    _joined: Any = field(default=None, repr=False)

    @property
    def joined(self):
        """The joined per-architecture pyarrow table (what ``--export`` writes)."""
        if self._joined is None and self.joined_factory is not None:
            self._joined = self.joined_factory()
        return self._joined

    def section(self, section: str) -> list[ReportTable]:
        return [t for t in self.tables if t.section == section]

    def table(self, title_prefix: str) -> ReportTable:
        hits = [t for t in self.tables if t.title.startswith(title_prefix)]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} tables start with {title_prefix!r}: {[t.title for t in self.tables]}")
        return hits[0]


# -- cell formatting ----------------------------------------------------------------
def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: Any) -> str:
    if _is_missing(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1e5 or abs(value) < 1e-3:
            return f"{value:.3g}"
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _fmt_like(value: float, reference: str) -> str:
    """``value`` with as many decimals as ``reference`` shows (so ``93.43 ± 0.36``)."""
    if "." not in reference or "e" in reference:
        return _fmt(value)
    return f"{value:.{len(reference.split('.')[1])}f}"


def _human_columns(table: ReportTable) -> tuple[list[str], list[list[str]]]:
    """Fold ``x_lo/x_hi`` and ``x_std`` helper columns into their main column."""
    cols = table.columns
    folded = {c for c in cols for suffix in ("_lo", "_hi", "_std") if c.endswith(suffix) and c[: -len(suffix)] in cols}
    headers = [c for c in cols if c not in folded]
    out_rows = []
    for row in table.rows:
        rec = dict(zip(cols, row))
        cells = []
        for c in headers:
            text = _fmt(rec[c])
            if not _is_missing(rec[c]):
                if f"{c}_std" in folded and not _is_missing(rec[f"{c}_std"]):
                    text += f" ± {_fmt_like(rec[c + '_std'], text)}"
                if f"{c}_lo" in folded and not _is_missing(rec[f"{c}_lo"]):
                    text += f" [{_fmt(rec[c + '_lo'])}, {_fmt(rec[c + '_hi'])}]"
            cells.append(text)
        out_rows.append(cells)
    return headers, out_rows


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return value


# -- renderers ---------------------------------------------------------------------------
def html_table(table: ReportTable) -> str:
    """One table as an HTML ``<table>`` (human cells, as in markdown) followed by its notes."""
    headers, rows = _human_columns(table)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table.notes)
    return (
        f'<div class="table"><h4>{html.escape(table.title)}</h4>'
        + (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" if rows else "")
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</div>"
    )


def _render_json(report: AnalysisReport) -> str:
    doc = {
        "notes": report.notes,
        "tables": [
            {
                "section": t.section,
                "title": t.title,
                "columns": t.columns,
                "rows": [[_json_value(v) for v in row] for row in t.rows],
                "notes": t.notes,
            }
            for t in report.tables
        ],
    }
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def _render_csv(report: AnalysisReport) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for note in report.notes:
        buf.write(f"# {note}\n")
    for t in report.tables:
        buf.write(f"# {t.section}: {t.title}\n")
        for note in t.notes:
            buf.write(f"# note: {note}\n")
        writer.writerow(t.columns)
        for row in t.rows:
            writer.writerow(["" if _is_missing(v) else _json_value(v) for v in row])
        buf.write("\n")
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _render_markdown(report: AnalysisReport) -> str:
    lines: list[str] = []
    for note in report.notes:
        lines.append(f"> {note}")
    if report.notes:
        lines.append("")
    for t in report.tables:
        headers, rows = _human_columns(t)
        lines.append(f"### {t.title}")
        lines.append("")
        if headers and rows:
            lines.append("| " + " | ".join(_md_escape(h) for h in headers) + " |")
            lines.append("|" + "|".join(" --- " for _ in headers) + "|")
            lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
            lines.append("")
        for note in t.notes:
            lines.append(f"*{note}*")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _render_rich(report: AnalysisReport, width: int | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=width or 160, force_terminal=False, color_system=None)
    for note in report.notes:
        console.print(note, markup=False)
    for t in report.tables:
        headers, rows = _human_columns(t)
        if headers and rows:
            rt = Table(title=t.title, title_justify="left", show_lines=False)
            for h in headers:
                rt.add_column(h, overflow="fold")
            for row in rows:
                rt.add_row(*row)
            console.print(rt)
        else:
            console.print(t.title, markup=False)
        for note in t.notes:
            console.print(f"  note: {note}", markup=False)
        console.print()
    return console.file.getvalue()


def render(report: AnalysisReport, fmt: str = "table", *, width: int | None = None) -> str:
    """The report as text in one of ``FORMATS``."""
    if fmt == "json":
        return _render_json(report)
    if fmt == "csv":
        return _render_csv(report)
    if fmt == "markdown":
        return _render_markdown(report)
    if fmt == "table":
        return _render_rich(report, width)
    raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
