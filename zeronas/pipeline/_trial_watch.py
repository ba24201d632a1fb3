"""A bound on Tune's wait for search trials it cannot place: Tune itself waits for resources forever."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ray.tune import Callback

from zeronas.errors import ZeronasError


class TrialPlacementWatch(Callback):
    """Fails the run with one line once trials have waited ``seconds`` to be placed while none ran."""

    def __init__(self, seconds: float, hint: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._hint = hint
        self._clock = clock
        self._stalled_since: float | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_stalled_since": None}  # a restored run starts its own clock

    def on_step_begin(self, iteration: int, trials: Sequence[Any], **info: Any) -> None:
        statuses = {t.status for t in trials}
        if "PENDING" not in statuses or "RUNNING" in statuses:
            self._stalled_since = None
            return
        now = self._clock()
        if self._stalled_since is None:
            self._stalled_since = now
        elif now - self._stalled_since > self._seconds:
            raise ZeronasError(
                f"no search trial could start for {self._seconds:.0f} s: each asks Ray for CPU 0.01 and none was "
                f"free (`ray status` shows what holds the CPUs); free or add CPUs, then {self._hint}"
            )
