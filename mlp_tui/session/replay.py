"""A recorded history file as a session: replayed whole, or followed while another process
writes it (`--follow`, like `tail -f`). It offers no controls: the runs are recorded, not live."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from mlp_tui.core.contract import LifeRecord, RunView, Session
from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import RECORD_STATUSES, RUN_FIELDS, STALE_S, Health, Status
from mlp_tui.core.settings import describe, recorded_values
from mlp_tui.core.task import CLASSIFICATION, Task, task_of_columns
from mlp_tui.persist.codec import HistoryFormatError
from mlp_tui.persist.reader import HistoryReader

_SERIAL = itertools.count(1)  # lives are told apart by a number never reused
RATE_EPOCHS = 50  # a followed run's rate: over its last this many recorded epochs
NOTICE_S = 5.0  # how long "the file was replaced" stays in the header


class ReplayRun(RunView):
    """One recorded run (its latest life), in the shape every face reads."""

    def __init__(self, row: dict, following: bool, clock=time.monotonic) -> None:
        self.index = int(row["run"])
        self.following = following
        self.clock = clock
        self.arrived = clock()  # when its latest row was read (a followed run's staleness)
        self._new_life(row)

    def _new_life(self, row: dict) -> None:
        self.meta = {f.name: row.get(f.name) for f in RUN_FIELDS}
        self.width = int(row["width"])
        self.repeat = int(row.get("repeat") or 0)
        self.history = RunHistory(0, has_val=row.get("val_loss") is not None,
                                  task=task_of_columns(row))  # the file's columns tell
        self.last_status = Status.RUNNING
        self.last_health = Health.OK
        self.key = next(_SERIAL)

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def total(self) -> int:
        return int(self.meta.get("epochs") or len(self.history))

    @property
    def label(self) -> str:
        return f"w={self.width}" if not self.repeat else f"w={self.width}#{self.repeat}"

    @property
    def status(self) -> Status:
        if self.last_status is Status.RUNNING and not self.following:
            return Status.STOPPED  # the recording ended while the run was still training
        if self.last_status is Status.RUNNING and self.clock() - self.arrived >= STALE_S:
            return Status.WAITING  # followed, but nothing new: the writer paused, or is gone
        return self.last_status

    @property
    def waiting_s(self) -> float | None:
        if self.status is not Status.WAITING:
            return None
        return self.clock() - self.arrived

    @property
    def health(self) -> Health:
        return self.last_health

    @property
    def epochs_per_s(self) -> float | None:
        if not self.following or self.status is not Status.RUNNING:
            return None
        n = len(self.history)
        t = self.history.column("elapsed_s", max(0, n - RATE_EPOCHS))
        if len(t) < 2 or t[-1] <= t[0]:
            return None
        return float((len(t) - 1) / (t[-1] - t[0]))

    def add(self, row: dict) -> None:
        """One row: the next epoch, the first epoch of a new life, or a status row repeating the
        last epoch's number."""
        epoch, n = int(row["epoch"]), len(self.history)
        self.arrived = self.clock()
        status, health = Status(row["status"]), Health(row.get("health") or Health.OK)
        if epoch == n and status.ended and row.get("train_loss") is None:
            self.last_status, self.last_health = status, health
            return
        if epoch == 1 and (n or int(row["seed"]) != self.seed):
            self._new_life(row)  # a restart, or a new configuration: show the latest life
        elif epoch != n + 1:
            raise HistoryFormatError(f"run {self.index}: epoch {epoch} follows epoch {n}")
        if row.get("val_loss") is not None and not self.history.has_val:
            raise HistoryFormatError(f"run {self.index}: validation values appear mid-run")
        record = status if status in RECORD_STATUSES else Status.RUNNING
        self.history.append(row, record, health)
        self.last_status, self.last_health = status, health


