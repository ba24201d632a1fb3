"""Rating without labels (BossNAS Section 3.3): how far each path of a block is from the block's ensemble.

On fixed view pairs of the checkpoint's held-out images, a block's target is the mean projection of the EMA
supernet over the block's population (every key, or a seeded ``population`` of them); a key's distance is
the training loss against that target: the online path's prediction from one view against the target of the
other, both ways, averaged over images. An architecture's distance is the sum of its three blocks' distances
(smaller is better). Each block's distance depends only on its key, so the 8 + 512 + 512 distances are
computed on first use and cached: a traversal of all 32,768 SSS architectures computes each once.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from zeronas.bossnas._checkpoint import read_checkpoint
from zeronas.bossnas._supernet import NUM_BLOCKS, block_keys, block_population
from zeronas.bossnas._train import BossSettings, byol_distance, ensemble, new_supernet
from zeronas.bossnas._views import two_views
from zeronas.errors import ZeronasError

#: the view pairs' generator: fixed per checkpoint seed, apart from every training epoch's
_RATING_STREAM = 7_919


class SupernetRating:
    """The BossNAS rating of SSS architectures from a trained checkpoint (``distance``: smaller is better)."""

    def __init__(self, checkpoint: str | Path, device: str | torch.device = "cpu") -> None:
        self.path = Path(checkpoint).expanduser().resolve()
        state = read_checkpoint(self.path)
        if not state.get("done"):
            raise ZeronasError(
                f"{self.path} is a BossNAS checkpoint stopped at block {state['block']}, epoch {state['epoch']}; "
                "finish it with 'zeronas supernet train --method bossnas --resume'"
            )
        self.settings = BossSettings(**state["settings"])
        self.space, self.dataset = state["space"], state["dataset"]
        self.device = torch.device(device)
        self.online, self.target = new_supernet(self.settings), new_supernet(self.settings)
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.online.to(self.device).train()
        self.target.to(self.device).train()
        gen = torch.Generator().manual_seed(self.settings.seed * 1_000_003 + _RATING_STREAM)
        self.views = two_views(state["rating_images"], self.dataset, self.settings.resolution, gen)
        self._inputs: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._targets: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._distances: dict[tuple[int, tuple[int, ...]], float] = {}

    def to(self, device: str | torch.device) -> SupernetRating:
        """Rate on ``device`` from now on (the cached distances are dropped: another device rounds differently)."""
        device = torch.device(device)
        if device != self.device:
            self.device = device
            self.online.to(device)
            self.target.to(device)
            self._inputs, self._targets, self._distances = {}, {}, {}
        return self

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

    def population(self, block: int) -> list[tuple[int, ...]]:
        keys = block_population(block)
        if self.settings.population is None or self.settings.population >= len(keys):
            return keys
        return random.Random(self.settings.seed * 31 + block).sample(keys, self.settings.population)

    def _block_inputs(self, block: int) -> tuple[torch.Tensor, torch.Tensor]:
        if block not in self._inputs:
            v1, v2 = (v.to(self.device) for v in self.views)
            self._inputs[block] = (self.target.widest_input(v1, block), self.target.widest_input(v2, block))
        return self._inputs[block]

    def _block_target(self, block: int) -> tuple[torch.Tensor, torch.Tensor]:
        if block not in self._targets:
            x1, x2 = self._block_inputs(block)
            keys = self.population(block)
            self._targets[block] = (ensemble(self.target, x1, block, keys), ensemble(self.target, x2, block, keys))
        return self._targets[block]

    @torch.no_grad()
    def block_distance(self, block: int, key: tuple[int, ...]) -> float:
        """The distance of ``block``'s path ``key`` to the block's ensemble target (cached)."""
        if (block, key) not in self._distances:
            x1, x2 = self._block_inputs(block)
            t1, t2 = self._block_target(block)
            predictor = self.online.predictors[block]
            d = byol_distance(predictor(self.online.project(x2, block, key)), t1)
            d = d + byol_distance(predictor(self.online.project(x1, block, key)), t2)
            self._distances[(block, key)] = float(d.mean()) / 2
        return self._distances[(block, key)]

    def distance(self, channels: list[int]) -> float:
        """The sum of the blocks' distances for an SSS architecture's 5 channel counts."""
        return sum(self.block_distance(b, key) for b, key in zip(range(NUM_BLOCKS), block_keys(channels)))
