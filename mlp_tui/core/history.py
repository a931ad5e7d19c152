"""Per-run, append-only epoch history, safe to read from another thread while a run writes.

The columns are the per-epoch fields of the run's task (`core/task.py`), packed in `array`s:
float32 metrics and times (torch computes float32, so the packing loses nothing), accuracies as
int32 counts of correct predictions (the ratio read back is exact), and one byte each for the status
and the health: 14 bytes an epoch (22 with validation), so three runs of a million epochs stay
under 50 MB.
"""

from __future__ import annotations

import math
import threading
from abc import abstractmethod
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mlp_tui.core.schema import (
    HEALTH_CODE,
    HEALTHS,
    RECORD_STATUSES,
    STATUS_CODE,
    EpochField,
    Health,
    Status,
)
from mlp_tui.core.task import CLASSIFICATION, Task


def stored_fields(task: Task) -> tuple[EpochField, ...]:
    """Every per-epoch field of the task but the epoch number (the row index gives it)."""
    return tuple(f for f in task.epoch_fields if f.name != "epoch")


@dataclass(frozen=True)
class Columns:
    """A slice of a history as plain lists, taken under the lock. Validation columns are lists
    of None without a validation set."""

    start: int  # 0-based index of the first row; its epoch is start + 1
    values: dict[str, list]
    status: list[Status]
    health: list[Health]

    def __len__(self) -> int:
        return len(self.status)

    def __getitem__(self, name: str) -> list:
        return self.values[name]

    def record(self, i: int) -> dict[str, object]:
        """Row i as a dict of every per-epoch field, status and health."""
        row: dict[str, object] = {"epoch": self.start + i + 1}
        for name, col in self.values.items():
            row[name] = col[i]
        row["status"] = self.status[i]
        row["health"] = self.health[i]
        return row


class History(Protocol):
    """What every reader of a run's epochs uses: a `RunHistory`, or a TensorBoard run's tags
    (`session.tag_history`). The x-axis defaults to the epoch; a history with steps of its own
    overrides `axis` and `last_step`."""

    has_val: bool
    task: Task = CLASSIFICATION

    @property
    @abstractmethod
    def closed(self) -> bool: ...  # a restart closed it: no epoch comes any more

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def read(self, start: int = 0, stop: int | None = None) -> Columns: ...

    @abstractmethod
    def column(self, name: str, start: int = 0, stop: int | None = None): ...

    @abstractmethod
    def last(self) -> dict[str, object] | None: ...

    @abstractmethod
    def best(self, metric: str) -> tuple[float | None, int | None]: ...

    @abstractmethod
    def tail(self, name: str, k: int) -> list[float]: ...

    def axis(self, name: str, start: int, stop: int) -> tuple[Sequence[int], list[float]]:
        """The x of each point of `name` in [start, stop) (here its epoch) and its active
        seconds."""
        return range(start + 1, stop + 1), self.column("elapsed_s", start, stop).tolist()

    def last_step(self) -> int | None:
        """The x of the latest point; None before the first."""
        return len(self) or None


