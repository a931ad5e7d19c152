"""Pace (epochs per second) and the measured rate of one run: plain arithmetic on clock reads."""

from __future__ import annotations

import collections

MAX_PACE_DEBT_S = 0.25  # a paced run behind schedule by more than this forgets the debt
RATE_WINDOW_S = 2.0  # the measured rate covers about this much recent wall-clock time
RATE_MIN_SPAN_S = 0.2  # shorter than this, a rate is not known yet


class Pacer:
    """Holds a run to `speed` epochs a second (0 = unthrottled) from a base point."""

    def __init__(self, speed: float, now: float, k: int = 0) -> None:
        self.speed = speed
        self.base_t, self.base_k = now, k

    @property
    def paced(self) -> bool:
        return self.speed > 0

    def reset(self, now: float, k: int) -> None:
        self.base_t, self.base_k = now, k

    def set_speed(self, speed: float, now: float, k: int) -> None:
        self.speed = speed
        self.reset(now, k)

    def due(self, k: int) -> float:
        """The clock time at which epoch k is due."""
        return self.base_t + (k - self.base_k) / self.speed

    def ahead(self, k: int, now: float) -> float:
        """Seconds this run is ahead of its schedule after k epochs (> 0: it should wait). A run
        that fell far behind (a busy machine) forgets the debt rather than bursting."""
        if not self.paced:
            return 0.0
        ahead = self.due(k) - now
        if ahead < -MAX_PACE_DEBT_S:
            self.reset(now, k)
        return ahead


class RateMeter:
    """Epochs per second over the last RATE_WINDOW_S of wall-clock time; None until known."""

    def __init__(self) -> None:
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self.value: float | None = None

    def reset(self) -> None:
        """Forget the past (a pause or a restart): the rate is unknown until measured again."""
        self._samples.clear()
        self.value = None

    def add(self, now: float, k: int) -> None:
        s = self._samples
        s.append((now, k))
        while len(s) > 2 and now - s[1][0] >= RATE_WINDOW_S:
            s.popleft()
        t0, k0 = s[0]
        if now - t0 >= RATE_MIN_SPAN_S:
            self.value = (k - k0) / (now - t0)
