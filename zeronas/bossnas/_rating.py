"""Rating without labels (BossNAS Section 3.3), read from the checkpoint.

``train_supernet`` ends by rating every path of every block against the block's ensemble target on fixed
view pairs of held-out images (``rate_block``) and stores the distances in the checkpoint. An architecture's
distance is the sum of its three blocks' distances (smaller is better): a lookup, with no network to run, so
every scorer, on any device, gives the same value for the same checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from zeronas.bossnas._checkpoint import read_checkpoint
from zeronas.bossnas._supernet import NUM_BLOCKS, block_keys, block_population
from zeronas.errors import ZeronasError


class SupernetRating:
    """The BossNAS rating of SSS architectures from a trained checkpoint (``distance``: smaller is better)."""

    def __init__(self, checkpoint: str | Path) -> None:
        self.path = Path(checkpoint).expanduser().resolve()
        state = read_checkpoint(self.path)
        ratings = state.get("ratings", {})
        if not state.get("done") or len(ratings) < NUM_BLOCKS:
            where = (
                f"stopped at block {state['block']}, epoch {state['epoch']}"
                if not state.get("done")
                else f"trained but not rated (blocks rated: {len(ratings)} of {NUM_BLOCKS})"
            )
            raise ZeronasError(
                f"{self.path} is a BossNAS checkpoint {where}; finish it with "
                "'zeronas supernet train --method bossnas --resume'"
            )
        self.space, self.dataset = state["space"], state["dataset"]
        #: what training and rating cost, on which devices (GPU-seconds on a GPU)
        self.device_seconds, self.devices = state["device_seconds"], list(state["devices"])
        self._distances = {
            (block, key): float(d)
            for block in range(NUM_BLOCKS)
            for key, d in zip(block_population(block), ratings[block].tolist(), strict=True)
        }

    def check(self, space: str, dataset: str) -> None:
        """One line when this checkpoint was trained for another space or data set."""
        if space != self.space:
            raise ZeronasError(
                f"{self.path} is a BossNAS supernet of the {self.space} space, not {space}; BossNAS rates sss "
                "architectures only: pass --space sss"
            )
        if dataset != self.dataset:
            raise ZeronasError(
                f"{self.path} was trained on {self.dataset}, not {dataset}; train one on {dataset} with "
                f"'zeronas supernet train --method bossnas --dataset {dataset}'"
            )

    def block_distance(self, block: int, key: tuple[int, ...]) -> float:
        """The distance of ``block``'s path ``key`` to the block's ensemble target."""
        return self._distances[(block, key)]

    def distance(self, channels: list[int]) -> float:
        """The sum of the blocks' distances for an SSS architecture's 5 channel counts."""
        return sum(self.block_distance(b, key) for b, key in zip(range(NUM_BLOCKS), block_keys(channels)))
