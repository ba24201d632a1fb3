"""How proxy values were measured: a predictor only accepts features measured the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from zeronas.errors import ZeronasError

#: the metadata key under which ``zeronas score`` records its protocol in the Parquet schema
PROTOCOL_METADATA_KEY = b"zeronas.protocol"
#: the fields that must match for proxy values to be comparable
COMPARED = ("space", "dataset", "input_kind", "batch_size", "seed_policy")


@dataclass(frozen=True)
class ProxyProtocol:
    """``input_kind``: ``noise`` (Gaussian) or ``real`` (images); ``seed_policy``: ``fixed``
    (every network built and fed from one seed, what ``ArchScorer`` does); ``seed`` is kept
    for the record but not compared (another seed draws from the same distribution), and so are
    ``zeronas_version`` and ``proxy_options`` (the constructor options of every proxy scored; None
    in records written before they were kept)."""

    space: str
    dataset: str
    input_kind: str
    batch_size: int
    seed_policy: str = "fixed"
    seed: int | None = None
    zeronas_version: str | None = field(default=None, compare=False)
    proxy_options: Mapping[str, Mapping[str, Any]] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProxyProtocol:
        try:
            return cls(
                **{k: data[k] for k in ("space", "dataset", "input_kind", "batch_size")},
                seed_policy=data.get("seed_policy", "fixed"),
                seed=data.get("seed"),
                zeronas_version=data.get("zeronas_version"),
                proxy_options=data.get("proxy_options"),
            )
        except KeyError as err:
            raise ZeronasError(f"proxy protocol record lacks {err.args[0]!r}: {dict(data)}") from None

    @classmethod
    def of_scorer(
        cls,
        space: str,
        dataset: str,
        data: Any,
        batch_size: int,
        seed: int,
        proxy_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> ProxyProtocol:
        from zeronas import __version__

        options = {name: dict(opts) for name, opts in (proxy_options or {}).items()}
        return cls(
            space, dataset, "real" if data else "noise", int(batch_size), "fixed", int(seed), __version__, options
        )

    def differences(self, other: ProxyProtocol, mine: str) -> list[str]:
        """``"field other's value (mine: this one's)"`` for each compared field on which ``other`` differs."""
        return [
            f"{k} {getattr(other, k)!r} ({mine}: {getattr(self, k)!r})"
            for k in COMPARED
            if getattr(self, k) != getattr(other, k)
        ]

    def check_matches(self, other: ProxyProtocol, what: str) -> None:
        """Raise a one-line ZeronasError when ``other`` measured proxies differently."""
        diffs = self.differences(other, "model")
        if diffs:
            raise ZeronasError(
                f"{what} were measured differently from the predictor's training data: {'; '.join(diffs)}; "
                "rescore them with the model's protocol or fit a new model"
            )