class RunHistory(History):
    """The epochs of one life of one run. A restart closes it and starts a new one, so an epoch
    computed by the previous life can never land in the new history."""

    def __init__(
        self, n_train: int, n_val: int = 0, has_val: bool | None = None,
        task: Task = CLASSIFICATION,
    ) -> None:
        """Accuracies are stored as counts of correct predictions out of n_train (n_val); with
        n_train = 0 (a replayed file) they are stored as the recorded ratios instead."""
        self.task = task
        self._fields = stored_fields(task)
        self.has_val = n_val > 0 if has_val is None else has_val
        self._per = {"train": n_train, "val": n_val}
        self._lock = threading.Lock()
        self._closed = False
        self._cols: dict[str, array | None] = {}
        for f in self._fields:
            if f.val and not self.has_val:
                self._cols[f.name] = None
            elif f.per:
                self._cols[f.name] = array("i" if self._per[f.per] else "d")
            else:
                self._cols[f.name] = array("f")
        self._status = array("b")
        self._health = array("b")
        # name -> (best, its epoch, higher is better)
        self._best = {
            m: (-math.inf if h else math.inf, 0, h)
            for m in task.best_metrics
            for h in (m in task.higher_better,)
        }

    def __len__(self) -> int:
        return len(self._status)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def extend(
        self, cols: Mapping[str, Sequence], status: Sequence[int], health: Sequence[int]
    ) -> bool:
        """Add epochs under one lock, as columns keyed by field name (`status` and `health` as
        codes). Returns False (and drops them) once the history is closed."""
        with self._lock:
            if self._closed:
                return False
            first = len(self._status)
            m = len(status)
            for name, arr in self._cols.items():
                if arr is None:
                    continue
                values = cols.get(name)
                if values is None:  # a replayed row without the value
                    values = [math.nan if arr.typecode != "i" else 0] * m
                arr.extend(values)
            self._status.extend(status)
            self._health.extend(health)
            for name, (best, at, higher) in self._best.items():
                arr = self._cols[name]
                if arr is None:
                    continue
                for i in range(first, first + m):
                    v = arr[i]
                    if (v > best) if higher else (v < best):  # NaN never compares better
                        best, at = v, i + 1
                self._best[name] = (float(best), at, higher)
            return True

    def append(self, row: Mapping[str, object], status: Status, health: Health) -> bool:
        """Add one epoch (a replayed row)."""
        cols = {name: [row.get(name)] for name in self._cols}
        for name, v in cols.items():
            if v[0] is None:
                cols[name] = None  # type: ignore[assignment]
        return self.extend(cols, [STATUS_CODE[status]], [HEALTH_CODE[health]])

    def raw(self, start: int = 0) -> tuple[dict[str, list], list[int], list[int]]:
        """Rows from `start` on exactly as stored (counts, float32 values, codes), for another
        process's `extend`: what crosses the wire is what was computed, bit for bit."""
        with self._lock:
            cols = {n: a[start:].tolist() for n, a in self._cols.items() if a is not None}
            return cols, self._status[start:].tolist(), self._health[start:].tolist()

    def mark_last(self, status: Status) -> None:
        """Change the status of the latest epoch (e.g. to `finished`)."""
        with self._lock:
            if self._status:
                self._status[-1] = STATUS_CODE[status]

    def best(self, metric: str) -> tuple[float | None, int | None]:
        """The best value of a tracked metric (the lowest loss, the highest R²) and its 1-based
        epoch (the first, on ties); (None, None) before one, or for a metric not tracked."""
        best, at, _ = self._best.get(metric, (None, 0, False))
        if best is not None and at and self._per_ratio(metric):
            return best / self._per[self._per_ratio(metric)], at
        return (best, at) if at else (None, None)

    def _per_ratio(self, name: str) -> str:
        """The split a count-stored ratio is of ("" for plain values)."""
        arr = self._cols.get(name)
        if arr is None or arr.typecode != "i":
            return ""
        return next(f.per for f in self._fields if f.name == name)

    def read(self, start: int = 0, stop: int | None = None) -> Columns:
        """Copy rows [start, stop) out under the lock."""
        with self._lock:
            n = len(self._status)
            stop = n if stop is None else min(stop, n)
            start = max(0, min(start, stop))
            values: dict[str, list] = {}
            for f in self._fields:
                arr = self._cols[f.name]
                if arr is None:
                    values[f.name] = [None] * (stop - start)
                elif f.per and arr.typecode == "i":
                    d = self._per[f.per]
                    values[f.name] = [c / d for c in arr[start:stop]]
                else:
                    values[f.name] = arr[start:stop].tolist()
            values["elapsed_s"] = [round(t, 6) for t in values["elapsed_s"]]
            return Columns(
                start,
                values,
                [RECORD_STATUSES[c] for c in self._status[start:stop]],
                [HEALTHS[c] for c in self._health[start:stop]],
            )

    def column(self, name: str, start: int = 0, stop: int | None = None):
        """One column as a numpy array (float64), without a Python object per value: the plot
        follows a million-epoch history in bounded memory."""
        import numpy as np

        with self._lock:
            n = len(self._status)
            stop = n if stop is None else min(stop, n)
            start = max(0, min(start, stop))
            src = self._cols.get(name)
            if src is None:
                return np.full(stop - start, np.nan)
            out = np.array(src[start:stop], dtype=np.float64)
        per = self._per_ratio(name)
        if per:
            out /= self._per[per]
        return out

    def last(self) -> dict[str, object] | None:
        n = len(self)
        return self.read(n - 1, n).record(0) if n else None

    def tail(self, name: str, k: int) -> list[float]:
        """The last k values of one column (trends, sparklines)."""
        with self._lock:
            arr = self._cols.get(name)
            return [] if arr is None else arr[-k:].tolist()

    def nbytes(self) -> int:
        cols = [c for c in self._cols.values() if c is not None] + [self._status, self._health]
        return sum(c.itemsize * len(c) for c in cols)
