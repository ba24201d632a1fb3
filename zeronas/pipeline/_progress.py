"""Terminal progress for running searches (rich)."""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


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

    def __enter__(self) -> "SearchProgress":
        self._progress.start()
        for sid in self._order:
            self._tasks[sid] = self._progress.add_task(sid, total=self._budget, best="-")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def update(self, trial_id: str, rows: list[dict], result: dict) -> None:
        sid = self._trial_to_search.get(trial_id)
        if sid is None:
            for r in rows:
                sid = r.get("search_id")
                break
            if sid is None:
                sid = (result.get("config") or {}).get("search", {}).get("search_id")
            if sid is None:
                return
            self._trial_to_search[trial_id] = sid
        best = result.get("best_score")
        self._progress.update(
            self._tasks[sid], completed=result.get("evals", 0), best=f"{best:.4g}" if isinstance(best, (int, float)) else "-"
        )
