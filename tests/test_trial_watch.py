"""The bound on Tune's wait for search trials it cannot place."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import pytest

from zeronas.errors import ZeronasError
from zeronas.pipeline._trial_watch import TrialPlacementWatch


def _trials(*statuses: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(status=s) for s in statuses]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_trials_that_wait_past_the_bound_with_none_running_fail_the_run_with_one_line():
    clock = Clock()
    watch = TrialPlacementWatch(60, "continue with `zeronas search --out runs --resume R`", clock=clock)
    watch.on_step_begin(0, _trials("PENDING", "PENDING"))
    clock.now = 59
    watch.on_step_begin(1, _trials("PENDING", "PENDING"))  # within the bound
    clock.now = 61
    with pytest.raises(ZeronasError, match=r"no search trial could start for 60 s: .* --resume R") as err:
        watch.on_step_begin(2, _trials("PENDING", "PENDING"))
    assert "\n" not in str(err.value)


def test_a_running_or_finished_run_is_never_stopped_and_the_clock_restarts():
    clock = Clock()
    watch = TrialPlacementWatch(60, "hint", clock=clock)
    watch.on_step_begin(0, _trials("PENDING", "PENDING"))
    clock.now = 50
    watch.on_step_begin(1, _trials("RUNNING", "PENDING"))  # one placed: the others wait their turn
    clock.now = 100
    watch.on_step_begin(2, _trials("TERMINATED", "PENDING"))  # the clock starts again here
    clock.now = 150
    watch.on_step_begin(3, _trials("TERMINATED", "PENDING"))
    clock.now = 1000
    watch.on_step_begin(4, _trials("TERMINATED", "TERMINATED"))  # nothing waits
    # a restored run (Tune pickles its callbacks) starts its own clock
    watch.on_step_begin(5, _trials("PENDING"))
    restored = pickle.loads(pickle.dumps(watch))
    restored._clock = clock
    clock.now = 1050
    restored.on_step_begin(0, _trials("PENDING"))
    clock.now = 1100
    restored.on_step_begin(1, _trials("PENDING"))
    clock.now = 1111
    with pytest.raises(ZeronasError):
        restored.on_step_begin(2, _trials("PENDING"))
