"""Training recipes per search space: the schedule each benchmark trained its networks with.

* ``nats`` (TSS, SSS): NATS-Bench's — SGD, Nesterov momentum 0.9, weight decay 5e-4, batch 256,
  learning rate 0.1, random crop and flip.
* ``darts``: DARTS' ``cnn/train.py`` — SGD, momentum 0.9, weight decay 3e-4, batch 96, learning rate
  0.025, gradient norm clipped at 5, random crop and flip plus cutout 16, auxiliary head weighted
  0.4, drop-path probability rising linearly from 0 to 0.2 over the epochs, on the evaluation
  network (36 initial channels, 20 cells; ``channels``/``layers`` pick another size).

Both decay the learning rate to 0 on a cosine over all steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from zeronas.errors import ZeronasError

__all__ = ["Recipe", "recipe_for", "check_network_size"]


@dataclass(frozen=True)
class Recipe:
    name: str
    batch_size: int
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    #: side of the cutout square (0: none)
    cutout: int = 0
    #: loss weight of the auxiliary head (0: no head)
    auxiliary_weight: float = 0.0
    #: drop-path probability reached at the last epoch
    drop_path: float = 0.0
    grad_clip: float | None = None
    #: network size (None: the space's network has no size option)
    channels: int | None = None
    layers: int | None = None

    @property
    def sized(self) -> bool:
        return self.channels is not None


NATS = Recipe("nats", batch_size=256, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
DARTS = Recipe(
    "darts",
    batch_size=96,
    lr=0.025,
    momentum=0.9,
    nesterov=False,
    weight_decay=3e-4,
    cutout=16,
    auxiliary_weight=0.4,
    drop_path=0.2,
    grad_clip=5.0,
    channels=36,
    layers=20,
)
_BY_SPACE = {"darts": DARTS}


def recipe_for(space: str) -> Recipe:
    """The recipe of a space (NATS-Bench's for every space but DARTS)."""
    return _BY_SPACE.get(space, NATS)


def check_network_size(space: str, channels: int | None, layers: int | None) -> None:
    """ZeronasError unless the space's training network takes this size."""
    if not recipe_for(space).sized:
        raise ZeronasError(f"--train-channels/--train-layers set the DARTS network size; the {space} space has none")
    for flag, value, minimum in (("--train-channels", channels, 2), ("--train-layers", layers, 3)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            raise ZeronasError(f"{flag} must be an integer >= {minimum}, got {value!r}")
    if channels is not None and channels % 2:
        raise ZeronasError(f"--train-channels must be even (DARTS halves it in FactorizedReduce), got {channels}")
