"""`--stack`: the runs of one configuration that differ only by seed, trained by one worker thread
as one `StackedTrainer`.

Each member stays an engine `Run`, with its own lives, history and controls: a paused member's
update is masked out and nothing of it is recorded (its slice of the batched kernels is still
computed, and thrown away), a restarted member's slice gets its next seed's initial weights and
starts again from epoch 1, a member that ended is masked out. The stack is one unit for the
scheduler (one worker thread, one baton holder, one worker process under `--backend process`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from mlp_tui.core.schema import Status
from mlp_tui.core.text import failure
from mlp_tui.engine.cadence import Cadence
from mlp_tui.engine.life import Life, record
from mlp_tui.engine.pacer import Pacer
from mlp_tui.engine.run import Run
from mlp_tui.engine.stack_step import StackedTrainer
from mlp_tui.engine.step import configure_threads

# A stack hands its epochs over at most this often: each hand-over costs every seed its health
# check and history append (about 150 us a seed), a fifth of the time of 32 seeds of width 5 at a
# run's 20 ms (run.FLUSH_S). The screen redraws every 0.25 s; a control hands over at once.
STACK_FLUSH_S = 0.1


class Stack:
    """The members' worker: builds the stacked model, reads every member's controls between
    batches of epochs, and hands each member's epochs to its own history."""

    def __init__(self, runs: list[Run]) -> None:
        first = runs[0]
        self.runs = runs
        self.cfg, self.data, self.width = first.cfg, first.data, first.width
        self.baton = first.baton
        self.total = first.total
        self._lock = threading.Lock()
        self._working = False
        self._wake = threading.Event()
        for run in runs:  # every member's control wakes the stack's worker
            run.share_wake(self._wake)
        self._lives: list[Life | None] = []  # what each slice trains now (None: masked, ended)
        self._paused_at: list[float | None] = []
        self._seeded: list[int] = []  # the life (serial) whose initial weights each slice holds
        self.trainer: StackedTrainer | None = None
        self.pacer: Pacer | None = None
        self.epochs = 0  # stack epochs read back (the pacer counts these)
        self._ended = False  # a member ended in the last hand-over

    @property
    def interrupt(self) -> bool:
        """Any member's control since the last look (polled once an epoch by the hot loop)."""
        return any(run.interrupt for run in self.runs)

    # --- the scheduler's side ----------------------------------------------------------------

    def start(self, on_exit: Callable[[Stack], None] | None = None) -> bool:
        """Start the worker for every member with a life to train; False when there is none
        (or the worker runs already: it takes a restarted member itself)."""
        with self._lock:
            if self._working:
                return False
            members = [run for run in self.runs if run.claim()]
            if not members:
                return False
            self._working = True
            thread = threading.Thread(
                target=self._main, args=(on_exit,), name=f"stack-{self.runs[0].group}",
                daemon=True,
            )
            for run in self.runs:  # join() and alive follow the stack's worker
                run.share_worker(thread)
        thread.start()
        return True

    def _leave(self) -> bool:
        """True, with every member let go, when no member has a life to train (`Run.let_go`: a
        restart either sees its run let go, and queues the stack again, or is seen here)."""
        with self._lock:
            if not self.runs[0].let_go(*self.runs[1:]):
                return False
            self._working = False
            return True

    def _main(self, on_exit: Callable[[Stack], None] | None) -> None:
        configure_threads(self.cfg.threads)
        try:
            while True:
                self.baton.acquire()
                try:
                    self._train()
                finally:
                    self.baton.release()
                    self.trainer = self.pacer = None
                if self._leave():
                    break
        except Exception as exc:  # surfaced in every member's row, never swallowed
            error = failure(exc)
            with self._lock:
                for run in self.runs:
                    run.worker_failed(error)
                self._working = False
        if on_exit is not None:
            on_exit(self)

    # --- the worker ------------------------------------------------------------------------------

    def _train(self) -> None:
        """Train until no member has a life left (each finished, diverged, stopped)."""
        k = len(self.runs)
        lives = [run.life for run in self.runs]
        self.trainer = trainer = StackedTrainer(
            self.cfg, self.data, self.width, [life.seed for life in lives]
        )
        self._seeded = [life.serial for life in lives]
        self._lives, self._paused_at = [None] * k, [None] * k
        now = time.perf_counter()
        self.pacer = pacer = Pacer(self.runs[0].speed, now)
        self.epochs = 0
        cadence = Cadence(self.baton, STACK_FLUSH_S, now, flush_at_turn=False)
        while self._controls():
            active = self._active()
            if not active:  # every member paused: compute nothing until a control comes
                self._wait(None)
                continue
            self._ended = False
            while not (self._ended or self.interrupt):  # until the members change
                room = min(trainer.rows, *(self.total - self._lives[i].done for i in active))
                now = trainer.compute(room, cadence.until(pacer.paced), self)
                ahead = pacer.ahead(self.epochs + trainer.buffered, now)
                if cadence.hand_over(now, ahead > 0 or trainer.buffered == room):
                    self._flush()
                    if ahead > 0:
                        self._wait(pacer.due(self.epochs) - time.perf_counter())
                cadence.turn(now)

    def _active(self) -> list[int]:
        return [
            i for i, life in enumerate(self._lives)
            if life is not None and self._paused_at[i] is None
        ]

    def _controls(self) -> bool:
        """Act on every member's controls (after handing over what is buffered): adopt a
        restarted member's new life, mask paused and ended members. False when no member has a
        life left to train."""
        trainer = self.trainer
        if trainer.buffered:
            self._flush()
        now = time.perf_counter()
        for i, run in enumerate(self.runs):
            run.interrupt = False
            life = run.adopt()  # a member restarted after it ended: taken here
            if life is not self._lives[i]:
                if life is not None:
                    if life.serial != self._seeded[i]:
                        trainer.reseed(i, life.seed)
                        self._seeded[i] = life.serial
                    life.origin = now
                    life.rate.reset()
                self._lives[i], self._paused_at[i] = life, None
            if life is None:
                trainer.set_active(i, False)
                continue
            if run.paused and self._paused_at[i] is None:
                self._paused_at[i] = now
                life.rate.reset()
            elif not run.paused and self._paused_at[i] is not None:
                life.origin += now - self._paused_at[i]
                self._paused_at[i] = None
            trainer.set_active(i, self._paused_at[i] is None)
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
        """Hand each unmasked member its buffered epochs (`run.record`: a member whose loss went
        non-finite ends diverged there, one that reached its epochs ends finished)."""
        per_seed, stamps = self.trainer.take()
        self.epochs += len(stamps)
        n_train = self.data.y_train.shape[0]
        for i in self._active():
            run, life, cols = self.runs[i], self._lives[i], per_seed[i]
            cols["elapsed_s"] = [t - life.origin for t in stamps]
            state = record(life, cols, self.total, n_train)
            if state is None:
                continue  # restarted meanwhile: the next look at the controls adopts its new life
            life.rate.add(stamps[-1], life.done)
            if state is not Status.RUNNING:
                run.end_life(life, state)
                self._lives[i] = None
                self.trainer.set_active(i, False)
                self._ended = True
