"""BossNAS on NATS-Bench SSS: a slimmable supernet trained block by block without labels, and its rating.

``train_supernet`` trains the three blocks by ensemble bootstrapping and writes a checkpoint; ``SupernetRating``
reads one and rates any SSS architecture (what the ``bossnas`` proxy serves). See ``docs/bossnas.md``.
"""

from zeronas.bossnas._checkpoint import read_checkpoint
from zeronas.bossnas._rating import SupernetRating
from zeronas.bossnas._train import BossSettings, train_supernet

__all__ = ["BossSettings", "SupernetRating", "read_checkpoint", "train_supernet"]
