"""The plot controls (each bound to a key), the choices each steps through, and the y-scale.

The settings a user would want back next time are saved as a small dict (`to_dict`/`from_dict`);
a value that is not one of the choices is ignored, so a stale or hand-edited file can never
break a launch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from mlp_tui.core.task import ALL_METRICS, CLASSIFICATION, INSTRUMENT_NAMES, TASKS, Task
from mlp_tui.core.text import printable


def pairs(task: Task = CLASSIFICATION) -> dict[str, tuple[str, str]]:
    """Train/validation pairs of the task's metrics: `train_X` and `val_X` become view "X"."""
    return {m.key: (f"train_{m.key}", f"val_{m.key}") for m in task.metrics}


PAIRS = pairs()
ALL_VIEWS = frozenset((*(k for t in TASKS.values() for k in pairs(t)), *ALL_METRICS))
# TensorBoard's slider goes from 0 to 0.999; these are its useful stops, `s` and `S` step.
SMOOTHING_STEPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999)
ZOOMS: tuple[int | None, ...] = (None, 1000, 100)  # epochs in the x-window (None: all)
BANDS = ("min-max", "mean±std", "seeds", "means")  # how repeats of one width are drawn
# The automatic band (no `b` chosen): min-max bands while few groups have repeats; past this
# many, the means alone (bands of eight groups fill the plot; the table keeps each ± std).
AUTO_BAND_GROUPS = 3
CAPACITY_AT = ("epoch", "best")  # capacity points at the cursor/latest epoch, or best val epoch
X_MODES = ("epoch", "seconds")
CAPACITY_X = ("width", "parameters")  # the capacity view's x-axis


def metric_views(
    has_val: bool, offered: tuple[str, ...] | None = None, task: Task = CLASSIFICATION
) -> tuple[str, ...]:
    """What `m` cycles through: the task's pairs first, then single metrics (with a validation
    set), then the instruments (gradient norm, weight norm, sharpness); or the metrics a session
    offers of its own (a TensorBoard log's scalar tags)."""
    if offered:
        return tuple(offered)
    singles = tuple(n for n in task.metric_names if n not in INSTRUMENT_NAMES) if has_val else ()
    return (*pairs(task), *singles, *INSTRUMENT_NAMES)


def series_metrics(view: str, has_val: bool, task: Task = CLASSIFICATION) -> tuple[str, ...]:
    """The history columns a metric view draws: a pair, or its train half without val."""
    both = pairs(task)
    if view in both:
        return both[view] if has_val else both[view][:1]
    return (view,)


def axis_title(view: str, task: Task = CLASSIFICATION) -> str:
    """The y-axis of a metric view: "loss" for the loss pair, else the metric's title."""
    if view in pairs(task):
        return task.metric(view).title
    return title(view, task)


def bounded(view: str, task: Task = CLASSIFICATION) -> bool:
    """A view of ratios in [0, 1] (accuracy, or a log's tag that names one): never auto-log."""
    both = pairs(task)
    if view in both:
        return both[view][0] in task.bounded
    return view in task.bounded or "acc" in view.lower()


def view_title(view: str, has_val: bool, task: Task = CLASSIFICATION) -> str:
    both = pairs(task)
    if view in both:
        train, _ = both[view]
        if not has_val:
            return task.titles[train]
        return task.metric(view).title + ": train and validation"
    return title(view, task)


def title(metric: str, task: Task = CLASSIFICATION) -> str:
    """A task metric's title, or a session's own metric name (from a file: escaped)."""
    return task.titles.get(metric) or printable(metric)


@dataclass(frozen=True)
class Scale:
    """The y-scale in effect: the user's choice, or the automatic one."""

    log: bool = False
    robust: bool = False


# What is remembered between launches, each with how it is named to the user (the view bar's
# words): a new remembered setting is one line here, and the launch toast can always name it.
REMEMBERED = {"metric": "metric", "log": "y scale", "robust": "y range", "smoothing": "smoothing",
              "x_mode": "x-axis", "grid": "layout", "hidden": "hidden runs", "zoom": "zoom",
              "band": "seed band", "capacity": "vs-width view", "capacity_at": "vs-width epoch",
              "capacity_x": "vs-width axis"}


