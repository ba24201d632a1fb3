"""Driver-side Tune callbacks: trials report rows, the driver writes the Parquet log.

Tune pickles its callbacks with the experiment state and unpickles them on
``Tuner.restore``; a callback therefore holds only the run id and finds the live
writer of this driver process in ``_SINKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ray.tune import Callback

from zeronas.logs import LogWriter


@dataclass
class Sink:
    writer: LogWriter
    on_rows: Callable[[str, list[dict], dict], None] | None = None


_SINKS: dict[str, Sink] = {}


def register_sink(run_id: str, sink: Sink) -> None:
    _SINKS[run_id] = sink


def unregister_sink(run_id: str) -> None:
    _SINKS.pop(run_id, None)


def sink_for(run_id: str) -> Sink:
    return _SINKS[run_id]


class LogCallback(Callback):
    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        sink = sink_for(self.run_id)
        rows = result.get("rows") or []
        if rows:
            sink.writer.extend(rows)
        if sink.on_rows is not None:
            sink.on_rows(trial.trial_id, rows, result)

    # A failed trial is restarted and replays the log: everything it reported must be on disk first.
    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        sink_for(self.run_id).writer.flush()

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        sink_for(self.run_id).writer.flush()

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        sink_for(self.run_id).writer.flush()
