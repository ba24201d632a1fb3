"""Searches that train a weight-sharing supernet (RARTS and its first-order baselines).

The pieces every such search shares live here, beside ``search_algos`` and below ``pipeline``: the relaxed
update (``_relaxed``), α-weighted supernets and derivation (``_supernet``), and the CIFAR training loop with
its checkpoints (``_train``). The pipeline runs :func:`train_supernet` as a Tune trial.
"""

from zeronas.weight_sharing._relaxed import RelaxedMethod, RelaxedSearch, RelaxedSettings
from zeronas.weight_sharing._supernet import AlphaMixedOp, RelaxedSupernet, alpha_shapes, build_supernet, derive
from zeronas.weight_sharing._toy import ToyResult, solve_toy
from zeronas.weight_sharing._train import (
    CHECKPOINT_FILE,
    EpochReport,
    SupernetRecipe,
    SupernetResult,
    checkpoint_epoch,
    paper_recipe,
    train_supernet,
)

__all__ = [
    "CHECKPOINT_FILE",
    "AlphaMixedOp",
    "EpochReport",
    "RelaxedMethod",
    "RelaxedSearch",
    "RelaxedSettings",
    "RelaxedSupernet",
    "SupernetRecipe",
    "SupernetResult",
    "ToyResult",
    "alpha_shapes",
    "build_supernet",
    "checkpoint_epoch",
    "derive",
    "paper_recipe",
    "solve_toy",
    "train_supernet",
]
