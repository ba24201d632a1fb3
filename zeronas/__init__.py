"""zeronas: Ray Tune population search for zero-shot NAS."""

__version__ = "0.1.0"
