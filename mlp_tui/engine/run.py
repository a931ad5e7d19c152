"""One run: a width (and repeat) trained in its own thread, life after life.

A worker only computes and appends to its life's `RunHistory`; readers poll. Controls are
thread-safe and exact: a paused run waits on an event and computes nothing; a restart closes the
current history, so no epoch of a previous life can reach the new one.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig, run_meta
from mlp_tui.core.contract import RunView
from mlp_tui.core.grid import RunNames
from mlp_tui.core.history import RunHistory
from mlp_tui.core.schema import STATUS_CODE, Health, Status
from mlp_tui.engine.baton import Baton
from mlp_tui.engine.health import HealthTracker
from mlp_tui.engine.pacer import Pacer, RateMeter
from mlp_tui.engine.step import Trainer, configure_threads

if TYPE_CHECKING:
    from mlp_tui.engine.data import Dataset

# A run computes for at most this long before it hands the baton on: each hand-over costs the next
# run its caches (width 1000 works on megabytes), yet a round of the runs stays short enough that
# every run moves between two redraws (figures: README, "Benchmarks").
SLICE_S = 0.02
FLUSH_S = 0.02  # the longest a computed epoch waits before it reaches the history


_SERIAL = itertools.count(1)  # lives are told apart by a number never reused (ids are)


@dataclass
class Life:
    """One life of a run: a seed, its history and what it takes to train it."""

    seed: int
    history: RunHistory
    health: HealthTracker
    rate: RateMeter = field(default_factory=RateMeter)  # only the worker feeds or resets it
    serial: int = field(default_factory=lambda: next(_SERIAL))
    trainer: Trainer | None = None
    pacer: Pacer | None = None
    origin: float = 0.0  # the start plus the time spent paused: elapsed_s counts active time
    done: int = 0  # epochs read back into the history
    last_flush: float = 0.0
    slice_end: float = 0.0


def record(life: Life, cols: dict[str, list], total: int, n_train: int) -> Status | None:
    """Hand a life its newly computed epochs (columns keyed by epoch field, accuracies as
    counts): the first non-finite loss is its last epoch, marked diverged; its `total`-th is
    marked finished. Returns the life's state after them (RUNNING, FINISHED or DIVERGED), or
    None when a restart closed its history meanwhile (the epochs belong nowhere)."""
    losses = cols["train_loss"]
    m = len(losses)
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    if bad is not None:  # the epochs computed after a non-finite loss belong to no one
        m = bad + 1
        cols = {name: col[:m] for name, col in cols.items()}
    state = Status.RUNNING
    if bad is not None:
        state = Status.DIVERGED
    elif life.done + m == total:
        state = Status.FINISHED
    status = [STATUS_CODE[Status.RUNNING]] * m
    status[-1] = STATUS_CODE[state]
    health = life.health.update(losses[:m], [c / n_train for c in cols["train_acc"]])
    if not life.history.extend(cols, status, health):
        return None
    life.done += m
    return state


class Run(RunNames, RunView):
    """One width (and repeat): its current life, the lives a restart ended, and the controls."""

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
    ) -> None:
        self.index, self.width, self.repeat = index, width, repeat
        self.grid_axes = grid_axes  # the grid settings that vary between the experiment's runs
        self.cfg, self.data, self.device = cfg, data, device
        self.baton = baton or Baton()
        self.total = cfg.epochs
        self.life = self._new_life(cfg.seed + repeat)
        self.retired: list[Life] = []  # lives a restart ended, oldest first
        self.error: str | None = None
        self._state = Status.RUNNING  # RUNNING or an end; PAUSED is derived from _resume
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self._resume.set()
        self._wake = threading.Event()
        self._stop = False
        self._interrupt = False  # set by every control, so the hot loop reads one attribute
        self._speed = cfg.speed
        self._thread: threading.Thread | None = None
        self._working = False  # a worker thread owns the current life (else it is queued)
        self._requeue: Callable[[Run], None] | None = None  # the scheduler, for restarts

    # --- what readers see ----------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self.life.seed

    @property
    def history(self) -> RunHistory:
        return self.life.history

    @property
    def meta(self) -> dict[str, object]:
        return run_meta(self.cfg, self.index, self.width, self.repeat, self.seed, self.device)

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
        n_val = 0 if data.y_val is None else data.y_val.shape[0]
        history = RunHistory(data.y_train.shape[0], n_val)
        return Life(seed, history, HealthTracker(data.class_counts))

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
            self._interrupt = True
            self._wake.set()  # a wait for the pace ends now

    def resume(self) -> None:
        self._resume.set()
        self._interrupt = True
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
            self.life = self._new_life(old.seed + self.cfg.repeats)
            self.error = None
            self._state = Status.RUNNING
            self._interrupt = True
            self._resume.set()
            self._wake.set()
            idle = not self._working
        if idle and self._requeue is not None:  # its worker is gone: queue the new life
            self._requeue(self)

    def set_speed(self, speed: float) -> None:
        self._speed = speed
        self._interrupt = True
        self._wake.set()

    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._interrupt = True
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
        while self._interrupt and self.alive and time.monotonic() < deadline:
            time.sleep(0.0005)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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
            self.error = f"{type(exc).__name__}: {exc}"
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
        life.origin = life.last_flush = now
        life.slice_end = now + SLICE_S
        # Controls that came while the previous life was ending (a pause right after a restart)
        # are looked at before the first epoch.
        self._interrupt = True
        total = self.total
        while life.done < total:
            if self._interrupt and not self._controls(life):
                return
            room = min(trainer.rows, total - life.done)
            until = 0.0 if pacer.paced else min(life.last_flush + FLUSH_S, life.slice_end)
            now = trainer.compute(room, until, self)
            k = life.done + trainer.buffered
            ahead = pacer.ahead(k, now)
            if ahead > 0 or trainer.buffered == room or now - life.last_flush >= FLUSH_S or (
                now >= life.slice_end
            ):
                life.last_flush = now
                if not self._flush(life):
                    return
                life.rate.add(now, k)
                if ahead > 0:
                    self._wait(life, pacer.due(k) - time.perf_counter())
            if now >= life.slice_end:
                self.baton.pass_turn()
                life.slice_end = time.perf_counter() + SLICE_S
        self._end(life, Status.FINISHED)

    def _controls(self, life: Life) -> bool:
        """Act on the controls that came since the last epoch; False when the life is over."""
        # Hand over what is buffered, then take the flag down and read the controls: a control
        # that comes meanwhile is read now or raises the flag again; `settle` waits for this.
        if life.trainer.buffered and not self._flush(life):
            self._interrupt = False
            return False
        self._interrupt = False
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
            life.slice_end = now + SLICE_S
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
        life.slice_end = time.perf_counter() + SLICE_S

    def _flush(self, life: Life) -> bool:
        """Move the buffered epochs into the history; False when the life is over (it
        diverged, or a restart closed its history)."""
        cols = life.trainer.take(life.origin)
        state = record(life, cols, self.total, self.data.y_train.shape[0])
        if state is Status.DIVERGED:
            self._end(life, state)
        return state is not None and state is not Status.DIVERGED

    def _end(self, life: Life, state: Status) -> None:
        with self._lock:
            if self.life is life and not self._stop:
                self._state = state
