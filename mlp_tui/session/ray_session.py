"""Live training on a Ray cluster: one actor (one CPU) per run, polled for epoch batches.

Each actor hosts the thread backend's own `Run` (`engine.host.UnitHost`), so the numbers and the
controls are the same. Ray places an actor only on a free CPU and otherwise waits without a word,
so the session places at most as many actors as the cluster had free CPUs; the other runs show
`queued` until a placed run ends and its actor is released.
"""

from __future__ import annotations

import time

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.schema import Status
from mlp_tui.core.text import failure
from mlp_tui.session.hosted import STOP_GRACE_S, HostedSession, data_shape
from mlp_tui.session.ray_cluster import Cluster, connect
from mlp_tui.session.remote import RemoteRun

FREE_CPU_EVERY_S = 0.5  # how often queued runs ask the cluster for free CPUs
REASON_CHARS = 300  # Ray's reasons run over many lines: one line of at most this many


class RaySession(HostedSession):
    """Trains an ExperimentConfig on Ray; every control is supported."""

    driver_name = "ray-driver"

    def __init__(self, cfg: ExperimentConfig, address: str = "auto") -> None:
        prepared = data_shape(cfg)  # bad settings fail here, before any cluster
        self.cluster: Cluster = connect(address)
        import ray

        from mlp_tui.engine.host import UnitHost

        self._ray = ray
        self._host_cls = ray.remote(num_cpus=1)(UnitHost)
        self.address = address
        self.problem: str | None = None
        self._free = 0  # the cluster's free CPUs when last asked
        self._asked = 0.0
        self._hosts: dict[int, object] = {}  # run index -> actor handle
        self._pending: dict[object, RemoteRun] = {}  # poll ref -> run
        super().__init__(cfg, prepared)

    def describe(self) -> list[str]:
        where = "local Ray" if self.cluster.started else f"Ray {self.cluster.address}"
        return [where, *self.cfg.describe()]

    def _round(self, timeout: float) -> None:
        """An actor answers a poll in about a millisecond, and each poll takes the GIL from its
        training thread, so the driver asks once a round (POLL_S), not again at once."""
        self._place()
        self._collect(timeout)

    def _place(self) -> None:
        """Give queued runs an actor while the cluster has a free CPU for each. Ray's count
        lags behind actors still starting, so those are counted here as taken."""
        # The costliest first: with more runs than CPUs, a wide run started last would finish
        # alone long after the others (longest-processing-time-first scheduling).
        queued = self._queued()
        if not queued or self._closing:
            return
        now = time.monotonic()
        if now - self._asked >= FREE_CPU_EVERY_S:
            self._asked, self._free = now, self.cluster.free_cpus()
            starting = sum(1 for r in self._runs if r.hosted and r.started_at is None)
            self._free -= starting
            self.problem = (
                None
                if self._free > 0 or len(self._hosts)
                else (f"no free CPU on the Ray cluster ({self.address}): runs stay queued")
            )
        with self._lock:
            for run in queued:
                if self._free < 1 or self._closing or run.hosted or not run.active:
                    return
                self._free -= 1
                member = (run.index, run.width, run.repeat, run.seed)
                host = self._host_cls.remote(run.cfg, [member], self._arrays)
                run.hosted, run.placed_at, run.started_at = True, time.monotonic(), None
                self._hosts[run.index] = host
                host.set_speed.remote(run.index, self.speed)
                if run.want_pause:
                    host.pause.remote(run.index)
                host.start.remote()
                self._pending[host.poll.remote(run.index, 0, 0)] = run

    def _collect(self, timeout: float) -> None:
        """Apply the polls that answered; ask again; release the actors of ended runs."""
        ray = self._ray
        refs = list(self._pending)
        if not refs:
            return
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
        for ref in ready:
            run = self._pending.pop(ref)
            try:
                batch = ray.get(ref)
            except Exception as exc:  # the actor or its node died: this run only
                run.end(Status.FAILED, failure(exc, REASON_CHARS))
                self._release(run)
                continue
            run.apply(batch)
            if run.active:
                host = self._hosts.get(run.index)
                if host is not None:
                    poll = host.poll.remote(run.index, run.life.serial, len(run.history))
                    self._pending[poll] = run
            else:
                self._release(run)

    def _release(self, run: RemoteRun) -> None:
        with self._lock:
            host = self._hosts.pop(run.index, None)
            run.hosted = False
        if host is not None:
            self._ray.kill(host)

    # --- controls (their meaning: HostedSession) ------------------------------------------------

    def _send(self, run: RemoteRun, method: str, *args) -> None:
        host = self._hosts.get(run.index)
        if host is not None:
            getattr(host, method).remote(run.index, *args)

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop every run, take the epochs the actors computed, kill every actor; a local Ray
        started here is shut down. True when nothing is left running."""
        if not self._stopped:  # idempotent: a Ray call after shutdown would start a new Ray
            self._stopped = True
            self._halt(max(timeout, STOP_GRACE_S))
            self.cluster.close()
        return True

    def _halt(self, timeout: float = STOP_GRACE_S) -> None:
        ray = self._ray
        with self._lock:
            self._closing = True
            self._nudge.set()  # the driver leaves its wait now
            hosts = dict(self._hosts)
        if self._thread is not None:
            self._thread.join(timeout)
        for run in self._runs:
            if run.index not in hosts:
                run.end(Status.STOPPED)
        stops = [h.stop.remote() for h in hosts.values()]
        if stops:
            ray.wait(stops, num_returns=len(stops), timeout=timeout)
        for run in self._runs:
            host = hosts.get(run.index)
            if host is None:
                continue
            try:
                poll = host.poll.remote(run.index, run.life.serial, len(run.history))
                run.apply(ray.get(poll, timeout=2))
            except Exception as exc:
                run.end(Status.FAILED, failure(exc, REASON_CHARS))
            run.end(Status.STOPPED)
            ray.kill(host)
        with self._lock:
            self._hosts.clear()
            self._pending.clear()
            for run in self._runs:
                run.hosted = False
