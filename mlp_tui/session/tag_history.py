"""A run's history keyed by arbitrary scalar tags (a TensorBoard run), read like a RunHistory.

Each tag keeps its own points, so a tag logged every 10 steps beside one logged every step draws
as two unbroken lines, each at its own steps (`axis`). The schema's per-epoch fields are filled
only from tags of the same name (an mlp-tui log read back); anything else reads as missing, so
the table and the exports show less rather than something false.
"""

from __future__ import annotations

import math
import threading

from mlp_tui.core.history import Columns, History
from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import ALL_METRICS, TASKS, task_of_columns

_FIELDS = (*ALL_METRICS, "elapsed_s")  # every task's: a log's own tags say which it is
_BEST = {n: n in t.higher_better for t in TASKS.values() for n in t.best_metrics}


class TagHistory(History):
    """Append-only points per tag; safe to read while a follower thread appends."""

    has_val = False
    closed = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tags: dict[str, tuple[list[int], list[float], list[float]]] = {}

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self._tags)

    @property
    def task(self):
        """The task whose metrics the tags are (an mlp-tui log read back), else
        classification's losses."""
        return task_of_columns(self._tags)

    def add(self, tag: str, steps: list[int], values: list[float], wall: list[float]) -> None:
        with self._lock:
            s, v, w = self._tags.setdefault(tag, ([], [], []))
            s.extend(steps)
            v.extend(values)
            w.extend(wall)

    def __len__(self) -> int:
        """Points of the longest tag: what "epochs done" means for a recorded log."""
        with self._lock:
            return max((len(s) for s, _, _ in self._tags.values()), default=0)

    def last_step(self) -> int | None:
        with self._lock:
            return max((s[-1] for s, _, _ in self._tags.values() if s), default=None)

    def _slice(self, tag: str, start: int, stop: int | None):
        with self._lock:
            s, v, w = self._tags.get(tag, ([], [], []))
            stop = len(v) if stop is None else min(stop, len(v))
            return s[start:stop], v[start:stop], w[start:stop], (w[0] if w else 0.0)

    def column(self, name: str, start: int = 0, stop: int | None = None):
        import numpy as np

        _, values, _, _ = self._slice(name, start, stop)
        return np.array(values, dtype=np.float64)

    def axis(self, name: str, start: int, stop: int) -> tuple[list[int], list[float]]:
        """The steps of a tag's points and their seconds since the tag's first point."""
        steps, _, wall, t0 = self._slice(name, start, stop)
        return steps, [t - t0 for t in wall]

    def read(self, start: int = 0, stop: int | None = None) -> Columns:
        n = len(self)
        stop = n if stop is None else min(stop, n)
        start = max(0, min(start, stop))
        k = stop - start
        values: dict[str, list] = {}
        for name in _FIELDS:
            _, got, _, _ = self._slice(name, start, stop)
            values[name] = [*got, *([None] * (k - len(got)))]
        return Columns(start, values, [Status.FINISHED] * k, [Health.OK] * k)

    def last(self) -> dict[str, object] | None:
        """The latest value of each schema field logged under its own name (else None)."""
        if not len(self):
            return None
        row: dict[str, object] = {"epoch": len(self)}
        for name in _FIELDS:
            _, v, _, _ = self._slice(name, 0, None)
            row[name] = v[-1] if v else None
        row["status"], row["health"] = Status.FINISHED, Health.OK
        return row

    def best(self, metric: str) -> tuple[float | None, int | None]:
        if metric not in _BEST:
            raise KeyError(metric)
        _, v, _, _ = self._slice(metric, 0, None)
        finite = [(-x if _BEST[metric] else x, i + 1) for i, x in enumerate(v)
                  if math.isfinite(x)]
        if not finite:
            return None, None
        best, at = min(finite)
        return (-best if _BEST[metric] else best), at

    def tail(self, name: str, k: int) -> list[float]:
        _, v, _, _ = self._slice(name, 0, None)
        return v[-k:]

    def nbytes(self) -> int:
        return 20 * sum(len(s) for s, _, _ in self._tags.values())
