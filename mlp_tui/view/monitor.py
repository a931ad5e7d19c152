"""What the screen shows, derived from the session: the plot spec, the table rows, the readout.

Pure Python (no Textual), so the whole path from a run's history to what is drawn can be tested
without a terminal. The app calls `Monitor.tick()` about 12 times a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlp_tui.core.config import GRID_FIELDS
from mlp_tui.core.contract import RunView, Session
from mlp_tui.core.grid import group_name
from mlp_tui.core.schema import Status
from mlp_tui.core.text import middle
from mlp_tui.report.capacity import capacity_points
from mlp_tui.view.fmt import fmt_ago, fmt_speed
from mlp_tui.view.plotspec import Mark, PlotSeries, PlotSpec, finish_spec
from mlp_tui.view.rows import (
    NAME_MAX,
    RowState,
    make_row,
    overall_state,
    run_color,
    run_counts,
    run_key,
)
from mlp_tui.view.series import SeriesTrack, band, last_points, points
from mlp_tui.view.settings import (
    Scale,
    ViewSettings,
    axis_title,
    bounded,
    series_metrics,
    view_title,
)
from mlp_tui.view.sharpness import SHARPNESS, sharpness_view

MAX_PLOTTED = 16  # groups drawn at once: those around the table's cursor
Group = int | str  # a width, or in a grid the configuration's name (`w=5 d=2 lr=0.01`)
BEST_MARK = "◆"


class Monitor:
    """Follows the plotted runs incrementally and turns them into a PlotSpec and table rows.
    With more widths than MAX_PLOTTED, the plot shows those around the cursor (`focus`), and
    only those are followed: the cost of a tick does not grow with the number of runs."""

    def __init__(self, session: Session, settings: ViewSettings | None = None) -> None:
        self.session = session
        self.settings = settings or ViewSettings()
        self.tracks: dict[tuple[int, str, float], SeriesTrack] = {}
        self.plot_dirty = True
        self.scale = Scale()  # the scale of the last plot built
        self._scale_view: tuple = ()  # the view it was built for
        self.focus = 0  # the table row under the cursor
        self.x_span: tuple[float, float] | None = None  # the x-range of the last plot built
        self._groups: tuple[object, int, dict[Group, list[RunView]]] = (None, -1, {})
        self._colors: dict[Group, int] = {}  # a group's colour: its place
        self._rows: dict[Group, tuple[tuple, RowState]] = {}
        self._progress: tuple = ()

    @property
    def runs(self) -> Sequence[RunView]:
        return self.session.runs

    @property
    def has_val(self) -> bool:
        return self.session.has_val

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(self.groups())

    @property
    def repeats(self) -> int:
        """How many groups have repeats (seeds pooled): 0 when none."""
        return sum(len(g) > 1 for g in self.groups().values())

    def header_facts(self) -> tuple[str, list[str]]:
        """The header's state word (never cut off) and what follows it: how long a followed
        file has been quiet, the session's facts, the run counts of a grid, the speed."""
        s = self.session
        statuses = [r.status for r in s.runs]
        state = "loading torch…" if s.loading else overall_state(statuses)
        parts = s.describe()
        waits = [w for w in (r.waiting_s for r in s.runs) if w is not None]
        if state == Status.WAITING.value and waits:
            parts.insert(0, f"last epoch {fmt_ago(min(waits))}")
        if any(isinstance(k, str) for k in self.groups()) or Status.QUEUED in statuses:
            parts.append(run_counts(statuses))  # a grid, or runs waiting for a worker
        if s.speed is not None:
            parts.append(fmt_speed(s.speed))
        return state, parts

    def groups(self) -> dict[Group, list[RunView]]:
        """Runs by configuration (seeds pooled), in the session's order, rebuilt only when runs
        come or go: by width, or in a grid by the name of the settings that vary."""
        runs = self.runs
        if self._groups[0] is not runs or self._groups[1] != len(runs):
            listed = list(runs)
            metas = [r.meta for r in listed]
            axes = [f for f in GRID_FIELDS if len({repr(m.get(f)) for m in metas}) > 1]
            groups: dict[Group, list[RunView]] = {}
            self._colors = {}
            for r, m in zip(listed, metas):
                key = group_name(r.width, {a: m[a] for a in axes}) if axes else r.width
                groups.setdefault(key, []).append(r)
                self._colors.setdefault(key, len(self._colors))
            self._groups = (runs, len(runs), groups)
        return self._groups[2]

    def group(self, key: Group) -> list[RunView]:
        return self.groups().get(key, [])

    def color_of(self, key: Group, place: int) -> int:
        """A group's colour place: its own place, so every curve group has a colour of its own
        (and past the palette, a marker of its own)."""
        return self._colors.get(key, place)

    def name_of(self, key: Group) -> str:
        return key if isinstance(key, str) else f"w={key}"

    def plotted(self) -> list[tuple[int, Group]]:
        """(place, group) of the groups in the plot: all, or MAX_PLOTTED around the cursor."""
        widths = list(self.groups())
        start = 0
        if len(widths) > MAX_PLOTTED:
            start = min(max(0, self.focus - MAX_PLOTTED // 2), len(widths) - MAX_PLOTTED)
        return list(enumerate(widths))[start : start + MAX_PLOTTED]

    def visible(self) -> list[tuple[int, Group]]:
        return [(i, w) for i, w in self.plotted() if w not in self.settings.hidden]

    def metrics(self) -> tuple[str, ...]:
        offered = self.session.metrics  # a session's own (TensorBoard tags)
        if offered and self.settings.metric not in offered:
            self.settings.metric = offered[0]
        return series_metrics(self.settings.metric, self.has_val, self.session.task)

    def _wanted(self) -> list[tuple[RunView, str, float]]:
        """(run, metric, smoothing) of every series the plot draws: the smoothed curve, and the
        raw one behind it when smoothing a single run."""
        s = self.settings
        out = []
        for _i, width in self.plotted():
            runs = self.group(width)
            for metric in self.metrics():
                for run in runs:
                    out.append((run, metric, s.smoothing))
                    if s.smoothing and len(runs) == 1:
                        out.append((run, metric, 0.0))
        return out

    def _track(self, run: RunView, metric: str, smoothing: float) -> SeriesTrack:
        key = (run.index, metric, smoothing)
        t = self.tracks.get(key)
        if t is None or t.history is not run.history:
            t = SeriesTrack(run.history, metric, smoothing)
            self.tracks[key] = t
            self.plot_dirty = True
        return t

    def changed(self) -> None:
        """Settings changed: rebuild tracks lazily and redraw."""
        self.plot_dirty = True

    def tick(self) -> bool:
        """Fold in new epochs of the plotted runs; True if the plot needs a redraw."""
        if self.settings.capacity:  # every run counts: redraw when any has moved on
            progress = tuple((id(r.history), len(r.history)) for r in self.runs)
            if progress != self._progress:
                self._progress = progress
                self.plot_dirty = True
            return self.plot_dirty
        keep = set()
        for run, metric, smoothing in self._wanted():
            keep.add((run.index, metric, smoothing))
            if self._track(run, metric, smoothing).update():
                self.plot_dirty = True
        for key in [k for k in self.tracks if k not in keep]:
            del self.tracks[key]  # scrolled out of the plot, or a setting changed
            self.plot_dirty = True
        return self.plot_dirty

    def _buckets(self, run: RunView, metric: str, smoothing: float):
        t = self._track(run, metric, smoothing)
        window = self.settings.window
        return t.window(window) if window else t.buckets()

    def plot_spec(self, max_points: int, rows: int = 40) -> PlotSpec:
        """The plot of the visible runs, downsampled to `max_points` per series, for a plot
        about `rows` rows high."""
        self.plot_dirty = False
        if self.settings.capacity:
            from mlp_tui.view.capacity_plot import capacity_spec

            spec = capacity_spec(self, rows)
        else:
            spec = self._curves_spec(max_points)
        spec.bounded = bounded(self.settings.metric, self.session.task)
        view = (self.settings.metric, self.settings.capacity, self.settings.window)
        previous = self.scale if view == self._scale_view else None  # hysteresis, same view
        spec = finish_spec(spec, self.settings, rows, previous)
        self.scale = Scale(spec.log, spec.robust)
        self._scale_view = view
        self.x_span = spec.x_range
        return spec

    def _curves_spec(self, max_points: int) -> PlotSpec:
        s = self.settings
        metrics = self.metrics()
        series: list[PlotSeries] = []
        marks: list[Mark] = []
        for place, key in self.visible():
            runs = self.group(key)
            i = self.color_of(key, place)
            color = run_color(i)
            for k, metric in enumerate(metrics):
                style = "val" if k else "line"
                own = runs[0].name  # a log's folder: shortened in the middle
                name = (middle(own, NAME_MAX) if own else self.name_of(key)) + (" val" if k else "")
                buckets = [self._buckets(r, metric, s.smoothing) for r in runs]
                if len(runs) == 1:
                    if s.smoothing:
                        raw = self._buckets(runs[0], metric, 0.0)
                        series.append(PlotSeries(name, color, *points(raw, max_points, s.x_mode),
                                                 i, "faint"))
                    x, y = points(buckets[0], max_points, s.x_mode)
                    series.append(PlotSeries(name, color, x, y, i, style))
                else:
                    series.extend(self._seeds(name, color, i, style, buckets, max_points))
                if metric in ("val_loss", f"val_{self.session.task.monitor}"):
                    marks.extend(_best_marks(runs, color, s.x_mode, metric,
                                             f"val_{self.session.task.monitor}"))
        title = base = view_title(s.metric, self.has_val, self.session.task)
        short = axis_title(s.metric, self.session.task)  # "loss": the legend says which curves
        if s.smoothing:
            title += f" (ema {s.smoothing:g})"
            short += f" (ema {s.smoothing:g})"
        x_span = None
        ends = [float(p.x.max()) for p in series if len(p.x)]
        if s.window and s.x_mode == "epoch" and ends:  # the window, whatever was sampled in it
            x_span = (max(1.0, max(ends) - s.window + 1), max(ends))
        spec = PlotSpec(
            x_range=x_span,
            series=series,
            title=title,
            short_titles=[short] if short != title else [],
            x_label=self.session.x_name if s.x_mode == "epoch" else "seconds",
            y_label=base if len(metrics) == 1 else axis_title(s.metric, self.session.task),
            grid=s.grid,
            marks=marks,
            cursor=s.cursor if s.x_mode == "epoch" else None,
            message="waiting for the first epoch…",
        )
        if s.metric == SHARPNESS:
            return sharpness_view(spec, [self.group(k)[0].meta for _, k in self.visible()])
        return spec

    def _seeds(self, name, color, i, style, buckets, max_points) -> list[PlotSeries]:
        """Repeats of one width: the mean, with a band (min-max or mean ± std) or each seed."""
        s = self.settings
        n = len(buckets)
        # A band fills every column it spans: sampled twice as densely as a line.
        bd = band([last_points(b, 2 * max_points, s.x_mode) for b in buckets])
        mean = PlotSeries(f"{name} (mean of {n})", color, bd.x, bd.mean, i, style)
        mode = s.band_for(self.repeats)
        if mode == "means":
            return [mean]
        if mode == "seeds":
            seeds = [PlotSeries(name, color, *points(b, max_points, s.x_mode), i, "faint")
                     for b in buckets]
            return [*seeds, mean]
        if mode == "mean±std":
            lo, hi = bd.mean - bd.std, bd.mean + bd.std
        else:
            lo, hi = bd.lo, bd.hi
        return [PlotSeries(name, color, bd.x, hi, i, "band", lo=lo), mean]

    def readout(self, epoch: int) -> list[tuple[str, int, dict[str, float | None]]]:
        """(group name, runs that reached `epoch`, mean of each metric there) for every visible
        group: the exact recorded values, not the plotted (downsampled, smoothed) ones."""
        out = []
        for _i, width in self.visible():
            recs = [r.history.read(epoch - 1, epoch) for r in self.group(width)]
            recs = [c.record(0) for c in recs if len(c)]
            values: dict[str, float | None] = {}
            for m in self.session.task.metric_names:
                vals = [rec[m] for rec in recs if rec.get(m) is not None]
                values[m] = float(np.mean(vals)) if vals else None
            out.append((self.name_of(width), len(recs), values))
        return out

    def last_epoch(self) -> int:
        """The latest epoch any visible run has reached."""
        return max((len(r.history) for _i, w in self.visible() for r in self.group(w)), default=0)

    def capacity(self):
        s = self.settings
        return capacity_points(self.runs, s.capacity_at, s.cursor)

    def rows(self) -> list[RowState]:
        """One row per width; a row is recomputed only when one of its runs changed."""
        out = []
        has_val = self.has_val
        for i, (group, runs) in enumerate(self.groups().items()):
            key = (group in self.settings.hidden, *(run_key(r) for r in runs))
            cached = self._rows.get(group)
            if cached is None or cached[0] != key:
                name = group if isinstance(group, str) else runs[0].name
                color = self.color_of(group, i)
                row = make_row(i, runs[0].width, runs, key[0], has_val, name, color)
                cached = (key, row)
                self._rows[group] = cached
            out.append(cached[1])
        return out


def _best_marks(
    runs: list[RunView], color: int, x_mode: str, metric: str, monitor: str
) -> list[Mark]:
    """The best validation epoch of each run (by the task's monitor: lowest loss, highest R²),
    on the drawn `metric`'s curve at its raw value there."""
    out = []
    for r in runs:
        _, epoch = r.history.best(monitor)
        if epoch is None:
            continue
        rec = r.history.read(epoch - 1, epoch).record(0)
        value = rec.get(metric)
        if value is None:
            continue
        x = epoch if x_mode == "epoch" else rec["elapsed_s"]
        out.append(Mark(float(x), float(value), BEST_MARK, color))
    return out
