"""All runs of one configuration: widths x grid points x repeats, sharing one dataset and one
baton."""

from __future__ import annotations

import collections
import functools
import threading
import time

from mlp_tui.core.config import MAX_WORKERS, ExperimentConfig
from mlp_tui.core.runs import pauses, planned_runs, select, units
from mlp_tui.engine.baton import Baton
from mlp_tui.engine.run import Run
from mlp_tui.engine.step import configure_threads, resolve_device
from mlp_tui.engine.worker import Worker


class Experiment:
    """Builds the runs of a config and applies controls to all of them, one width, or one."""

    def __init__(self, cfg: ExperimentConfig) -> None:
        from mlp_tui.engine.data import load_dataset

        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        configure_threads(cfg.threads)
        self.data = load_dataset(cfg, self.device)
        self.baton = Baton()
        # Each run trains a point of the grid: the config with single values (config.points).
        self.runs = [
            Run(i, w, r, p, self.data, self.baton, self.device, cfg.grid_axes())
            for i, (w, p, r) in enumerate(planned_runs(cfg))
        ]
        self.speed = cfg.speed
        groups = units(self.runs, cfg.stack)
        self.units = [Worker(g) for g in groups]
        # At most MAX_WORKERS worker threads: the rest of the units wait, queued, in order.
        self._queue: collections.deque[Worker] = collections.deque()
        self._slots = MAX_WORKERS
        self._lock = threading.Lock()
        for unit, members in zip(self.units, groups):
            for run in members:  # a restart after the end queues the unit
                run.set_requeue(functools.partial(self._requeue, unit))

    def start(self) -> None:
        for unit in self.units:
            self._enqueue(unit)

    def _requeue(self, unit: Worker, _run: Run) -> None:
        self._enqueue(unit)

    def _enqueue(self, unit: Worker) -> None:
        with self._lock:
            self._queue.append(unit)
        self._dispatch()

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if not self._queue or self._slots <= 0:
                    return
                unit = self._queue.popleft()
                self._slots -= 1
            if not unit.start(self._released):  # nothing to start: its slot is free again
                with self._lock:
                    self._slots += 1

    def _released(self, _unit: Worker) -> None:
        with self._lock:
            self._slots += 1
        self._dispatch()

    def toggle(self, group: int | str | None = None) -> None:
        """Pause all if any is running, else resume all (of one group, or every run)."""
        runs = select(self.runs, group)
        if pauses(runs):
            for r in runs:
                r.pause()
        else:
            for r in runs:
                r.resume()

    def restart(self, group: int | str | None = None) -> None:
        for run in select(self.runs, group):
            run.restart()

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        for run in self.runs:
            run.set_speed(speed)

    @property
    def done(self) -> bool:
        return not any(r.active for r in self.runs)

    def wait(self, timeout: float | None = None, poll: float = 0.05) -> bool:
        """Block until every run has ended; True if they did within the timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def stop(self, timeout: float = 1.0) -> bool:
        """End every run (paused ones too) and wait for the workers; True when all are gone.

        A worker still inside torch's lazy imports (its first optimizer step imports
        torch._dynamo) when the interpreter shuts down would abort the process, so callers that
        exit afterwards pass a long timeout."""
        for run in self.runs:
            run.stop()
        deadline = time.monotonic() + timeout
        for run in self.runs:
            run.join(max(0.0, deadline - time.monotonic()))
        return not any(r.alive for r in self.runs)
