"""Bounded-size views of unbounded histories, for plotting.

`SeriesTrack` follows one run's history incrementally (only the epochs new since the last tick are
touched), optionally smooths them with a debiased EMA over the *full* series, and folds them into at
most `CAPACITY` min/max buckets. A redraw therefore costs the same at epoch 100 and epoch 10^6.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass

import numpy as np

from mlp_tui.core.history import History
from mlp_tui.report.stats import STD_DDOF

CAPACITY = 1024  # buckets kept per series; a plot never shows more than a few hundred columns
READ_CHUNK = 65_536  # epochs read from a history at once
WINDOW_MAX = 1000  # the widest zoom window: its epochs are kept at full resolution


def ema_debiased(values: np.ndarray, weight: float, state: tuple[float, int] = (0.0, 0)):
    """Debiased exponential moving average (as TensorBoard smooths): the first point equals the
    raw first point. Non-finite inputs pass through unsmoothed and leave the average alone.
    Returns (smoothed, new_state) so that a series can be smoothed chunk by chunk."""
    out = np.empty(len(values), dtype=np.float64)
    acc, n = state
    if weight <= 0:
        return values.astype(np.float64), state
    for i, v in enumerate(values.tolist()):
        if not math.isfinite(v):
            out[i] = v
            continue
        acc = weight * acc + (1.0 - weight) * v
        n += 1
        out[i] = acc / (1.0 - weight**n)
    return out, (acc, n)


@dataclass
class Buckets:
    """Min/max buckets: for each, its last epoch, its last elapsed time, min, max, last value."""

    epoch: np.ndarray
    elapsed: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.epoch)


class SeriesTrack:
    """One metric of one run's current life, followed incrementally."""

    def __init__(self, history: History, metric: str = "train_loss", smoothing: float = 0.0):
        self.history = history
        self.metric = metric
        self.smoothing = smoothing
        self.stride = 1  # epochs per full bucket
        self.cursor = 0  # epochs consumed
        self._ema_state: tuple[float, int] = (0.0, 0)
        # Full buckets, as parallel lists of floats.
        self._epoch: list[float] = []
        self._elapsed: list[float] = []
        self._min: list[float] = []
        self._max: list[float] = []
        self._last: list[float] = []
        # The bucket being filled.
        self._part: list[float] | None = None  # [count, epoch, elapsed, min, max, last]
        self._tail: collections.deque[tuple[float, float, float]] = collections.deque(
            maxlen=WINDOW_MAX
        )  # the latest epochs, unbucketed, for a zoomed x-window

    def update(self) -> int:
        """Fold in the epochs recorded since the last call; returns how many were new. Reads in
        chunks of READ_CHUNK, so catching up on a million epochs needs little memory."""
        total = 0
        while True:
            start = self.cursor
            values = self.history.column(self.metric, start, start + READ_CHUNK)
            n = len(values)
            if not n:
                return total
            values[~np.isfinite(values)] = np.nan
            epochs, elapsed = self.history.axis(self.metric, start, start + n)  # a log: its steps
            if self.smoothing > 0:
                values, self._ema_state = ema_debiased(values, self.smoothing, self._ema_state)
            for e, t, v in zip(epochs, elapsed, values.tolist()):
                self._add(e, t, v)
            self.cursor += n
            total += n

    def _add(self, epoch: int, elapsed: float, v: float) -> None:
        self._tail.append((epoch, elapsed, v))
        finite = math.isfinite(v)
        p = self._part
        if p is None:
            p = self._part = [0, epoch, elapsed, math.inf, -math.inf, math.nan]
        p[0] += 1
        p[1], p[2] = epoch, elapsed
        if finite:
            if v < p[3]:
                p[3] = v
            if v > p[4]:
                p[4] = v
            p[5] = v
        if p[0] >= self.stride:
            self._push(p)
            self._part = None

    def _push(self, p: list[float]) -> None:
        lo, hi = (p[3], p[4]) if p[3] <= p[4] else (math.nan, math.nan)
        self._epoch.append(p[1])
        self._elapsed.append(p[2])
        self._min.append(lo)
        self._max.append(hi)
        self._last.append(p[5])
        if len(self._epoch) >= CAPACITY:
            self._halve()

    def _halve(self) -> None:
        """Merge neighbouring buckets pairwise and double the stride."""
        self._epoch = self._epoch[1::2]
        self._elapsed = self._elapsed[1::2]
        self._last = self._last[1::2]
        mn, mx = self._min, self._max
        self._min = [_fmin(a, b) for a, b in zip(mn[0::2], mn[1::2])]
        self._max = [_fmax(a, b) for a, b in zip(mx[0::2], mx[1::2])]
        self.stride *= 2

    def buckets(self) -> Buckets:
        """Full buckets plus the partial one, as arrays."""
        ep, el, mn, mx, la = self._epoch, self._elapsed, self._min, self._max, self._last
        if self._part is not None:
            p = self._part
            lo, hi = (p[3], p[4]) if p[3] <= p[4] else (math.nan, math.nan)
            ep, el, mn, mx, la = ep + [p[1]], el + [p[2]], mn + [lo], mx + [hi], la + [p[5]]
        return Buckets(
            np.asarray(ep, dtype=np.float64),
            np.asarray(el, dtype=np.float64),
            np.asarray(mn, dtype=np.float64),
            np.asarray(mx, dtype=np.float64),
            np.asarray(la, dtype=np.float64),
        )


    def window(self, n: int) -> Buckets:
        """The last `n` (at most WINDOW_MAX) epochs, one bucket each."""
        tail = list(self._tail)[-n:]
        arr = np.asarray(tail, dtype=np.float64).reshape(-1, 3)
        v = arr[:, 2]
        return Buckets(arr[:, 0], arr[:, 1], v, v, v)


