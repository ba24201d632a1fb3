"""The BossNAS checkpoint: one ``torch.save`` file, rewritten atomically after every epoch.

It holds the settings (space, data set and training protocol), both supernets, the optimiser of the block
in training, where training stands (``block``, ``epoch``: the next epoch to run), the held-out images the
rating uses, and the device-seconds spent so far.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from zeronas._atomic import atomic_write
from zeronas.errors import ZeronasError

FORMAT = "zeronas-bossnas-1"


def write_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    with atomic_write(path) as fh:
        torch.save({"format": FORMAT, **state}, fh)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by ``zeronas supernet train --method bossnas``; one line on anything else."""
    path = Path(path).expanduser()
    hint = "train one with 'zeronas supernet train --method bossnas'"
    if not path.is_file():
        raise ZeronasError(f"BossNAS checkpoint {path} does not exist; {hint}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file gets the same one line
        raise ZeronasError(f"{path} is not a readable BossNAS checkpoint ({type(err).__name__}); {hint}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ZeronasError(f"{path} is not a BossNAS checkpoint (no format {FORMAT!r}); {hint}")
    return state
