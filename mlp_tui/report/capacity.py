"""The capacity curve: every metric against width, one point per width (seeds pooled), one line
per remaining setting (depth, learning rate...). The notebook's conclusion, computed live.

Pure: it reads run histories through the RunView protocol, so the TUI's capacity view, its
readout and `--capacity-export` are the same numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlp_tui.core.schema import RUN_FIELDS
from mlp_tui.core.settings import GRID_SHORT
from mlp_tui.core.task import CLASSIFICATION, TASKS, Task
from mlp_tui.report.stats import sample_std

if TYPE_CHECKING:
    from mlp_tui.core.contract import RunView

# Settings that do not split lines: the x-axis, the seed, and what does not change a result.
_NOT_A_LINE = {"run", "width", "repeat", "seed", "device", "threads", "epochs"}
LINE_FIELDS = tuple(f.name for f in RUN_FIELDS if f.name not in _NOT_A_LINE)
AT_CHOICES = ("epoch", "best")


@dataclass(frozen=True)
class Stat:
    """Mean, sample std (0 for a single seed), min and max over the seeds of one width."""

    mean: float
    std: float
    lo: float
    hi: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stat | None:
        vals = [v for v in values if v is not None and math.isfinite(v)]
        if not vals:
            return None
        std = sample_std(vals) or 0.0
        return cls(statistics.fmean(vals), std, min(vals), max(vals), len(vals))


@dataclass(frozen=True)
class CapacityPoint:
    line: tuple[tuple[str, object], ...]  # the settings this point's line shares
    width: int
    runs: int  # runs that reached the epoch asked for
    epochs: tuple[int, ...]  # the epoch each of those runs is read at
    values: dict[str, Stat | None]  # by metric name
    best: bool = False  # best mean of the task's validation monitor (val loss; R²) on its line


def task_of(runs: Sequence[RunView]) -> Task:
    return runs[0].history.task if runs else CLASSIFICATION


def monitor(task: Task) -> str:
    """The validation metric that chooses a run's best epoch and a line's best width."""
    return f"val_{task.monitor}"


def _epoch_of(run: RunView, at: str, epoch: int | None, task: Task) -> int | None:
    n = len(run.history)
    if at == "best":
        best = monitor(task)
        metric = best if run.history.best(best)[1] is not None else "train_loss"
        return run.history.best(metric)[1]
    if epoch is None:
        return n or None
    return epoch if 1 <= epoch <= n else None


def capacity_points(
    runs: Sequence[RunView], at: str = "epoch", epoch: int | None = None
) -> list[CapacityPoint]:
    """Points by line, then width (ascending). `at="epoch"` reads every run at `epoch` (or at its
    latest epoch when None; a run that has not reached it is left out); `at="best"` reads each
    run at its best validation epoch (by the task's monitor: the lowest validation loss, the
    highest R²; the best train loss without a validation set)."""
    task = task_of(runs)
    groups: dict[tuple, dict[int, list[tuple[int, dict]]]] = {}
    for run in runs:
        meta = run.meta
        if meta.get("width") is None:  # a run without a width (a TensorBoard log's)
            continue
        line = tuple((k, meta.get(k)) for k in LINE_FIELDS)
        e = _epoch_of(run, at, epoch, task)
        per_width = groups.setdefault(line, {}).setdefault(int(meta["width"]), [])
        if e is not None:
            per_width.append((e, run.history.read(e - 1, e).record(0)))
    points: list[CapacityPoint] = []
    for line in sorted(groups, key=repr):
        row = []
        for width in sorted(groups[line]):
            got = groups[line][width]
            values = {m: Stat.of([rec[m] for _, rec in got]) for m in task.metric_names}
            row.append(CapacityPoint(line, width, len(got), tuple(e for e, _ in got), values))
        key = monitor(task)
        scored = [p for p in row if p.values[key] is not None]
        if scored:
            sign = -1 if key in task.higher_better else 1
            best = min(scored, key=lambda p: sign * p.values[key].mean)
            row = [p if p is not best else _best(p) for p in row]
        points.extend(row)
    return points


def _best(p: CapacityPoint) -> CapacityPoint:
    return CapacityPoint(p.line, p.width, p.runs, p.epochs, p.values, best=True)


def varying(points: Sequence[CapacityPoint]) -> tuple[str, ...]:
    """The line settings that differ between lines (what a legend must name)."""
    lines = {p.line for p in points}
    if len(lines) < 2:
        return ()
    return tuple(k for i, k in enumerate(LINE_FIELDS) if len({ln[i][1] for ln in lines}) > 1)


def line_label(line: tuple[tuple[str, object], ...], keys: tuple[str, ...]) -> str:
    """A line's name in the words of the table's rows (`d=2 lr=0.01`: each grid setting's short
    label); a setting that is no grid axis goes by its name."""
    return " ".join(f"{GRID_SHORT.get(k, k)}={v:g}" if isinstance(v, float) else
                    f"{GRID_SHORT.get(k, k)}={v}" for k, v in line if k in keys)


def capacity_columns(task: Task) -> tuple[str, ...]:
    """The capacity table's columns for a task's metrics."""
    return (
        *LINE_FIELDS,
        "width",
        "at",
        "runs",
        "epoch_min",
        "epoch_max",
        *(f"{m}_{s}" for m in task.metric_names for s in ("mean", "std", "min", "max")),
        f"best_by_{monitor(task)}",
    )


CAPACITY_COLUMNS = capacity_columns(CLASSIFICATION)


def capacity_rows(points: Sequence[CapacityPoint], at: str) -> list[dict[str, object]]:
    """The capacity table: one row per point, keyed by its task's `capacity_columns`."""
    rows = []
    for p in points:
        task = next(t for t in TASKS.values() if set(p.values) == set(t.metric_names))
        columns = capacity_columns(task)
        row: dict[str, object] = dict(p.line)
        row.update(width=p.width, at=at, runs=p.runs,
                   epoch_min=min(p.epochs, default=None), epoch_max=max(p.epochs, default=None))
        row[columns[-1]] = p.best
        for m in task.metric_names:
            st = p.values[m]
            for s in ("mean", "std", "min", "max"):
                key = {"min": "lo", "max": "hi"}.get(s, s)
                row[f"{m}_{s}"] = None if st is None else getattr(st, key)
        rows.append({c: row.get(c) for c in columns})
    return rows


def param_count(n_in: int, width: int, depth: int, n_out: int) -> int:
    """Weights and biases of `Linear(n_in, w) -> ... -> Linear(w, n_out)` with `depth` hidden
    layers of `width`."""
    sizes = [n_in, *([width] * depth), n_out]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def width_for(params: float, n_in: int, depth: int, n_out: int) -> float:
    """The (real) width whose `param_count` is `params`: the threshold's place on a width axis.
    d = 1: (n_in + 1 + n_out) w + n_out = P; deeper: the positive root of the quadratic."""
    a = depth - 1
    b = n_in + 1 + n_out + (depth - 1)
    c = n_out - params
    if a == 0:
        return -c / b
    return (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)


@dataclass(frozen=True)
class Threshold:
    """Where the parameter count equals `params` (n, then n x outputs): the interpolation
    threshold the double-descent curve peaks near."""

    params: int
    label: str  # `n=105`, `n×3=315`


def thresholds(n_train: int, n_out: int) -> list[Threshold]:
    """n training samples, and n x outputs (one equation per sample and output)."""
    out = [Threshold(n_train, f"n={n_train}")]
    if n_out > 1:
        out.append(Threshold(n_train * n_out, f"n×{n_out}={n_train * n_out}"))
    return out
