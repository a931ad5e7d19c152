"""Per-run, append-only epoch history, safe to read from another thread while a run writes.

Columns are packed `array`s (float32 losses and times, int32 counts of correct predictions, one
status byte): 13 bytes an epoch, so three runs of a million epochs stay under 50 MB. Losses come out
of torch as float32, so the packing loses nothing, and accuracies are exact ratios of counts.
"""

from __future__ import annotations

import math
import threading
from array import array
from dataclasses import dataclass

RUNNING, PAUSED, FINISHED, STALLED, DIVERGED, STOPPED = (
    "running",
    "paused",
    "finished",
    "stalled",
    "diverged",
    "stopped",
)
STATUSES = (RUNNING, PAUSED, FINISHED, STALLED, DIVERGED, STOPPED)
# Per-epoch status codes kept in the history (a paused or stopped run records no epoch).
RECORD_STATUSES = (RUNNING, STALLED, DIVERGED, FINISHED)
STATUS_CODE = {s: i for i, s in enumerate(RECORD_STATUSES)}


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of one run; epochs are 1-based."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    elapsed_s: float
    status: str = RUNNING


@dataclass(frozen=True)
class Columns:
    """A slice of a history as plain lists, taken under the lock."""

    start: int  # 0-based index of the first row; its epoch is start + 1
    train_loss: list[float]
    train_acc: list[float]
    val_loss: list[float] | None
    val_acc: list[float] | None
    elapsed: list[float]
    status: list[str]

    def __len__(self) -> int:
        return len(self.train_loss)

    def record(self, i: int) -> EpochRecord:
        return EpochRecord(
            epoch=self.start + i + 1,
            train_loss=self.train_loss[i],
            train_acc=self.train_acc[i],
            val_loss=self.val_loss[i] if self.val_loss is not None else None,
            val_acc=self.val_acc[i] if self.val_acc is not None else None,
            elapsed_s=self.elapsed[i],
            status=self.status[i],
        )


class RunHistory:
    """The epochs of one life of one run. A restart closes it and starts a new one, so an epoch
    computed by the previous life can never land in the new history."""

    def __init__(self, n_train: int, n_val: int = 0, has_val: bool | None = None) -> None:
        """Accuracies are stored as counts of correct predictions out of n_train (n_val); with
        n_train = 0 (a replayed file) they are stored as the recorded ratios instead."""
        self.has_val = n_val > 0 if has_val is None else has_val
        self.n_train = n_train
        self.n_val = n_val
        self._lock = threading.Lock()
        self._closed = False
        count = "i" if n_train else "d"
        self._loss = array("f")
        self._acc = array(count)
        self._val_loss = array("f") if self.has_val else None
        self._val_acc = array(count) if self.has_val else None
        self._elapsed = array("f")
        self._status = array("b")
        self.best_loss = math.inf
        self.best_epoch = 0

    def __len__(self) -> int:
        return len(self._loss)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def append(
        self,
        train_loss: float,
        train_correct: int,
        val_loss: float | None,
        val_correct: int | None,
        elapsed_s: float,
        status: str = RUNNING,
    ) -> bool:
        """Add the next epoch; returns False (and drops it) once the history is closed."""
        with self._lock:
            if self._closed:
                return False
            self._loss.append(train_loss)
            self._acc.append(train_correct)
            if self._val_loss is not None:
                self._val_loss.append(math.nan if val_loss is None else val_loss)
                if val_correct is None:  # counts are ints; only a replayed history holds NaN
                    val_correct = math.nan if self._val_acc.typecode == "d" else 0
                self._val_acc.append(val_correct)
            self._elapsed.append(elapsed_s)
            self._status.append(STATUS_CODE[status])
            if train_loss < self.best_loss:  # NaN never compares lower
                self.best_loss = float(self._loss[-1])
                self.best_epoch = len(self._loss)
            return True

    def extend(
        self,
        losses: list[float],
        corrects: list[int],
        val_losses: list[float] | None,
        val_corrects: list[int] | None,
        elapsed: list[float],
        codes: list[int],
    ) -> bool:
        """Add several epochs under one lock, as columns (`codes` from STATUS_CODE; validation
        columns None without a hold-out). Returns False (and drops them) once the history is
        closed."""
        with self._lock:
            if self._closed:
                return False
            first = len(self._loss)
            self._loss.extend(losses)
            self._acc.extend(corrects)
            if self._val_loss is not None:
                if val_losses is None:
                    val_losses = [math.nan] * len(losses)
                    val_corrects = [math.nan if self._val_acc.typecode == "d" else 0] * len(losses)
                self._val_loss.extend(val_losses)
                self._val_acc.extend(val_corrects)
            self._elapsed.extend(elapsed)
            self._status.extend(codes)
            best = self.best_loss
            for i in range(first, len(self._loss)):
                v = self._loss[i]
                if v < best:
                    best, self.best_epoch = v, i + 1
            self.best_loss = float(best)
            return True

    def mark_last(self, status: str) -> None:
        """Change the status of the latest epoch (e.g. to `finished`)."""
        with self._lock:
            if self._status:
                self._status[-1] = STATUS_CODE[status]

    def read(self, start: int = 0, stop: int | None = None) -> Columns:
        """Copy rows [start, stop) out under the lock."""
        with self._lock:
            n = len(self._loss)
            stop = n if stop is None else min(stop, n)
            start = max(0, min(start, stop))
            return Columns(
                start=start,
                train_loss=self._loss[start:stop].tolist(),
                train_acc=self._ratios(self._acc[start:stop], self.n_train),
                val_loss=self._val_loss[start:stop].tolist()
                if self._val_loss is not None
                else None,
                val_acc=(
                    self._ratios(self._val_acc[start:stop], self.n_val)
                    if self._val_acc is not None
                    else None
                ),
                elapsed=[round(t, 6) for t in self._elapsed[start:stop]],
                status=[RECORD_STATUSES[c] for c in self._status[start:stop]],
            )

    @staticmethod
    def _ratios(counts: array, n: int) -> list[float]:
        return [c / n for c in counts] if n else counts.tolist()

    def column(self, name: str, start: int = 0, stop: int | None = None):
        """One column as a numpy array (float64), without a Python object per value: the plot
        follows a million-epoch history in bounded memory. `name` is a metric or `elapsed`."""
        import numpy as np

        with self._lock:
            n = len(self._loss)
            stop = n if stop is None else min(stop, n)
            start = max(0, min(start, stop))
            src = {
                "train_loss": self._loss,
                "train_acc": self._acc,
                "val_loss": self._val_loss,
                "val_acc": self._val_acc,
                "elapsed": self._elapsed,
            }[name]
            if src is None:
                return np.full(stop - start, np.nan)
            out = np.array(src[start:stop], dtype=np.float64)
        if name == "train_acc" and self.n_train:
            out /= self.n_train
        elif name == "val_acc" and self.n_val:
            out /= self.n_val
        return out

    def last(self) -> EpochRecord | None:
        n = len(self._loss)
        return self.read(n - 1, n).record(0) if n else None

    def tail_losses(self, k: int) -> list[float]:
        """The last k train losses (for stall checks and trends)."""
        with self._lock:
            return self._loss[-k:].tolist()

    def nbytes(self) -> int:
        cols = [self._loss, self._acc, self._elapsed, self._status]
        if self._val_loss is not None:
            cols += [self._val_loss, self._val_acc]
        return sum(c.itemsize * len(c) for c in cols)
