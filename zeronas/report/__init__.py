"""``zeronas report``: one self-contained, interactive HTML page of a run, built on ``zeronas.analysis``."""

from zeronas.report._api import write_report

__all__ = ["write_report"]
