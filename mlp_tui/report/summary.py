"""A run's row of the final table, from its current life: one code path for every kind of
session, so a replay reproduces the live export exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlp_tui.core.schema import LOSS_METRICS, METRIC_NAMES, TABLE_COLUMNS

if TYPE_CHECKING:
    from mlp_tui.core.contract import RunView

RunSummary = dict[str, object]  # keyed by schema.TABLE_COLUMNS


def summarize(run: RunView) -> RunSummary:
    """The run's row as of now: its settings, final and best values, status and health."""
    history = run.history
    last = history.last()
    row: dict[str, object] = dict(run.meta)
    row["epochs_done"] = len(history)
    for m in METRIC_NAMES:
        row[f"final_{m}"] = None if last is None else last[m]
    for m in LOSS_METRICS:
        row[f"best_{m}"], row[f"best_{m}_epoch"] = history.best(m)
    row["status"] = run.status
    row["health"] = run.health
    row["seconds"] = 0.0 if last is None else last["elapsed_s"]
    return {c: row[c] for c in TABLE_COLUMNS}