def _fmin(a: float, b: float) -> float:
    if a != a:  # NaN
        return b
    return a if b != b or a <= b else b


def _fmax(a: float, b: float) -> float:
    if a != a:
        return b
    return a if b != b or a >= b else b


def points(b: Buckets, max_points: int, x_mode: str = "epoch") -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` (x, y) points that keep each bucket's min and max (so a spike to 60
    stays visible however long the run). NaN buckets are dropped."""
    if not len(b):
        return np.empty(0), np.empty(0)
    x = b.epoch if x_mode == "epoch" else b.elapsed
    group = max(1, math.ceil(2 * len(b) / max(2, max_points)))
    n = len(b) // group * group
    xs, lo, hi = x, b.vmin, b.vmax
    if group > 1:
        head_x = x[:n].reshape(-1, group)[:, -1]
        with np.errstate(all="ignore"):
            head_lo = np.fmin.reduce(lo[:n].reshape(-1, group), axis=1)
            head_hi = np.fmax.reduce(hi[:n].reshape(-1, group), axis=1)
        xs = np.concatenate([head_x, x[n:]])
        lo = np.concatenate([head_lo, lo[n:]])
        hi = np.concatenate([head_hi, hi[n:]])
    same = lo == hi
    px = np.repeat(xs, 2)
    py = np.column_stack([hi, lo]).ravel()
    keep = np.ones(len(px), dtype=bool)
    keep[1::2] = ~same  # a one-value bucket gives one point
    keep &= np.isfinite(py)
    return px[keep], py[keep]


def last_points(
    b: Buckets, max_points: int, x_mode: str = "epoch"
) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points, each a bucket's last value at its last x: the value the
    run had at that epoch, exactly (what a band across seeds is built from)."""
    if not len(b):
        return np.empty(0), np.empty(0)
    x = b.epoch if x_mode == "epoch" else b.elapsed
    group = max(1, math.ceil(len(b) / max(1, max_points)))
    # Keep the newest point: groups end at the last bucket.
    idx = np.arange(len(b) - 1, -1, -group)[::-1]
    xs, ys = x[idx], b.last[idx]
    keep = np.isfinite(ys)
    return xs[keep], ys[keep]


@dataclass
class Band:
    """Seeds of one width on one x-grid: their mean, min, max and std at each x."""

    x: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    std: np.ndarray


def band(series: list[tuple[np.ndarray, np.ndarray]]) -> Band:
    """Pool seeds on the x-grid of the one that has come least far (no seed is extrapolated);
    points between a seed's own samples are interpolated linearly."""
    series = [(x, y) for x, y in series if len(x)]
    if not series:
        e = np.empty(0)
        return Band(e, e, e, e, e)
    base_x = min(series, key=lambda s: s[0][-1])[0]
    stacked = np.vstack([np.interp(base_x, x, y) for x, y in series])
    return Band(base_x, stacked.mean(axis=0), stacked.min(axis=0), stacked.max(axis=0),
                stacked.std(axis=0, ddof=STD_DDOF) if len(stacked) > 1 else np.zeros(len(base_x)))


def y_range(
    ys: list[np.ndarray], robust: bool = False, log: bool = False
) -> tuple[float, float] | None:
    """The y-range to show: everything, or the 5th-95th percentile plus a margin."""
    finite = [y[np.isfinite(y)] for y in ys if len(y)]
    finite = [y for y in finite if len(y)]
    if not finite:
        return None
    allv = np.concatenate(finite)
    if robust and len(allv) >= 4:
        lo, hi = np.percentile(allv, [5, 95])
        pad = 0.15 * (hi - lo) if hi > lo else max(abs(hi) * 0.1, 1e-3)
        lo, hi = lo - pad, hi + pad
        lo = max(lo, float(allv.min()))
    else:
        lo, hi = float(allv.min()), float(allv.max())
    if hi <= lo:
        pad = max(abs(hi) * 0.05, 1e-3 if not log else 0.05)
        lo, hi = lo - pad, hi + pad
    return float(lo), float(hi)


def log_values(y: np.ndarray) -> np.ndarray:
    """log10 of the positive values; zero and negatives become NaN (skipped)."""
    out = np.full(len(y), np.nan)
    pos = y > 0
    out[pos] = np.log10(y[pos])
    return out


def mean_series(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean of several (x, y) series on the x-grid of the shortest one (for repeats)."""
    series = [(x, y) for x, y in series if len(x)]
    if not series:
        return np.empty(0), np.empty(0)
    base_x = min(series, key=lambda s: s[0][-1])[0]
    stacked = [np.interp(base_x, x, y) for x, y in series]
    return base_x, np.mean(stacked, axis=0)
