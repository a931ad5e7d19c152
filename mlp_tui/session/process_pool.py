"""Worker processes for `--backend process`: each hosts one unit of work at a time, a run or a
stack of seeds (`engine.host.UnitHost`).

A worker is a `multiprocessing.managers.BaseManager` server started with the `spawn` context
(never a fork of a process with threads): the standard library carries the calls and the epoch
batches, no home-made protocol. A worker outlives its unit and takes the next queued one. It dies
with its parent, however the parent dies (kill -9 included): a watchdog thread in the worker exits
it within WATCHDOG_S once its parent is gone (the orphan is re-parented). PR_SET_PDEATHSIG is not
used: it fires when the *thread* that started the worker ends, and the driver thread that starts
workers ends before the session has collected their last epochs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.managers import BaseManager

from mlp_tui.engine.host import UnitHost

WATCHDOG_S = 0.5


class _Worker(BaseManager):
    pass


_Worker.register("UnitHost", UnitHost)


def _die_with_parent(parent: int) -> None:
    """In the worker, before it serves: exit as soon as the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ctrl+c is for the parent
    if os.getppid() != parent:  # the parent died while this process started
        os._exit(1)
    import torch  # noqa: F401  # the slow imports, while the pool starts (no scikit-learn:

    # a host gets its data as arrays)
    import mlp_tui.engine.data  # noqa: F401
    import mlp_tui.engine.worker  # noqa: F401

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class Worker:
    """One worker process and the unit it hosts (a proxy to its UnitHost)."""

    def __init__(self) -> None:
        self._manager = _Worker(ctx=multiprocessing.get_context("spawn"))
        self._manager.start(initializer=_die_with_parent, initargs=(os.getpid(),))
        # The manager's process: multiprocessing has no public accessor for it (pid, exit code).
        self._process: multiprocessing.Process = self._manager._process  # type: ignore[attr-defined]
        self.host = None
        self.unit: tuple[int, ...] = ()  # the indices of the runs it hosts

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def death(self) -> str:
        """Why the process ended, as the user reads it."""
        proc = self._process
        proc.join(1.0)
        code = proc.exitcode
        if code is None:
            return f"worker process {proc.pid} stopped answering"
        if code < 0:
            return f"worker process {proc.pid} was killed by {signal.Signals(-code).name}"
        return f"worker process {proc.pid} exited with status {code}"

    def new_host(self, cfg, members: list[tuple[int, int, int, int]], arrays):
        """A UnitHost in the worker (slow the first time: the worker imports torch)."""
        return self._manager.UnitHost(cfg, members, arrays)  # type: ignore[attr-defined]

    def release(self) -> None:
        self.host = None  # the proxy's decref lets the worker drop its UnitHost
        self.unit = ()

    def close(self, timeout: float = 5.0) -> None:
        """End the process: asked first, then terminated, then killed."""
        self.host = None
        proc = self._process
        with contextlib.suppress(Exception):
            self._manager.shutdown()
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
