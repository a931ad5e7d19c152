"""The driver's side of a run trained in another process: a RunView fed by epoch batches.

A backend that hosts runs elsewhere (Ray actors) keeps one `RemoteRun` per run. The faces read it
like a thread run; the backend applies each `engine.host.Batch` it polls, and records the
controls it forwards, so the status shown is the host's, or `queued` before a host has one.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.contract import LifeRecord, RunView
from mlp_tui.core.history import RunHistory
from mlp_tui.core.runs import PlannedRun, first_seed, next_seed
from mlp_tui.core.schema import Health, Status
from mlp_tui.engine.host import Batch

_KEYS = itertools.count(1)


@dataclass
class PolledLife:
    """A life a host trains, as the driver knows it: the rows polled so far."""

    seed: int
    history: RunHistory
    serial: int = 0  # the host's number for this life; 0 until a batch of it came
    key: int = field(default_factory=lambda: next(_KEYS))


class RemoteRun(PlannedRun, RunView):
    """One run as the driver knows it. Thread-safe: the poller applies batches while the UI
    thread reads and sends controls."""

    def __init__(
        self,
        index: int,
        width: int,
        repeat: int,
        cfg: ExperimentConfig,
        shape: tuple[int, int],
        grid_axes: tuple[str, ...] = (),
    ) -> None:
        self.index, self.width, self.repeat, self.cfg = index, width, repeat, cfg
        self.grid_axes = grid_axes  # the grid settings that vary (engine.run.Run's meaning)
        self.total = cfg.epochs
        self._shape = shape  # (train rows, validation rows)
        self.life = self._new_life(first_seed(cfg, index, repeat))
        self.retired: list[PolledLife] = []
        self.error: str | None = None
        self.device = cfg.device
        self.hosted = False  # a host holds this run (placed: it may still be starting)
        self.placed_at: float | None = None  # time.monotonic() when last given a host
        self.started_at: float | None = None  # ... and when that host's first batch came
        self.want_pause = False
        self._state = Status.QUEUED  # the host's status, or QUEUED / an end set here
        self._health = Health.OK
        self._rate: float | None = None
        self._lock = threading.Lock()

    def _new_life(self, seed: int, serial: int | None = None) -> PolledLife:
        history = RunHistory(*self._shape, task=self.cfg.kind)
        return PolledLife(seed, history) if serial is None else PolledLife(seed, history, serial)

    # --- RunView (seed, history, meta: core.runs.PlannedRun) ------------------------------------

    @property
    def status(self) -> Status:
        state = self._state
        if state in (Status.QUEUED, Status.RUNNING) and self.want_pause:
            return Status.PAUSED
        return state

    @property
    def active(self) -> bool:
        return not self._state.ended

    @property
    def paused(self) -> bool:
        return self.status is Status.PAUSED

    @property
    def health(self) -> Health:
        return self._health

    @property
    def epochs_per_s(self) -> float | None:
        return self._rate if self.status is Status.RUNNING else None

    # --- fed by the backend ----------------------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        """Add a polled batch: the last rows of a life the host retired, a new life if the host
        started one, the new rows, then the host's state."""
        with self._lock:
            life = self.life
            if batch.tail is not None and life.serial and batch.serial != life.serial:
                life.history.extend(*batch.tail)
            if self.started_at is None:
                self.started_at = time.monotonic()
            if life.serial == 0:
                life.serial = batch.serial
            elif batch.serial != life.serial:
                self._retire()
                self.life = life = self._new_life(batch.seed, batch.serial)
            if batch.start == len(life.history):
                life.history.extend(batch.cols, batch.status_codes, batch.health_codes)
            self._state = Status(batch.status)
            self._health, self._rate = Health(batch.health), batch.epochs_per_s
            self.error, self.device = batch.error, batch.device

    def _retire(self) -> None:
        self.life.history.close()
        if len(self.life.history):
            self.retired.append(self.life)

    def relife(self) -> None:
        """A restart while no host holds the run: the next seed, queued for a new host."""
        with self._lock:
            old = self.life
            self._retire()
            self.life = self._new_life(next_seed(self.cfg, old.seed))
            self.error = None
            self._state = Status.QUEUED
            self.want_pause = False

    def end(self, status: Status, error: str | None = None) -> None:
        """An end decided here: stopped before a host took it, or its host died."""
        with self._lock:
            if not self._state.ended:
                self._state = status
                if error is not None:
                    self.error = error

    def lives(self) -> list[LifeRecord]:
        with self._lock:
            meta, state = self.meta, self._state
            out = [
                LifeRecord(lf.key, {**meta, "seed": lf.seed}, lf.history, Status.STOPPED)
                for lf in self.retired
            ]
            ended = state if state.ended else None
            now = self.life
            out.append(LifeRecord(now.key, {**meta, "seed": now.seed}, now.history, ended))
            return out
