"""What the screen shows, derived from the engine: plot settings, plot spec and table rows.

Pure Python (no Textual), so the whole path from a run's history to what is drawn can be tested
without a terminal. The app calls `Monitor.tick()` about 12 times a second.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mlp_tui.schema import METRIC_NAMES, METRIC_TITLES, Health, Status
from mlp_tui.series import (
    SMOOTHING,
    SeriesTrack,
    log_values,
    mean_series,
    points,
    y_range,
)
from mlp_tui.session.base import RunView

PALETTE = (39, 208, 76, 171, 220, 44, 141, 214, 33, 118, 205, 51, 99, 178, 69, 166)


def run_color(i: int) -> int:
    """Stable 256-colour index for the i-th width; the table repeats it as a swatch."""
    return PALETTE[i % len(PALETTE)]


@dataclass
class PlotSeries:
    label: str
    color: int
    x: np.ndarray
    y: np.ndarray
    index: int = 0  # the width's place: colour and monochrome marker follow it


@dataclass
class PlotSpec:
    """Everything one build needs; equal specs give equal pictures."""

    series: list[PlotSeries] = field(default_factory=list)
    title: str = "train loss"
    x_label: str = "epoch"
    y_label: str = "loss"
    y_range: tuple[float, float] | None = None
    x_range: tuple[float, float] | None = None
    log: bool = False
    grid: bool = False
    message: str = ""


@dataclass(frozen=True)
class RowState:
    """What one row shows; the app computes it from the engine, the table only renders it."""

    key: str
    color: int
    index: int  # the width's place: its colour and monochrome marker
    width: int
    status: Status
    health: Health
    epoch: int
    total: int
    loss: float | None
    loss_std: float | None
    best: float | None
    best_epoch: int | None
    trend: tuple[float, ...]
    eps: float | None
    seed: str
    acc: float | None = None
    val_loss: float | None = None
    val_acc: float | None = None
    hidden: bool = False


def pooled(values: list[float]) -> tuple[float | None, float | None]:
    """Mean and standard deviation of the finite values (std None for a single run)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return (values[0] if values else None), None
    if len(values) == 1:
        return vals[0], None
    return statistics.fmean(vals), statistics.pstdev(vals)


def x_range(xs: list[np.ndarray]) -> tuple[float, float] | None:
    xs = [x for x in xs if len(x)]
    if not xs:
        return None
    return float(min(x[0] for x in xs)), float(max(x[-1] for x in xs))


@dataclass
class ViewSettings:
    """The plot controls, each bound to a key."""

    metric: str = "train_loss"
    log: bool | None = None  # None: chosen from the data (see `auto_scale`)
    smoothing: int = 0  # index into SMOOTHING
    robust: bool | None = None  # None: chosen from the data and the plot's height
    x_mode: str = "epoch"  # or "seconds"
    grid: bool = False
    hidden: set[int] = field(default_factory=set)  # widths hidden from the plot

    @property
    def smoothing_weight(self) -> float:
        return SMOOTHING[self.smoothing]

    def describe(self, scale: Scale) -> str:
        """The view bar: each setting with its key; a choice made from the data says so."""
        smooth = "off" if not self.smoothing else f"ema {self.smoothing_weight}"
        log = ("log" if scale.log else "linear") + (" (auto)" if self.log is None else "")
        robust = ("5-95%" if scale.robust else "all") + (" (auto)" if self.robust is None else "")
        parts = [
            f"m:{METRIC_TITLES[self.metric]}",
            f"l:y {log}",
            f"o:range {robust}",
            f"s:smooth {smooth}",
            f"x:{self.x_mode}",
            f"g:{'grid' if self.grid else 'overlay'}",
        ]
        if self.hidden:
            parts.append("v:hidden " + ",".join(str(w) for w in sorted(self.hidden)))
        return "  ".join(parts)

    def metrics(self, has_val: bool) -> tuple[str, ...]:
        return METRIC_NAMES if has_val else tuple(m for m in METRIC_NAMES if "val" not in m)


@dataclass(frozen=True)
class Scale:
    """The y-scale in effect: the user's choice, or the automatic one."""

    log: bool = False
    robust: bool = False


AUTO_LOG_RATIO = 30.0  # positive data spanning more than this ratio is shown on a log axis
AUTO_ROBUST_SHARE = 0.5  # clip outliers when the 5-95% range is under this share of the whole
AUTO_ROBUST_ROWS = 20  # ... and the plot has fewer rows than this (a spike flattens the rest)


