"""``write_report(paths, out, ...)``: analyse the logs as ``zeronas analyze`` does and write the page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from zeronas._atomic import atomic_write
from zeronas.analysis import analyze
from zeronas.errors import ZeronasError
from zeronas.logs import find_run_dirs
from zeronas.report._page import read_configs, render_page

__all__ = ["write_report"]

#: per-search bootstrap budget (archs × columns × resamples), a few seconds: a page opened to look at a run
#: should not wait a minute for per-search intervals; the whole-log intervals are always computed
PER_SEARCH_BOOTSTRAP = 5_000_000


def write_report(
    paths: Sequence[str | Path] | str | Path,
    out: str | Path,
    *,
    benchmark: str | Path | None = None,
    dataset: str | None = None,
    space: str | None = None,
    metric: str | None = None,
    epochs: int | None = None,
    top_k: int = 10,
    n_resamples: int = 200,
    seed: int = 0,
) -> Path:
    """Write the HTML report of the logs under ``paths`` to ``out``; returns its path."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ZeronasError(f"--out {out} should end in .html (the report is one HTML file)")
    if not out.parent.is_dir():
        raise ZeronasError(f"the directory of --out {out} does not exist; create it first")
    report = analyze(
        paths,
        benchmark=benchmark,
        dataset=dataset,
        space=space,
        metric=metric,
        epochs=epochs,
        top_k=top_k,
        n_resamples=n_resamples,
        seed=seed,
        per_search_bootstrap=PER_SEARCH_BOOTSTRAP,
    )
    configs = read_configs(find_run_dirs(paths if isinstance(paths, (list, tuple)) else [paths]))
    title = "zeronas report: " + (
        ", ".join(configs) or ", ".join(str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths))
    )
    text = render_page(report, configs, title)
    with atomic_write(out) as fh:
        fh.write(text.encode())
    return out