@dataclass
class ViewSettings:
    """The plot controls, each bound to a key."""

    metric: str = "loss"  # a metric view: a pair name or a metric
    log: bool | None = None  # None: chosen from the data (see `auto_scale`)
    smoothing: float = 0.0  # debiased EMA weight, one of SMOOTHING_STEPS
    robust: bool | None = None  # None: chosen from the data and the plot's height
    x_mode: str = "epoch"  # or "seconds"
    grid: bool = False
    hidden: set[int | str] = field(default_factory=set)  # groups hidden from the plot
    zoom: int = 0  # index into ZOOMS
    band: str | None = None  # None: chosen from the number of groups (see `band_for`)
    capacity: bool = False  # the plot shows loss against width
    capacity_at: str = CAPACITY_AT[0]
    capacity_x: str = CAPACITY_X[0]  # width, or the parameter count
    cursor: int | None = None  # the epoch under the cursor; None follows live data

    @property
    def smoothing_weight(self) -> float:
        return self.smoothing

    def band_for(self, groups: int) -> str:
        """The band in effect for `groups` groups with repeats: the chosen one, or the
        automatic one (min-max for a few, the means alone for many)."""
        if self.band is not None:
            return self.band
        return BANDS[0] if groups <= AUTO_BAND_GROUPS else "means"

    @property
    def window(self) -> int | None:
        return ZOOMS[self.zoom]

    def smoother(self, step: int) -> None:
        """Move the EMA weight one stop up (+1) or down (-1)."""
        i = min(range(len(SMOOTHING_STEPS)), key=lambda k: abs(SMOOTHING_STEPS[k] - self.smoothing))
        self.smoothing = SMOOTHING_STEPS[max(0, min(len(SMOOTHING_STEPS) - 1, i + step))]

    def describe(
        self, scale: Scale, has_val: bool = False, repeats: int = 0, x_name: str = "epoch",
        task: Task = CLASSIFICATION,
    ) -> str:
        """The view bar: each setting with its key; a choice made from the data says so.
        `repeats`: the groups with repeats; `x_name`: what the x-axis counts (a log's step)."""
        smooth = "off" if not self.smoothing else f"ema {self.smoothing:g}"
        log = ("log" if scale.log else "linear") + (" (auto)" if self.log is None else "")
        robust = ("5-95%" if scale.robust else "all") + (" (auto)" if self.robust is None else "")
        zoom = "all" if self.window is None else f"last {self.window}"
        if self.capacity:
            best = "best val" if has_val else "best train loss"
            parts = [f"w:{axis_title(self.metric, task)} vs width at "
                     f"{best if self.capacity_at == 'best' else 'epoch'}",
                     f"a:at {self.capacity_at}", f"x:{self.capacity_x}", f"l:y {log}"]
        else:
            parts = [
                f"m:{view_title(self.metric, has_val, task)}",
                f"l:y {log}",
                f"o:range {robust}",
                f"s:smooth {smooth}",
                f"z:{zoom}",
                f"x:{x_name if self.x_mode == 'epoch' else self.x_mode}",
                f"g:{'grid' if self.grid else 'overlay'}",
            ]
            if repeats:
                band = self.band_for(int(repeats))
                parts.append(f"b:{band}" + (" (auto)" if self.band is None else ""))
        if self.cursor is not None:
            parts.append(f"←→:epoch {self.cursor} (end: live)")
        if self.hidden:
            parts.append("v:hidden " + ",".join(sorted(str(w) for w in self.hidden)))
        return "  ".join(parts)

    def to_dict(self) -> dict[str, object]:
        out = {name: getattr(self, name) for name in REMEMBERED}
        out["hidden"] = sorted(self.hidden, key=str)
        return out

    @classmethod
    def from_dict(cls, data: object) -> ViewSettings:
        """Settings from a saved dict; anything unknown or out of range keeps its default."""
        s = cls()
        if not isinstance(data, dict):
            return s
        allowed = {
            "metric": lambda v: v in ALL_VIEWS,
            "log": lambda v: v is None or isinstance(v, bool),
            "robust": lambda v: v is None or isinstance(v, bool),
            "smoothing": lambda v: v in SMOOTHING_STEPS and not isinstance(v, bool),
            "x_mode": lambda v: v in X_MODES,
            "capacity_x": lambda v: v in CAPACITY_X,
            "grid": lambda v: isinstance(v, bool),
            "hidden": lambda v: isinstance(v, list) and all(_group_key(w) for w in v),
            "zoom": lambda v: type(v) is int and 0 <= v < len(ZOOMS),
            "band": lambda v: v is None or v in BANDS,
            "capacity": lambda v: isinstance(v, bool),
            "capacity_at": lambda v: v in CAPACITY_AT,
        }
        for f in fields(cls):
            if f.name in data and f.name in allowed and allowed[f.name](data[f.name]):
                value = data[f.name]
                setattr(s, f.name, set(value) if f.name == "hidden" else value)
        return s


AUTO_LOG_RATIO = 30.0  # positive data spanning more than this ratio is shown on a log axis
AUTO_ROBUST_SHARE = 0.5  # clip outliers when the 5-95% range is under this share of the whole
AUTO_ROBUST_ROWS = 20  # ... and the plot has fewer rows than this (a spike flattens the rest)
# Hysteresis: a choice made from the data is undone only well past the line that made it, so
# the axis does not flip back and forth as a run moves about the threshold.
AUTO_LOG_OFF_RATIO = 15.0  # a log axis stays until the data spans less than this ratio
AUTO_ROBUST_OFF_SHARE = 0.7  # a clipped range stays until the 5-95% range exceeds this share


def auto_scale(
    ys: list[np.ndarray],
    settings: ViewSettings,
    rows: int,
    bounded: bool = False,
    previous: Scale | None = None,
) -> Scale:
    """Log when the visible values span a large ratio (an early spike over a falling loss), and
    an outlier-robust range on a short plot where the whole range would put every final value
    on one row. A bounded metric (accuracy) is never made log. With the `previous` automatic
    choice, each is undone only past a wider line (hysteresis). An explicit `l` or `o` choice
    always wins."""
    finite = [y[np.isfinite(y)] for y in ys]
    values = np.concatenate(finite) if finite else np.empty(0)
    was = previous or Scale()
    log = settings.log
    if log is None:
        positive = bool(len(values)) and values.min() > 0 and not bounded
        ratio = AUTO_LOG_OFF_RATIO if was.log else AUTO_LOG_RATIO
        log = positive and values.max() / values.min() > ratio
    robust = settings.robust
    if robust is None:
        robust = False
        if len(values) >= 4 and rows < AUTO_ROBUST_ROWS:
            v = np.log10(values[values > 0]) if log else values
            if len(v) >= 4:
                lo, hi = np.percentile(v, [5, 95])
                span = v.max() - v.min()
                share = AUTO_ROBUST_OFF_SHARE if was.robust else AUTO_ROBUST_SHARE
                robust = bool(span > 0 and hi - lo < share * span)
    return Scale(log, robust)


def _group_key(value: object) -> bool:
    """A width, or a grid configuration's name (`w=5 d=2`): what `hidden` holds."""
    return type(value) is int or (isinstance(value, str) and value.startswith("w="))
