"""The search pipeline on Ray: scorer actors, Tune-run stages, Parquet log."""

from zeronas.pipeline._experiment import ExperimentResult, ExperimentSpec, parse_budget, run_experiment, validate
from zeronas.pipeline._objective import Objective
from zeronas.pipeline._score import score_on_ray

__all__ = [
    "ExperimentResult",
    "ExperimentSpec",
    "Objective",
    "parse_budget",
    "run_experiment",
    "score_on_ray",
    "validate",
]
