"""A run's row of the final table, from its current life: one code path for every kind of
session, so a replay reproduces the live export exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlp_tui.core.contract import RunView

RunSummary = dict[str, object]  # keyed by the task's table_columns


def summarize(run: RunView) -> RunSummary:
    """The run's row as of now: its settings, final and best values, status and health."""
    history = run.history
    task = history.task
    last = history.last()
    row: dict[str, object] = dict(run.meta)
    row["epochs_done"] = len(history)
    for m in task.metric_names:
        row[f"final_{m}"] = None if last is None else last.get(m)
    for m in task.best_metrics:
        row[f"best_{m}"], row[f"best_{m}_epoch"] = history.best(m)
    row["status"] = run.status
    row["health"] = run.health
    row["seconds"] = 0.0 if last is None else last["elapsed_s"]
    return {c: row[c] for c in task.table_columns}
