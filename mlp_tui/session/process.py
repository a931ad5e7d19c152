"""Live training in a pool of worker processes (`--backend process`): no shared GIL.

Each worker process hosts one run at a time with the thread backend's own `Run`
(`engine.host.RunHost`), so the numbers and the controls are the same. The driver thread polls
every hosted run for its new epochs (one batch per run per round, never a message per epoch) and
feeds `RemoteRun` views, the same ones the Ray backend uses; runs beyond the pool wait `queued`,
the widest first when one is placed. A worker that dies fails only its run; the pool starts a
new worker for the runs still waiting.
"""

from __future__ import annotations

import os
import threading
import time

from mlp_tui.config import ExperimentConfig
from mlp_tui.schema import Status
from mlp_tui.session.hosted import STOP_GRACE_S, HostedSession
from mlp_tui.session.live import describe_config
from mlp_tui.session.remote import RemoteRun

_GONE = (EOFError, ConnectionError, BrokenPipeError, OSError)


def default_workers() -> int:
    return os.cpu_count() or 1


class ProcessSession(HostedSession):
    """Trains an ExperimentConfig in `workers` processes; every control is supported."""

    driver_name = "process-driver"

    def __init__(self, cfg: ExperimentConfig, workers: int | None = None) -> None:
        from multiprocessing import resource_tracker

        # multiprocessing's helper process starts with the first worker and inherits stderr's
        # file number: start it now, before a TUI stands in for stderr with one that has none.
        resource_tracker.ensure_running()
        self.workers = workers or default_workers()
        self._pool: list = []  # process_pool.Worker, started as runs need them
        self._placing: list[threading.Thread] = []  # workers starting, runs being built
        self._starting = 0  # workers being started
        super().__init__(cfg)

    def describe(self) -> list[str]:
        return [f"{self.workers} worker processes", *describe_config(self.cfg)]

    def pids(self) -> list[int]:
        """The worker processes alive now (tests check none outlives the session)."""
        return [w.pid for w in list(self._pool) if w.alive]

    def _round(self, timeout: float) -> None:
        self._place()
        self._collect()

    def _worker_of(self, run: RemoteRun):
        return next((w for w in self._pool if w.run_index == run.index), None)

    def _place(self) -> None:
        """Give queued runs a free worker (starting one while the pool is not full), the
        costliest first: a wide run started last would finish alone long after the others.
        Starting a worker (it imports torch) and building a run take seconds: each happens in a
        thread of its own, so workers start side by side and keys stay instant meanwhile."""
        for run in self._queued():
            with self._lock:
                if self._closing:
                    return
                if run.hosted or not run.active:
                    continue
                worker = next((w for w in self._pool if w.run_index is None), None)
                if worker is None and len(self._pool) + self._starting >= self.workers:
                    return
                run.hosted, run.placed_at, run.started_at = True, time.monotonic(), None
                if worker is None:
                    self._starting += 1
                else:
                    worker.run_index = run.index
                thread = threading.Thread(
                    target=self._bring_up, args=(run, worker), name="process-place", daemon=True
                )
                self._placing.append(thread)
            thread.start()

    def _bring_up(self, run: RemoteRun, worker) -> None:
        if worker is None:
            from mlp_tui.session.process_pool import Worker

            try:
                worker = Worker()
            except Exception as exc:  # the process could not start (no memory, no fork)
                with self._lock:
                    self._starting -= 1
                    run.hosted = False
                    run.end(Status.FAILED, f"worker process did not start: {exc}")
                return
            with self._lock:
                self._starting -= 1
                self._pool.append(worker)
                worker.run_index = run.index
        self._host(run, worker)

    def _host(self, run: RemoteRun, worker) -> None:
        seed = run.seed
        try:
            host = worker.new_host((run.cfg, run.index, run.width, run.repeat, seed))
        except _GONE:
            with self._lock:
                self._lost(worker, run)
            return
        with self._lock:
            if self._closing or not run.active or run.seed != seed:  # stopped or restarted
                worker.run_index = None
                run.hosted = False
                return
            worker.host = host
            try:
                host.set_speed(self.speed)
                if run.want_pause:
                    host.pause()
                host.start()
            except _GONE:
                self._lost(worker, run)

    def _collect(self) -> None:
        """Poll every hosted run once; a run that ended frees its worker."""
        for worker in list(self._pool):
            with self._lock:
                run = next((r for r in self._runs if r.index == worker.run_index), None)
                if run is None or worker.host is None:
                    continue
                try:
                    batch = worker.host.poll(run.life.serial, len(run.history))
                except _GONE:
                    self._lost(worker, run)
                    continue
                run.apply(batch)
                if not run.active:
                    worker.release()
                    run.hosted = False

    def _lost(self, worker, run: RemoteRun) -> None:
        """A worker died: its run failed (with the reason), the others go on."""
        run.end(Status.FAILED, worker.death())
        run.hosted = False
        worker.release()
        if worker in self._pool:
            self._pool.remove(worker)
        worker.close(0.5)

    # --- controls (their meaning: HostedSession) ------------------------------------------------

    def _reaches(self, run: RemoteRun) -> bool:
        worker = self._worker_of(run)
        return run.hosted and worker is not None and worker.host is not None

    def _send(self, run: RemoteRun, method: str, *args) -> None:
        worker = self._worker_of(run)
        if worker is not None and worker.host is not None:
            try:
                getattr(worker.host, method)(*args)
            except _GONE:
                self._lost(worker, run)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every run, take the epochs the workers computed, end every worker process."""
        if not self._stopped:
            self._stopped = True
            self._halt(max(timeout, STOP_GRACE_S))
            for worker in self._pool:
                worker.close()
            self._pool.clear()
        return True

    def _halt(self, timeout: float = STOP_GRACE_S) -> None:
        """Every run ends (stopped) with every epoch its worker computed; workers stay up."""
        with self._lock:
            self._closing = True
        if self._thread is not None:
            self._thread.join(timeout)
        for thread in self._placing:  # a worker still starting joins the pool first
            thread.join(timeout)
        self._placing.clear()
        with self._lock:
            for run in self._runs:
                worker = self._worker_of(run)
                if worker is None or worker.host is None:
                    run.end(Status.STOPPED)
                    continue
                try:
                    worker.host.stop(timeout)
                    run.apply(worker.host.poll(run.life.serial, len(run.history)))
                except _GONE:
                    self._lost(worker, run)
                run.end(Status.STOPPED)
                worker.release()
                run.hosted = False
