"""Offline analysis of zeronas Parquet logs (``zeronas analyze``)."""

from zeronas.analysis._api import analyze
from zeronas.analysis._export import export_joined
from zeronas.analysis._plots import write_plots
from zeronas.analysis._report import FORMATS, AnalysisReport, ReportTable, html_table, render

__all__ = [
    "analyze", "AnalysisReport", "ReportTable", "render", "html_table", "FORMATS", "write_plots", "export_joined",
]  # fmt: skip
