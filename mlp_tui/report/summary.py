"""A run's row of the final table, from its current life: one code path for every kind of
session, so a replay reproduces the live export exactly; and how the runs ended, in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlp_tui.core.schema import Status

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


ENDING_NAMES = 4  # runs named per way of ending in the closing line; the rest are counted


def endings(runs: list[RunView]) -> str:
    """How the runs ended, for the closing line: `3 runs finished`, or `3 runs stopped at epoch
    162 of 1000`, or `3 runs: 1 finished, 2 stopped (w=5 at epoch 12 of 100, ...)`. A run that
    ended before its last epoch says where: an early end never reads as a clean finish."""
    by_status: dict[Status, list[RunView]] = {}
    for run in runs:
        by_status.setdefault(run.status, []).append(run)
    noun = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    if len(by_status) == 1:
        (status, group), = by_status.items()
        where = {_where(r) for r in group}
        if status is Status.FINISHED or len(where) == 1 and "" not in where:
            return f"{noun} {status}{' ' + where.pop() if status is not Status.FINISHED else ''}"
    parts = []
    for status, group in by_status.items():
        named = [f"{r.label} {_where(r)}".rstrip() for r in group[:ENDING_NAMES]]
        more = f", {len(group) - len(named)} more" if len(group) > len(named) else ""
        detail = "" if status is Status.FINISHED else f" ({', '.join(named)}{more})"
        parts.append(f"{len(group)} {status}{detail}")
    return f"{noun}: " + ", ".join(parts)


def _where(run: RunView) -> str:
    """The epoch a run ended at, against its plan (`at epoch 162 of 1000`)."""
    done = run.history.last_step() or 0
    if run.status is Status.FINISHED or done == 0 and run.total is None:
        return ""
    of = f" of {run.total}" if run.total else ""
    return f"before epoch 1{of}" if done == 0 else f"at epoch {done}{of}"
