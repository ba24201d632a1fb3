"""Plain progress lines for output that is not a terminal (``ray job`` logs, ``nohup``, CI).

A live bar there is either silent until the end (rich) or one endless line of carriage
returns (tqdm); a line every ``ZERONAS_PROGRESS_SECONDS`` (default 30) reads well in a log.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")

DEFAULT_SECONDS = 30.0


def interval_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("ZERONAS_PROGRESS_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


class PeriodicLines:
    """Writes a line at most every ``interval`` seconds."""

    def __init__(self, stream: IO[str] | None = None, interval: float | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval_seconds() if interval is None else interval
        self.start = time.monotonic()
        self._last = self.start

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.interval

    def write(self, text: str) -> None:
        self._last = time.monotonic()
        print(text, file=self.stream, flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def count_lines(items: Iterable[T], total: int, what: str, stream: IO[str] | None = None) -> Iterator[T]:
    """Yield ``items``, writing ``what: done/total (share), rate, ETA`` lines as they go."""
    lines = PeriodicLines(stream)
    done = 0
    for item in items:
        done += 1
        yield item
        if lines.due() and done < total:
            rate = done / max(lines.elapsed(), 1e-9)
            eta = (total - done) / rate if rate > 0 else float("inf")
            lines.write(f"{what}: {done:,}/{total:,} ({100 * done / total:.0f}%), {rate:.1f}/s, {_duration(eta)} left")
    lines.write(f"{what}: {done:,}/{total:,} in {_duration(lines.elapsed())}")


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