class ReplaySession(Session):
    """Reads a history file (and, when following, what is appended to it later); the controls
    are the contract's defaults: none."""

    def __init__(self, path: Path, follow: bool = False, poll_s: float = 0.2,
                 clock=time.monotonic) -> None:
        self.path = Path(path)
        self.clock = clock  # what a followed run's staleness is measured on
        self.following = follow
        self.kind = "follow" if follow else "replay"
        self.poll_s = poll_s
        # Followed, a file not there yet is waited for (until the user quits): the reader opens
        # it once it appears.
        missing = follow and not self.path.exists()
        self.reader: HistoryReader | None = None if missing else HistoryReader(self.path)
        self._runs: list[ReplayRun] = []  # replaced whole when a run appears (readers iterate)
        self._by_index: dict[int, ReplayRun] = {}
        self._error: str | None = None
        self._notice: tuple[str, float] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.read_all()
        if not self._runs and not follow:
            raise HistoryFormatError(f"{self.path}: no history rows")

    # --- reading -------------------------------------------------------------------------------

    def read_all(self) -> int:
        """Read every complete row there is now; returns how many."""
        count = 0
        if self.reader is None:
            if not self.path.exists():
                return 0
            self.reader = HistoryReader(self.path)
        while True:
            rows = self.reader.read_new()
            if self.reader.restarted:
                message = f"{self.path}: {self.reader.restarted}; reading it anew"
                self._notice = (message, time.monotonic())
                self.reader.restarted = None
                self._runs, self._by_index = [], {}
            for row in rows:
                self._add(row)
            count += len(rows)
            if not self.reader.more:
                return count

    def _add(self, row: dict) -> None:
        index = int(row["run"])
        run = self._by_index.get(index)
        if run is None:
            run = ReplayRun(row, self.following, self.clock)
            self._by_index[index] = run
            if not self._runs or index > self._runs[-1].index:
                self._runs.append(run)  # atomic: a reader sees the list with or without it
            else:  # out of order: a new sorted list, swapped in whole
                self._runs = sorted([*self._runs, run], key=lambda r: r.index)
        run.add(row)

    # --- the contract --------------------------------------------------------------------------

    @property
    def runs(self) -> Sequence[ReplayRun]:
        return self._runs

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(r.width for r in self._runs))

    @property
    def has_val(self) -> bool:
        return any(r.history.has_val for r in self._runs)

    @property
    def task(self) -> Task:
        """The recorded runs' task, as their columns tell (classification before any row)."""
        return self._runs[0].history.task if self._runs else CLASSIFICATION

    def describe(self) -> list[str]:
        runs = self._runs
        if not runs:
            if self.reader is None:
                return [self.kind, f"waiting for {self.path.name} to appear"]
            return [self.kind, f"waiting for rows in {self.path.name}"]
        values = recorded_values([r.meta for r in runs])
        values["epochs"] = (max(r.total for r in runs),)  # planned, else as many as recorded
        values["repeats"] = (max(r.repeat for r in runs) + 1,)
        if self.has_val and not values["val_split"]:  # a file without the column: of some size
            values["val_split"] = (True,)
        return [self.kind, *describe(values)]  # the run counts follow (view.Monitor)

    @property
    def ended(self) -> bool:
        if not self.following:
            return True
        return bool(self._runs) and all(r.last_status.ended for r in self._runs)

    @property
    def problem(self) -> str | None:
        if self._error:
            return self._error
        if self._notice and time.monotonic() - self._notice[1] < NOTICE_S:
            return self._notice[0]
        return None

    def start(self) -> None:
        if self.following and self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="replay-follow", daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.read_all()
            except HistoryFormatError as exc:
                self._error = str(exc)
                return

    def stop(self, timeout: float = 1.0) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.reader is not None:
            self.reader.close()
        return self._thread is None or not self._thread.is_alive()

    def lives(self) -> list[LifeRecord]:
        out = []
        for r in self._runs:
            ended = r.status if r.status.ended else None
            out.append(LifeRecord(r.key, dict(r.meta), r.history, ended))
        return out
