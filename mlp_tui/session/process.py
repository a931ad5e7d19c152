"""Live training in a pool of worker processes (`--backend process`): no shared GIL.

Each worker process hosts one unit at a time, a run or (`--stack`) the seeds of one width and
grid point, with the thread backend's own `Run` and `Worker` (`engine.host.UnitHost`), so the
numbers and the controls are the same. The driver thread polls
every hosted run for its new epochs (one batch per run per round, never a message per epoch) and
feeds `RemoteRun` views, the same ones the Ray backend uses; runs beyond the pool wait `queued`,
the widest first when one is placed. A worker that dies fails only its run; the pool starts a
new worker for the runs still waiting.
"""

from __future__ import annotations

import os
import threading
import time

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.runs import units
from mlp_tui.core.schema import Status
from mlp_tui.session.hosted import STOP_GRACE_S, HostedSession
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
        return [f"{self.workers} worker processes", *self.cfg.describe()]

    def pids(self) -> list[int]:
        """The worker processes alive now (tests check none outlives the session)."""
        return [w.pid for w in list(self._pool) if w.alive]

    def _round(self, timeout: float) -> None:
        self._place()
        self._collect()

    def _worker_of(self, run: RemoteRun):
        return next((w for w in self._pool if run.index in w.unit), None)

    def _members(self, worker) -> list[RemoteRun]:
        return [r for r in self._runs if r.index in worker.unit]

    def _units(self) -> list[list[RemoteRun]]:
        """The queued runs as units of work, the costliest first: one run each, or with
        `--stack` the queued seeds of one width and grid point together."""
        queued = self._queued()
        return units(queued, self.cfg.stack)

    def _place(self) -> None:
        """Give queued units a free worker (starting one while the pool is not full), the
        costliest first: a wide run started last would finish alone long after the others.
        Starting a worker (it imports torch) and building a unit take seconds: each happens in a
        thread of its own, so workers start side by side and keys stay instant meanwhile."""
        for unit in self._units():
            with self._lock:
                if self._closing:
                    return
                unit = [r for r in unit if r.active and not r.hosted]
                if not unit:
                    continue
                worker = next((w for w in self._pool if not w.unit), None)
                if worker is None and len(self._pool) + self._starting >= self.workers:
                    return
                now = time.monotonic()
                for run in unit:
                    run.hosted, run.placed_at, run.started_at = True, now, None
                if worker is None:
                    self._starting += 1
                else:
                    worker.unit = tuple(r.index for r in unit)
                thread = threading.Thread(
                    target=self._bring_up, args=(unit, worker), name="process-place", daemon=True
                )
                self._placing.append(thread)
            thread.start()

    def _bring_up(self, unit: list[RemoteRun], worker) -> None:
        if worker is None:
            from mlp_tui.session.process_pool import Worker

            try:
                worker = Worker()
            except Exception as exc:  # the process could not start (no memory, no fork)
                with self._lock:
                    self._starting -= 1
                    for run in unit:
                        run.hosted = False
                        run.end(Status.FAILED, f"worker process did not start: {exc}")
                return
            with self._lock:
                self._starting -= 1
                self._pool.append(worker)
                worker.unit = tuple(r.index for r in unit)
        self._host(unit, worker)

    def _host(self, unit: list[RemoteRun], worker) -> None:
        seeds = [run.seed for run in unit]
        members = [(r.index, r.width, r.repeat, s) for r, s in zip(unit, seeds, strict=True)]
        try:
            host = worker.new_host(unit[0].cfg, members, self._arrays)
        except _GONE:
            with self._lock:
                self._lost(worker)
            return
        with self._lock:
            if self._closing or any(
                not r.active or r.seed != s for r, s in zip(unit, seeds, strict=True)
            ):  # stopped, or restarted meanwhile: placed again (with its new seed) next round
                worker.release()
                for run in unit:
                    run.hosted = False
                return
            worker.host = host
            try:
                for run in unit:
                    host.set_speed(run.index, self.speed)
                    if run.want_pause:
                        host.pause(run.index)
                host.start()
            except _GONE:
                self._lost(worker)

    def _collect(self) -> None:
        """Poll every hosted run once; a unit whose runs all ended frees its worker. The polls
        go out without the session's lock: a key's control never waits for a round."""
        for worker in list(self._pool):
            with self._lock:
                host = worker.host
                if host is None:
                    continue
                asks = [(r, r.life.serial, len(r.history)) for r in self._members(worker)]
            try:
                batches = [host.poll(run.index, serial, start) for run, serial, start in asks]
            except _GONE:
                with self._lock:
                    if worker.host is host:
                        self._lost(worker)
                continue
            with self._lock:
                if worker.host is not host:  # released meanwhile (stopped)
                    continue
                for (run, _, _), batch in zip(asks, batches, strict=True):
                    run.apply(batch)
                if not any(run.active for run, _, _ in asks):
                    worker.release()
                    for run, _, _ in asks:
                        run.hosted = False

    def _lost(self, worker) -> None:
        """A worker died: its runs failed (with the reason), the others go on."""
        reason = worker.death()
        for run in self._members(worker):
            run.end(Status.FAILED, reason)
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
                getattr(worker.host, method)(run.index, *args)
            except _GONE:
                self._lost(worker)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every run, take the epochs the workers computed, end every worker process."""
        if not self._stopped:
            self._stopped = True
            self._halt(max(timeout, STOP_GRACE_S))
            # Side by side: a worker takes about 0.4 s to exit (torch's teardown).
            closing = [threading.Thread(target=w.close, daemon=True) for w in self._pool]
            for thread in closing:
                thread.start()
            for thread in closing:
                thread.join()
            self._pool.clear()
        return True

    def _halt(self, timeout: float = STOP_GRACE_S) -> None:
        """Every run ends (stopped) with every epoch its worker computed; workers stay up."""
        with self._lock:
            self._closing = True
            self._nudge.set()  # the driver leaves its wait now
        if self._thread is not None:
            self._thread.join(timeout)
        for thread in self._placing:  # a worker still starting joins the pool first
            thread.join(timeout)
        self._placing.clear()
        with self._lock:
            for worker in list(self._pool):
                if worker.host is None:
                    continue
                members = self._members(worker)
                try:
                    worker.host.stop(timeout)
                    for run in members:
                        run.apply(worker.host.poll(run.index, run.life.serial, len(run.history)))
                except _GONE:
                    self._lost(worker)
                worker.release()
            for run in self._runs:
                run.end(Status.STOPPED)
                run.hosted = False