def auto_scale(ys: list[np.ndarray], settings: ViewSettings, rows: int) -> Scale:
    """Log when the visible values span a large ratio (an early spike over a falling loss), and
    an outlier-robust range on a short plot where the whole range would put every final value
    on one row. An explicit `l` or `o` choice always wins."""
    finite = [y[np.isfinite(y)] for y in ys]
    values = np.concatenate(finite) if finite else np.empty(0)
    log = settings.log
    if log is None:
        positive = bool(len(values)) and values.min() > 0
        log = positive and values.max() / values.min() > AUTO_LOG_RATIO
    robust = settings.robust
    if robust is None:
        robust = False
        if len(values) >= 4 and rows < AUTO_ROBUST_ROWS:
            v = np.log10(values[values > 0]) if log else values
            if len(v) >= 4:
                lo, hi = np.percentile(v, [5, 95])
                span = v.max() - v.min()
                robust = bool(span > 0 and hi - lo < AUTO_ROBUST_SHARE * span)
    return Scale(log, robust)


MAX_PLOTTED = 16  # widths drawn at once: those around the table's cursor


class Monitor:
    """Follows the plotted runs incrementally and turns them into a PlotSpec and table rows.
    With more widths than MAX_PLOTTED, the plot shows those around the cursor (`focus`), and
    only those are followed: the cost of a tick does not grow with the number of runs."""

    def __init__(self, session) -> None:
        self.session = session
        self.settings = ViewSettings()
        self.tracks: dict[int, SeriesTrack] = {}
        self.plot_dirty = True
        self.scale = Scale()  # the scale of the last plot built
        self.focus = 0  # the table row under the cursor
        self._groups: tuple[object, int, dict[int, list[RunView]]] = (None, -1, {})
        self._rows: dict[int, tuple[tuple, RowState]] = {}

    @property
    def runs(self) -> Sequence[RunView]:
        return self.session.runs

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(self.groups())

    def groups(self) -> dict[int, list[RunView]]:
        """Runs by width, in the session's order (rebuilt only when runs come or go)."""
        runs = self.runs
        if self._groups[0] is not runs or self._groups[1] != len(runs):
            groups: dict[int, list[RunView]] = {}
            for r in list(runs):
                groups.setdefault(r.width, []).append(r)
            self._groups = (runs, len(runs), groups)
        return self._groups[2]

    def group(self, width: int) -> list[RunView]:
        return self.groups().get(width, [])

    def plotted(self) -> list[tuple[int, int]]:
        """(place, width) of the widths in the plot: all, or MAX_PLOTTED around the cursor."""
        widths = list(self.groups())
        start = 0
        if len(widths) > MAX_PLOTTED:
            start = min(max(0, self.focus - MAX_PLOTTED // 2), len(widths) - MAX_PLOTTED)
        return list(enumerate(widths))[start : start + MAX_PLOTTED]

    def _track(self, run: RunView) -> SeriesTrack:
        t = self.tracks.get(run.index)
        s = self.settings
        if (
            t is None
            or t.history is not run.history
            or t.metric != s.metric
            or t.smoothing != s.smoothing_weight
        ):
            t = SeriesTrack(run.history, s.metric, s.smoothing_weight)
            self.tracks[run.index] = t
            self.plot_dirty = True
        return t

    def changed(self) -> None:
        """Settings changed: rebuild tracks lazily and redraw."""
        self.plot_dirty = True

    def tick(self) -> bool:
        """Fold in new epochs of the plotted runs; True if the plot needs a redraw."""
        keep = set()
        for _i, width in self.plotted():
            for run in self.group(width):
                keep.add(run.index)
                if self._track(run).update():
                    self.plot_dirty = True
        for index in [k for k in self.tracks if k not in keep]:
            del self.tracks[index]  # scrolled out of the plot
            self.plot_dirty = True
        return self.plot_dirty

    def plot_spec(self, max_points: int, rows: int = 40) -> PlotSpec:
        """The plot of the visible runs, downsampled to `max_points` per series, for a plot
        about `rows` rows high."""
        s = self.settings
        self.plot_dirty = False
        series: list[PlotSeries] = []
        for i, width in self.plotted():
            if width in s.hidden:
                continue
            runs = self.group(width)
            pts = [points(self._track(r).buckets(), max_points, s.x_mode) for r in runs]
            if len(runs) > 1:
                x, y = mean_series([(px, py) for px, py in pts])
                label = f"w={width} (mean of {len(runs)})"
            else:
                x, y = pts[0]
                label = f"w={width}"
            series.append(PlotSeries(label, run_color(i), x, y, i))
        self.scale = scale = auto_scale([p.y for p in series], s, rows)
        if scale.log:
            for p in series:
                y = log_values(p.y)
                keep = np.isfinite(y)
                p.x, p.y = p.x[keep], y[keep]
        title = METRIC_TITLES[s.metric]
        if s.smoothing:
            title += f" (ema {s.smoothing_weight})"
        if scale.log:
            title += " · log scale"
        return PlotSpec(
            series=series,
            title=title,
            x_label="epoch" if s.x_mode == "epoch" else "seconds",
            y_label=METRIC_TITLES[s.metric],
            y_range=y_range([p.y for p in series], robust=scale.robust, log=scale.log),
            x_range=x_range([p.x for p in series]),
            log=scale.log,
            grid=s.grid,
            message="waiting for the first epoch…",
        )

    def rows(self) -> list[RowState]:
        """One row per width; a row is recomputed only when one of its runs changed."""
        out = []
        for i, (width, runs) in enumerate(self.groups().items()):
            key = (width in self.settings.hidden, *(_run_key(r) for r in runs))
            cached = self._rows.get(width)
            if cached is None or cached[0] != key:
                cached = (key, _row(i, width, runs, key[0]))
                self._rows[width] = cached
            out.append(cached[1])
        return out


def _run_key(r: RunView) -> tuple:
    return (id(r.history), len(r.history), r.status, r.health, r.epochs_per_s, r.seed)


def _row(i: int, width: int, runs: list[RunView], hidden: bool) -> RowState:
    lasts = [r.history.last() for r in runs]
    loss, std = pooled([rec["train_loss"] if rec else None for rec in lasts])
    acc, _ = pooled([rec["train_acc"] if rec else None for rec in lasts])
    vloss, _ = pooled([rec["val_loss"] if rec else None for rec in lasts])
    vacc, _ = pooled([rec["val_acc"] if rec else None for rec in lasts])
    bests = [r.history.best("train_loss") for r in runs]
    bests = [b for b in bests if b[1] is not None]
    best = min(bests) if bests else (None, None)
    trend = tuple(runs[0].history.tail("train_loss", 10)) if len(runs) == 1 else ()
    rates = [r.epochs_per_s for r in runs if r.epochs_per_s is not None]
    seeds = [r.seed for r in runs]
    return RowState(
        key=str(width),
        color=run_color(i),
        index=i,
        width=width,
        status=group_status([r.status for r in runs]),
        health=group_health([r.health for r in runs]),
        epoch=min(len(r.history) for r in runs),
        total=max(r.total for r in runs),
        loss=loss,
        loss_std=std,
        best=best[0],
        best_epoch=best[1],
        trend=trend,
        eps=sum(rates) / len(rates) if rates else None,
        seed=str(seeds[0]) if len(seeds) == 1 else f"{min(seeds)}..{max(seeds)}",
        acc=acc,
        val_loss=vloss,
        val_acc=vacc,
        hidden=hidden,
    )


# The most telling status (health) of a group of repeats comes first.
_STATUS_ORDER = (
    Status.FAILED,
    Status.DIVERGED,
    Status.RUNNING,
    Status.PAUSED,
    Status.QUEUED,
    Status.STOPPED,
    Status.FINISHED,
)
_HEALTH_ORDER = (Health.DIVERGING, Health.CHANCE, Health.STALLED, Health.OK)


def group_status(statuses: list[Status]) -> Status:
    return min(statuses, key=_STATUS_ORDER.index)


def group_health(healths: list[Health]) -> Health:
    return min(healths, key=_HEALTH_ORDER.index)


ALL_ENDED = "all runs ended"


def overall_state(statuses: list[Status]) -> str:
    """The header's word: running while any run trains, paused while the rest wait, and
    'all runs ended' once every run has ended, however each ended."""
    if any(s is Status.RUNNING for s in statuses):
        return Status.RUNNING.value
    if any(s is Status.PAUSED for s in statuses):
        return Status.PAUSED.value
    if any(s is Status.QUEUED for s in statuses):  # every run waits for a worker (or a CPU)
        return Status.QUEUED.value
    return ALL_ENDED


def fmt_speed(speed: float | None) -> str:
    if speed is None:
        return ""
    if speed <= 0:
        return "unthrottled"
    return f"{speed:g} ep/s"


def fmt_rate(rate: float | None) -> str:
    """A measured rate; blank when not known."""
    return "" if rate is None else f"{rate:.0f} ep/s"


def fmt_num(v: float | int | None, spec: str = ".4f") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return format(v, spec)
