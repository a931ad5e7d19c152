"""One run: a width (and repeat) trained in its own thread, life after life.

A worker only computes and appends to its life's `RunHistory`; readers poll. Controls are
thread-safe and exact: a paused run waits on an event and computes nothing; a restart closes the
current history, so no epoch of a previous life can reach the new one.
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
from mlp_tui.core.text import failure
from mlp_tui.engine.baton import Baton
from mlp_tui.engine.cadence import Cadence
from mlp_tui.engine.early_stop import EarlyStop
from mlp_tui.engine.health import HealthTracker
from mlp_tui.engine.life import Life, record
from mlp_tui.engine.pacer import Pacer
from mlp_tui.engine.step import Trainer, configure_threads

if TYPE_CHECKING:
    from mlp_tui.engine.data import Dataset

FLUSH_S = 0.02  # the longest a computed epoch waits before it reaches the history


class Run(PlannedRun, RunView):
    """One width (and repeat): its current life, the lives a restart ended, and the controls.

    Its state is kept under its own lock, here only: a stack's worker (engine.stack), the
    scheduler and a host use the public methods below."""

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
        self._state = Status.RUNNING  # RUNNING or an end; PAUSED is derived from _resume
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._wake = threading.Event()
        self._stop = False
        # Raised by every control and taken down by the worker before it reads the controls, so
        # the hot loop polls one attribute (engine.step.Interruptible).
        self.interrupt = False
        self._speed = cfg.speed
        self._thread: threading.Thread | None = None
        self._working = False  # a worker thread owns the current life (else it is queued)
        self._requeue: Callable[[Run], None] | None = None  # the scheduler, for restarts

    # --- what readers see ----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

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

    def start(self, on_exit: Callable[[Run], None] | None = None) -> bool:
        """Start a worker thread for the current life; `on_exit(run)` is called when it ends
        (the scheduler's turn to start a queued run). False if there is nothing to start."""
        with self._lock:
            if self._stop or self._working:
                return False
            self._working = True
        self._thread = threading.Thread(
            target=self._main, args=(on_exit,), name=f"run-{self.label}", daemon=True
        )
        self._thread.start()
        return True

    def pause(self) -> None:
        if self._state is Status.RUNNING:
            self._resume.clear()
            self.interrupt = True
            self._wake.set()  # a wait for the pace ends now

    def resume(self) -> None:
        self._resume.set()
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
            self._resume.set()
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
            self._resume.set()
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

    # --- what a stack's worker, the scheduler and a host use -----------------------------------

    @property
    def speed(self) -> float:
        """The pace the controls ask for: epochs per second, 0 for unthrottled."""
        return self._speed

    def set_requeue(self, requeue: Callable[[Run], None]) -> None:
        """Who queues the run's unit of work again when a restart finds no worker on it (the
        scheduler, or the host in a process of its own)."""
        self._requeue = requeue

    def share_wake(self, wake: threading.Event) -> None:
        """Every control sets `wake` from now on: a stack's worker waits on one for its members."""
        self._wake = wake

    def share_worker(self, thread: threading.Thread) -> None:
        """The stack's worker thread trains this run: `join` and `alive` follow it."""
        self._thread = thread

    def claim(self) -> bool:
        """True, the run now a stack worker's, when it has a life to train and no worker."""
        with self._lock:
            if self._wants() and not self._working:
                self._working = True
                return True
            return False

    def adopt(self) -> Life | None:
        """The life a stack's worker trains for this run now (the run is the worker's from then
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
        """The stack's worker raised: the run fails with `error` if it was training, let go."""
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

    # --- the worker ------------------------------------------------------------------------------

    def _main(self, on_exit: Callable[[Run], None] | None) -> None:
        """Train lives until one ends with no restart behind it, then hand the slot back."""
        configure_threads(self.cfg.threads)
        try:
            while True:
                with self._lock:
                    life = self.life
                self.baton.acquire()
                try:
                    self._train(life)
                finally:
                    self.baton.release()
                    life.trainer = life.pacer = None  # the model and buffers go with the life
                with self._lock:  # a restart either sees this worker leave, or is seen here
                    if self._stop or self.life is life:
                        self._working = False
                        break
        except Exception as exc:  # surfaced in the table and the exports, never swallowed
            self.error = failure(exc)
            with self._lock:
                self._working = False
                if self._state is Status.RUNNING:
                    self._state = Status.FAILED
        if on_exit is not None:
            on_exit(self)

    def _train(self, life: Life) -> None:
        """Train one life until it finishes, diverges, is restarted or stopped. Read-back,
        health, pacing and turns happen between `Trainer.compute` calls, at least every FLUSH_S;
        a paced run checks after every epoch."""
        life.trainer = trainer = Trainer(self.cfg, self.data, self.width, life.seed)
        now = time.perf_counter()
        life.pacer = pacer = Pacer(self._speed, now)
        life.origin = now
        life.cadence = cadence = Cadence(self.baton, FLUSH_S, now, flush_at_turn=True)
        # Controls that came while the previous life was ending (a pause right after a restart)
        # are looked at before the first epoch.
        self.interrupt = True
        total = self.total
        while life.done < total:
            if self.interrupt and not self._controls(life):
                return
            room = min(trainer.rows, total - life.done)
            now = trainer.compute(room, cadence.until(pacer.paced), self)
            k = life.done + trainer.buffered
            ahead = pacer.ahead(k, now)
            if cadence.hand_over(now, ahead > 0 or trainer.buffered == room):
                if not self._flush(life):
                    return
                life.rate.add(now, k)
                if ahead > 0:
                    self._wait(life, pacer.due(k) - time.perf_counter())
            cadence.turn(now)
        self.end_life(life, Status.FINISHED)

    def _controls(self, life: Life) -> bool:
        """Act on the controls that came since the last epoch; False when the life is over."""
        # Hand over what is buffered, then take the flag down and read the controls: a control
        # that comes meanwhile is read now or raises the flag again; `settle` waits for this.
        if life.trainer.buffered and not self._flush(life):
            self.interrupt = False
            return False
        self.interrupt = False
        if self._stop or self.life is not life:
            return False
        if self.paused:
            t0 = time.perf_counter()
            life.rate.reset()
            self.baton.release()
            self._resume.wait()
            self.baton.acquire()
            now = time.perf_counter()
            life.origin += now - t0
            life.cadence.new_slice(now)
            if self._stop or self.life is not life:
                return False
            life.pacer.reset(now, life.done)
        if self._speed != life.pacer.speed:
            life.pacer.set_speed(self._speed, time.perf_counter(), life.done)
        return True

    def _wait(self, life: Life, seconds: float) -> None:
        """Wait for the pace without the baton; any control cuts the wait short."""
        if seconds <= 0:
            return
        self.baton.release()
        if self._wake.wait(seconds):
            self._wake.clear()
        self.baton.acquire()
        life.cadence.new_slice()

    def _flush(self, life: Life) -> bool:
        """Move the buffered epochs into the history; False when the life is over (it
        diverged, or a restart closed its history)."""
        cols = life.trainer.take(life.origin)
        state = record(life, cols, self.total, self.data.y_train.shape[0])
        if state in (Status.DIVERGED, Status.EARLY_STOPPED):
            self.end_life(life, state)
        return state is Status.RUNNING or state is Status.FINISHED
