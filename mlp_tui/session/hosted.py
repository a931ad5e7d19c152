"""What every backend that trains runs elsewhere shares (worker processes, Ray actors): the runs
as `RemoteRun` views, what faces read, and the controls' meaning, defined once.

A subclass places runs on hosts (`engine.host.UnitHost` in another process), polls them in its
driver loop, and says how a control reaches a host (`_send`) and whether one can now (`_reaches`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.core.contract import Control, LifeRecord, Session
from mlp_tui.core.runs import pauses, planned_runs, select
from mlp_tui.core.task import Task
from mlp_tui.session.remote import RemoteRun

POLL_S = 0.05  # a driver round: each poll briefly takes the GIL from the host's training thread
STOP_GRACE_S = 5.0


def data_shape(cfg: ExperimentConfig):
    """The data as arrays (engine.data.Arrays) and (train rows, validation rows); bad settings
    fail here, before any host is started."""
    from mlp_tui.engine.data import prepare

    arrays = prepare(cfg)
    return arrays, (len(arrays.y), 0 if arrays.y_val is None else len(arrays.y_val))


class HostedSession(Session):
    """A session whose runs train on hosts elsewhere; each backend says how it reaches them."""

    kind = "live"
    controls = frozenset(Control)
    driver_name = "driver"

    def __init__(self, cfg: ExperimentConfig, prepared=None) -> None:
        self._previous: list[RemoteRun] = []
        self._lock = threading.RLock()
        self._closing = self._stopped = False
        self._thread: threading.Thread | None = None
        self._nudge = threading.Event()  # a control was sent: poll now, not at the next round
        self._build(cfg, prepared)

    def _build(self, cfg: ExperimentConfig, prepared=None) -> None:
        """One run per width x grid point x seed, in the thread backend's order (core.runs; each
        hosted with the point's config of single values); `prepared`: what data_shape(cfg)
        returned, when the caller has it already."""
        self.cfg, self.speed = cfg, cfg.speed
        self._arrays, self._shape = prepared or data_shape(cfg)
        self._runs = [
            RemoteRun(i, w, r, p, self._shape, cfg.grid_axes())
            for i, (w, p, r) in enumerate(planned_runs(cfg))
        ]

    # --- what faces read -------------------------------------------------------------------------

    @property
    def config(self) -> ExperimentConfig:
        return self.cfg

    @property
    def task(self) -> Task:
        return self.cfg.kind

    @property
    def runs(self) -> Sequence[RemoteRun]:
        return self._runs

    @property
    def widths(self) -> tuple[int, ...]:
        return self.cfg.widths

    @property
    def has_val(self) -> bool:
        return self.cfg.val_split > 0

    @property
    def ended(self) -> bool:
        return not any(r.active for r in self._runs)

    def lives(self) -> list[LifeRecord]:
        return [life for run in [*self._previous, *self._runs] for life in run.lives()]

    # --- the driver loop -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.driver_name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._closing:
            due = time.monotonic() + POLL_S
            self._round(POLL_S)
            if self._nudge.wait(max(0.0, due - time.monotonic())):
                self._nudge.clear()

    def _queued(self) -> list[RemoteRun]:
        """Runs waiting for a host, the costliest first: with more runs than hosts, a wide run
        started last would finish alone long after the others."""
        return sorted(
            (r for r in self._runs if r.active and not r.hosted),
            key=lambda r: -r.width * r.cfg.depth,
        )

    def _round(self, timeout: float) -> None:  # pragma: no cover - each backend has its own
        raise NotImplementedError

    def _send(self, run: RemoteRun, method: str, *args) -> None:
        raise NotImplementedError

    def _reaches(self, run: RemoteRun) -> bool:
        """A control sent now reaches the run's host (it is placed and built)."""
        return run.hosted

    def _halt(self, timeout: float = STOP_GRACE_S) -> None:
        raise NotImplementedError

    # --- controls --------------------------------------------------------------------------------

    def toggle(self, group: int | str | None = None) -> None:
        """Pause all if any is running, else resume all; a queued run starts paused."""
        runs = select(self._runs, group)
        pause = pauses(runs)
        with self._lock:
            for run in runs:
                if pause and not run.active:
                    continue
                run.want_pause = pause
                self._send(run, "pause" if pause else "resume")
        self._nudge.set()

    def restart(self, group: int | str | None = None) -> None:
        """A fresh life with the next seed: on its host, or queued for one."""
        with self._lock:
            for run in select(self._runs, group):
                if self._closing:
                    return
                if self._reaches(run):
                    self._send(run, "restart")
                    run.want_pause = False
                else:
                    run.relife()
        self._nudge.set()

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        with self._lock:
            for run in self._runs:
                self._send(run, "set_speed", speed)

    def reconfigure(self, cfg: ExperimentConfig) -> None:
        self._halt()
        self._previous.extend(self._runs)
        self._build(cfg)
        self._closing = False
        self.start()
