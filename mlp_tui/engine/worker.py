"""The one worker: a thread that trains a unit of work (one run, or `--stack`'s runs of one
configuration that differ only by seed) on one kernel (engine/kernel.py).

Each run stays an engine `Run`, with its own lives, history and controls; the worker owns the
kernel and, between `compute` calls, hands each run's slot of the read-back to its life, then
reads the controls. A paused run's slot is masked (a unit of one run computes nothing until a
control comes; a stack still computes a paused member's slice of its batched kernels, and throws
it away), a restarted run's slot is reseeded with its next seed and starts again from epoch 1, an
ended run's slot is masked. The unit is one item for the scheduler (one worker thread, one baton
holder, one worker process under `--backend process`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mlp_tui.core.schema import Status
from mlp_tui.core.text import failure
from mlp_tui.engine.cadence import Cadence
from mlp_tui.engine.kernel import Kernel
from mlp_tui.engine.kernels import kernel_for
from mlp_tui.engine.life import Life, record
from mlp_tui.engine.pacer import Pacer
from mlp_tui.engine.run import Run
from mlp_tui.engine.step import configure_threads

# The longest a computed epoch of a unit of one run waits before it reaches the history; the next
# hand-over comes at the end of its slice at the latest (engine/cadence.py).
FLUSH_S = 0.02
# A unit of several runs hands its epochs over at most this often: each hand-over costs every
# member its health check and history append (about 150 us a seed), a fifth of the time of 32
# seeds of width 5 at FLUSH_S. The screen redraws every 0.25 s; a control hands over at once.
STACK_FLUSH_S = 0.1


class Worker:
    """The worker of a unit of runs: builds its kernel, reads every run's controls between
    batches of epochs, and hands each run's epochs to its own history."""

    def __init__(self, runs: list[Run]) -> None:
        first = runs[0]
        self.runs = runs
        self.cfg, self.data, self.width = first.cfg, first.data, first.width
        self.baton = first.baton
        self.total = first.total
        single = len(runs) == 1
        self.flush_s, self.flush_at_turn = (FLUSH_S, True) if single else (STACK_FLUSH_S, False)
        self._lock = threading.Lock()
        self._working = False
        self._wake = threading.Event()
        for run in runs:  # every run's control wakes the worker
            run.share_wake(self._wake)
        self._lives: list[Life | None] = []  # what each slot trains now (None: masked, ended)
        self._paused_at: list[float | None] = []
        self._seeded: list[int] = []  # the life (serial) whose initial weights each slot holds
        self.kernel: Kernel | None = None
        self.pacer: Pacer | None = None
        self.epochs = 0  # kernel epochs read back (the pacer counts these)
        self._ended = False  # a run ended in the last hand-over

    @property
    def interrupt(self) -> bool:
        """Any run's control since the last look (polled once an epoch by the hot loop)."""
        return any(run.interrupt for run in self.runs)

    # --- the scheduler's side ----------------------------------------------------------------

    def start(self, on_exit: Callable[[Worker], None] | None = None) -> bool:
        """Start the thread for every run with a life to train; False when there is none (or
        the thread runs already: it takes a restarted run itself)."""
        with self._lock:
            if self._working:
                return False
            members = [run for run in self.runs if run.claim()]
            if not members:
                return False
            self._working = True
            thread = threading.Thread(
                target=self._main, args=(on_exit,), name=f"worker-{self.runs[0].group}",
                daemon=True,
            )
            for run in self.runs:  # join() and alive follow the worker's thread
                run.share_worker(thread)
        thread.start()
        return True

    def _leave(self) -> bool:
        """True, with every run let go, when no run has a life to train (`Run.let_go`: a restart
        either sees its run let go, and queues the unit again, or is seen here)."""
        with self._lock:
            if not self.runs[0].let_go(*self.runs[1:]):
                return False
            self._working = False
            return True

    def _main(self, on_exit: Callable[[Worker], None] | None) -> None:
        configure_threads(self.cfg.threads)
        try:
            while True:
                self.baton.acquire()
                try:
                    self._train()
                finally:
                    self.baton.release()
                    self.kernel = self.pacer = None  # the models and buffers go with the lives
                if self._leave():
                    break
        except Exception as exc:  # surfaced in every run's row, never swallowed
            error = failure(exc)
            with self._lock:
                for run in self.runs:
                    run.worker_failed(error)
                self._working = False
        if on_exit is not None:
            on_exit(self)

    # --- the worker ------------------------------------------------------------------------------

    def _train(self) -> None:
        """Train until no run has a life left (each finished, diverged, stopped). Read-back,
        health, pacing and turns happen between `compute` calls; a paced unit looks up after
        every epoch."""
        k = len(self.runs)
        lives = [run.life for run in self.runs]
        self.kernel = kernel = kernel_for(self.cfg, self.data, self.width,
                                          [life.seed for life in lives])
        self._seeded = [life.serial for life in lives]
        self._lives, self._paused_at = [None] * k, [None] * k
        now = time.perf_counter()
        self.pacer = pacer = Pacer(self.runs[0].speed, now)
        self.epochs = 0
        cadence = Cadence(self.baton, self.flush_s, now, self.flush_at_turn)
        ctl = self.runs[0] if k == 1 else self  # what the hot loop polls: one attribute if it can
        while self._controls():
            active = self._active()
            if not active:  # every run paused: compute nothing until a control comes
                self._wait(None)
                cadence.new_slice()
                continue
            self._ended = False
            while not (self._ended or self.interrupt):  # until the runs change
                room = min(kernel.rows, *(self.total - self._lives[i].done for i in active))
                now = kernel.compute(room, cadence.until(pacer.paced), ctl)
                ahead = pacer.ahead(self.epochs + kernel.buffered, now)
                if cadence.hand_over(now, ahead > 0 or kernel.buffered == room):
                    self._flush()
                    if ahead > 0:
                        self._wait(pacer.due(self.epochs) - time.perf_counter())
                        cadence.new_slice()
                cadence.turn(now)

    def _active(self) -> list[int]:
        return [
            i for i, life in enumerate(self._lives)
            if life is not None and self._paused_at[i] is None
        ]

    def _controls(self) -> bool:
        """Act on every run's controls (after handing over what is buffered): adopt a restarted
        run's new life, mask paused and ended runs. False when no run has a life left."""
        kernel = self.kernel
        if kernel.buffered:
            self._flush()
        now = time.perf_counter()
        for i, run in enumerate(self.runs):
            run.interrupt = False
            life = run.adopt()  # a run restarted after it ended: taken here
            if life is not self._lives[i]:
                if life is not None:
                    if life.serial != self._seeded[i]:
                        kernel.reseed(i, life.seed)
                        self._seeded[i] = life.serial
                    life.origin = now
                    life.rate.reset()
                    life.pacer = self.pacer
                    self.pacer.reset(now, self.epochs)  # a new life starts on its pace now
                self._lives[i], self._paused_at[i] = life, None
            if life is None:
                kernel.set_active(i, False)
                continue
            if run.paused and self._paused_at[i] is None:
                self._paused_at[i] = now
                life.rate.reset()
            elif not run.paused and self._paused_at[i] is not None:
                life.origin += now - self._paused_at[i]
                self._paused_at[i] = None
            kernel.set_active(i, self._paused_at[i] is None)
        speed = self.runs[0].speed
        if speed != self.pacer.speed:
            self.pacer.set_speed(speed, now, self.epochs)
        return any(life is not None for life in self._lives)

    def _wait(self, seconds: float | None) -> None:
        """Wait without the baton, for the pace (`seconds`) or, with None, for any control."""
        if seconds is not None and seconds <= 0:
            return
        self._wake.clear()  # a control sets its flag, then the event: one of them is seen
        if self.interrupt:
            return
        self.baton.release()
        self._wake.wait(seconds)
        self.baton.acquire()
        if seconds is None:
            self.pacer.reset(time.perf_counter(), self.epochs)

    def _flush(self) -> None:
        """Hand each active run its slot's buffered epochs (`life.record`: a run whose loss went
        non-finite ends diverged there, one that reached its epochs ends finished)."""
        per_slot, stamps = self.kernel.take()
        self.epochs += len(stamps)
        n_train = self.data.y_train.shape[0]
        for i in self._active():
            run, life, cols = self.runs[i], self._lives[i], per_slot[i]
            cols["elapsed_s"] = [t - life.origin for t in stamps]
            state = record(life, cols, self.total, n_train)
            if state is None:
                continue  # restarted meanwhile: the next look at the controls adopts its new life
            life.rate.add(stamps[-1], life.done)
            if state is not Status.RUNNING:
                run.end_life(life, state)
                self._lives[i] = None
                self.kernel.set_active(i, False)
                self._ended = True
