"""What Tune gives a trial function, for running one in the test process: no GPU, the checkpoint to restore
from, and a ``tune.report`` that keeps every report and the last checkpoint, and can kill the trial."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path


class Killed(Exception):
    """The trial died (Tune would restart it from its last reported checkpoint)."""


class TuneStandIn:
    """Stands in for ``ray.get_gpu_ids`` (no GPU), ``tune.get_checkpoint`` (``restore``) and ``tune.report``
    (kept in ``reports``, the last checkpoint folder copied to ``saved``; the first report ``kill_when`` accepts
    raises :class:`Killed` after its checkpoint is kept, as a trial killed right after reporting)."""

    def __init__(self, saved: Path) -> None:
        self.saved = saved
        self.reports: list[dict] = []
        self.restore = None
        self.kill_when: Callable[[dict], bool] | None = None

    def report(self, metrics: dict, checkpoint=None) -> None:
        self.reports.append(metrics)
        if checkpoint is None:
            return
        shutil.rmtree(self.saved, ignore_errors=True)
        shutil.copytree(Path(checkpoint.path), self.saved)
        if self.kill_when is not None and self.kill_when(metrics):
            self.kill_when = None
            raise Killed
