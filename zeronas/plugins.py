"""Load user modules that register extra proxies, spaces or algorithms.

``--plugin my_proxies`` (an importable module) or ``--plugin path/to/my_proxies.py``.
Scorer actors load the same plugins before they build their scorer, so a proxy
registered by a plugin works on every worker of the cluster (the file must exist there).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

from zeronas.errors import ZeronasError


def load_plugins(items: Iterable[str]) -> None:
    for item in items:
        if item.endswith(".py"):
            path = Path(item).expanduser().resolve()
            name = f"zeronas_plugin_{path.stem}"
            if name in sys.modules:
                continue
            if not path.is_file():
                raise ZeronasError(f"--plugin {item}: no such file")
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except Exception as err:
                del sys.modules[name]
                raise ZeronasError(f"--plugin {item}: failed to import ({type(err).__name__}: {err})") from err
        else:
            try:
                importlib.import_module(item)
            except ImportError as err:
                raise ZeronasError(f"--plugin {item}: cannot import it ({err})") from err
