"""Progress of running searches: a rich bar per search on a terminal, plain lines in a log."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zeronas._progress_lines import PeriodicLines


class SearchProgress:
    def __init__(self, search_ids: list[str], budget: int | None, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(),
            disable=quiet,
            transient=False,
        )
        self._tasks = {}
        self._order = list(search_ids)
        self._budget = budget
        self._trial_to_search: dict[str, str] = {}
        self._evals: dict[str, int] = {sid: 0 for sid in search_ids}
        self._best: dict[str, float] = {}
        self._workers: tuple[int, int, str] | None = None
        self._workers_task = None
        # not a terminal (a `ray job` log, nohup): rich would stay silent until the end
        self._lines = None if quiet or self._progress.console.is_terminal else PeriodicLines()

    def __enter__(self) -> SearchProgress:
        if self._lines is None:
            self._progress.start()
        for sid in self._order:
            self._tasks[sid] = self._progress.add_task(sid, total=self._budget, best="-")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._lines is None:
            self._progress.stop()
        else:
            self._lines.write(self._summary())

    def _summary(self) -> str:
        done = sum(self._evals.values())
        text = f"searches: {done:,}"
        if self._budget:
            total = self._budget * len(self._order)
            text += f"/{total:,} proxy evals ({100 * done / total:.0f}%)"
            finished = sum(n >= self._budget for n in self._evals.values())
            text += f", {finished}/{len(self._order)} searches done"
        else:
            text += f" proxy evals over {len(self._order)} searches"
        if self._best:
            sid = max(self._best, key=self._best.get)
            text += f", best score {self._best[sid]:.4g} ({sid})"
        if self._workers is not None and self._workers[0] < self._workers[1]:
            text += f", {workers_text(*self._workers)}"
        return text + f", {self._lines.elapsed():.0f} s"

    def workers(self, up: int, wanted: int, kind: str) -> None:
        """How many scorer workers are up; shown while fewer than wanted are."""
        self._workers = (up, wanted, kind)
        if self._lines is not None:
            if up < wanted and self._lines.due():
                self._lines.write(self._summary())
            return
        if self._workers_task is None:
            self._workers_task = self._progress.add_task("", total=wanted, best="")
        self._progress.update(
            self._workers_task, completed=up, total=wanted, description=workers_text(up, wanted, kind)
        )

    def update(self, trial_id: str, rows: list[dict], result: dict) -> None:
        sid = self._trial_to_search.get(trial_id)
        if sid is None:
            for r in rows:
                sid = r.get("search_id")
                break
            if sid is None:
                sid = (result.get("config") or {}).get("search", {}).get("search_id")
            if sid is None or sid not in self._tasks:  # a search it does not show (a supernet search)
                return
            self._trial_to_search[trial_id] = sid
        best = result.get("best_score")
        self._evals[sid] = int(result.get("evals", 0) or 0)
        if isinstance(best, (int, float)):
            self._best[sid] = float(best)
        self._progress.update(
            self._tasks[sid], completed=self._evals[sid], best=f"{best:.4g}" if isinstance(best, (int, float)) else "-"
        )
        if self._lines is not None and self._lines.due():
            self._lines.write(self._summary())


def workers_text(up: int, wanted: int, kind: str) -> str:
    return f"waiting for {kind} workers: {up} of {wanted} up" if up < wanted else f"{kind} workers: {up} of {wanted} up"
