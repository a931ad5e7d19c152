"""One run: a width (and repeat) trained life after life, its state and its controls.

The worker that trains it (engine/worker.py, alone or with the other seeds of a stack) only
computes and appends to its life's `RunHistory`; readers poll. Controls are thread-safe and exact:
a paused run's slot is masked (computes nothing when it is the unit's only run); a restart closes
the current history, so no epoch of a previous life can reach the new one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.contract import RunView
from mlp_tui.core.history import RunHistory
from mlp_tui.core.runs import PlannedRun, first_seed, next_seed
from mlp_tui.core.schema import Health, Status
from mlp_tui.engine.baton import Baton
from mlp_tui.engine.early_stop import EarlyStop
from mlp_tui.engine.health import HealthTracker
from mlp_tui.engine.life import Life

if TYPE_CHECKING:
    from mlp_tui.engine.data import Dataset


class Run(PlannedRun, RunView):
    """One width (and repeat): its current life, the lives a restart ended, and the controls.

    Its state is kept under its own lock, here only: its worker (engine.worker), the scheduler
    and a host use the public methods below."""

    def __init__(
        self,
        index: int,
        width: int,
        repeat: int,
        cfg: ExperimentConfig,
        data: Dataset,
        baton: Baton | None = None,
        device: str = "cpu",
        grid_axes: tuple[str, ...] = (),
        seed: int | None = None,
    ) -> None:
        """`seed`: the first life's (default: the config's seed plus the repeat; a run a host
        takes over after a restart goes on with its next seed)."""
        self.index, self.width, self.repeat = index, width, repeat
        self.grid_axes = grid_axes  # the grid settings that vary between the experiment's runs
        self.cfg, self.data, self.device = cfg, data, device
        self.baton = baton or Baton()
        self.total = cfg.epochs
        self.life = self._new_life(first_seed(cfg, index, repeat) if seed is None else seed)
        self.retired: list[Life] = []  # lives a restart ended, oldest first
        self.error: str | None = None
        self._state = Status.RUNNING  # RUNNING or an end; PAUSED is derived from _paused
        self._lock = threading.Lock()
        self._paused = False  # the worker reads it between batches of epochs
        self._wake = threading.Event()
        self._stop = False
        # Raised by every control and taken down by the worker before it reads the controls, so
        # the hot loop polls one attribute (engine.step.Interruptible).
        self.interrupt = False
        self._speed = cfg.speed
        self._thread: threading.Thread | None = None
        self._working = False  # a worker owns the current life (else it is queued)
        self._requeue: Callable[[Run], None] | None = None  # the scheduler, for restarts

    # --- what readers see ----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def status(self) -> Status:
        state = self._state
        if state is Status.RUNNING:
            if self.paused:
                return Status.PAUSED
            if not self._working:
                return Status.QUEUED
        return state

    @property
    def health(self) -> Health:
        return self.life.health.health

    @property
    def active(self) -> bool:
        """Still training (or paused mid-training)."""
        return self._state is Status.RUNNING

    @property
    def epochs_per_s(self) -> float | None:
        """The recent rate while training; None when paused, ended or not measured yet."""
        return self.life.rate.value if self.status is Status.RUNNING else None

    def snapshot(self) -> tuple[list[Life], Life, Status]:
        """The ended lives, the current one and its status, consistent with each other (a
        restart in between would otherwise show a life twice or not at all)."""
        with self._lock:
            return list(self.retired), self.life, self.status

    def _new_life(self, seed: int) -> Life:
        data = self.data
        history = RunHistory(data.n_train, data.n_val, task=data.objective.task)
        cfg = self.cfg
        stopper = EarlyStop(cfg.early_stop, cfg.min_delta) if cfg.early_stop else None
        return Life(seed, history, HealthTracker(data.baseline), stopper=stopper)

    # --- controls (any thread) -------------------------------------------------------------------

    def pause(self) -> None:
        if self._state is Status.RUNNING:
            self._paused = True
            self.interrupt = True
            self._wake.set()  # a wait for the pace ends now

    def resume(self) -> None:
        self._paused = False
        self.interrupt = True
        self._wake.set()

    def restart(self) -> None:
        """Fresh initialization with the next seed; the current history is closed first."""
        with self._lock:
            if self._stop:
                return
            old = self.life
            old.history.close()
            if len(old.history):
                self.retired.append(old)
            self.life = self._new_life(next_seed(self.cfg, old.seed))
            self.error = None
            self._state = Status.RUNNING
            self.interrupt = True
            self._paused = False
            self._wake.set()
            idle = not self._working
        if idle and self._requeue is not None:  # its worker is gone: queue the new life
            self._requeue(self)

    def set_speed(self, speed: float) -> None:
        self._speed = speed
        self.interrupt = True
        self._wake.set()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self.interrupt = True
            if self._state is Status.RUNNING:
                self._state = Status.STOPPED
            self._paused = False
            self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def settle(self, timeout: float = 0.1) -> None:
        """Wait (briefly, bounded) until the worker has acted on the controls sent so far, its
        epochs before them handed over: a host reports right after a pause."""
        deadline = time.monotonic() + timeout
        while self.interrupt and self.alive and time.monotonic() < deadline:
            time.sleep(0.0005)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- what the worker, the scheduler and a host use ------------------------------------------

    @property
    def speed(self) -> float:
        """The pace the controls ask for: epochs per second, 0 for unthrottled."""
        return self._speed

    def set_requeue(self, requeue: Callable[[Run], None]) -> None:
        """Who queues the run's unit of work again when a restart finds no worker on it (the
        scheduler, or the host in a process of its own)."""
        self._requeue = requeue

    def share_wake(self, wake: threading.Event) -> None:
        """Every control sets `wake` from now on: a worker waits on one for all its runs."""
        self._wake = wake

    def share_worker(self, thread: threading.Thread) -> None:
        """The worker's thread trains this run: `join` and `alive` follow it."""
        self._thread = thread

    def claim(self) -> bool:
        """True, the run now a worker's, when it has a life to train and no worker."""
        with self._lock:
            if self._wants() and not self._working:
                self._working = True
                return True
            return False

    def adopt(self) -> Life | None:
        """The life the worker trains for this run now (the run is the worker's from then
        on), or None when the run has none (stopped or ended)."""
        with self._lock:
            if not self._wants():
                return None
            self._working = True
            return self.life

    def let_go(self, *others: Run) -> bool:
        """Let this run and `others` go (no worker owns them) when none of them has a life to
        train; False, nothing changed, when one has. Each run's lock is held from its look to its
        change, so a restart either sees its run let go (and queues the unit again) or is seen."""
        with self._lock:
            if self._wants() or (others and not others[0].let_go(*others[1:])):
                return False
            self._working = False
            return True

    def worker_failed(self, error: str) -> None:
        """The worker raised: the run fails with `error` if it was training, let go."""
        with self._lock:
            if self._working and self._state is Status.RUNNING:
                self.error, self._state = error, Status.FAILED
            self._working = False

    def end_life(self, life: Life, state: Status) -> None:
        """`life` finished or diverged: the run's state, unless a restart or a stop came first."""
        with self._lock:
            if self.life is life and not self._stop:
                self._state = state

    def _wants(self) -> bool:
        """A life to train: neither stopped nor ended (call under the lock)."""
        return not self._stop and self._state is Status.RUNNING
