"""A fair turn for computing, shared by the runs of one experiment."""

from __future__ import annotations

import collections
import threading


class Baton:
    """First come, first served: one run computes at a time, in slices (see `cadence.SLICE_S`).

    Python threads cannot compute in parallel anyway (the GIL), but several threads that each
    enter torch's OpenMP regions each bring a team of intra-op threads, and those teams fight for
    the cores. Taking turns keeps every run advancing evenly and gives the running turn every
    core (with `--threads 0`); with one intra-op thread each (the default) the runs still gain
    from it (figures: docs/benchmarks.md).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque[int] = collections.deque()
        self._held = False

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if not self._held and not self._queue:
                self._held = True
                return
            self._queue.append(me)
            while self._held or self._queue[0] != me:
                self._cond.wait()
            self._queue.popleft()
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            if self._queue:
                self._cond.notify_all()

    def pass_turn(self) -> None:
        """Let the runs that wait go first; return at once when nobody waits."""
        if self._queue:
            self.release()
            self.acquire()
