"""The documentation page each ``--help`` ends with (an epilog naming a file under ``docs/``)."""

from __future__ import annotations


def docs_epilog(page: str) -> str:
    """``page`` is a path under ``docs/`` (``guide/pipeline.md``); the built site serves it at ``guide/pipeline/``."""
    return f"documentation: docs/{page}"
