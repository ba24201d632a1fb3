"""The search pipeline on Ray: spec -> driver -> Tune stages (proposal, validation, training) -> results."""

from zeronas.pipeline._driver import ExperimentResult, run_experiment
from zeronas.pipeline._objective import Objective
from zeronas.pipeline._results import EvaluatedArch, collect, top_k
from zeronas.pipeline._run_config import RunConfig
from zeronas.pipeline._score import score_on_ray
from zeronas.pipeline._spec import ExperimentSpec, parse_budget, validate

__all__ = [
    "EvaluatedArch",
    "ExperimentResult",
    "ExperimentSpec",
    "Objective",
    "RunConfig",
    "collect",
    "parse_budget",
    "run_experiment",
    "score_on_ray",
    "top_k",
    "validate",
]
