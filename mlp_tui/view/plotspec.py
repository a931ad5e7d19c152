"""What one plot build needs, as plain data: series, band fills, marks, error bars, a cursor.

`finish_spec` applies the y-scale (automatic or chosen), so every face draws the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlp_tui.view.series import log_values, y_range
from mlp_tui.view.settings import Scale, ViewSettings, auto_scale
from mlp_tui.view.ticks import Tick

# How a series is drawn: "line" (a run's curve), "val" (its validation half: same colour, dotted),
# "faint" (raw curve behind a smoothed one, or one seed), "band" (filled from `lo` to `y`),
# "points" (markers only: the capacity view's points).
STYLES = ("line", "val", "faint", "band", "points")


@dataclass
class PlotSeries:
    label: str
    color: int
    x: np.ndarray
    y: np.ndarray
    index: int = 0  # the width's place: colour and monochrome marker follow it
    style: str = "line"
    lo: np.ndarray | None = None  # a band's lower edge (y is the upper)
    joined: bool | None = None  # None: as the style says (a validation curve is dotted)

    @property
    def in_legend(self) -> bool:
        return self.style in ("line", "val")


@dataclass(frozen=True)
class Mark:
    """A glyph at a data point (a best epoch, the best width)."""

    x: float
    y: float
    text: str
    color: int


@dataclass(frozen=True)
class Rule:
    """A labelled vertical line across the plot at x (the capacity view's thresholds)."""

    x: float
    label: str


@dataclass(frozen=True)
class Level:
    """A horizontal reference line across the plot, labelled at its right end (`2/lr = 20`:
    the sharpness past which full-batch gradient descent is unstable)."""

    y: float
    text: str
    color: int


@dataclass(frozen=True)
class Bar:
    """An error bar: a vertical segment at x from lo to hi."""

    x: float
    lo: float
    hi: float
    color: int


@dataclass
class PlotSpec:
    """Everything one build needs; equal specs give equal pictures."""

    series: list[PlotSeries] = field(default_factory=list)
    title: str = "train loss"
    short_titles: list[str] = field(default_factory=list)  # shorter forms of `title`, in order
    title_forms: list[str] = field(default_factory=list)  # what to show, longest first (notes on)
    x_label: str = "epoch"
    y_label: str = "loss"
    y_range: tuple[float, float] | None = None
    x_range: tuple[float, float] | None = None
    log: bool = False
    robust: bool = False
    grid: bool = False
    message: str = ""
    marks: list[Mark] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    cursor: float | None = None  # x of the epoch cursor
    x_ticks: list[Tick] | None = None  # fixed ticks (the capacity view's widths)
    bounded: bool = False  # ratios in [0, 1] (accuracy): never an automatic log axis
    levels: list[Level] = field(default_factory=list)
    log_view: bool = False  # a log axis unless the user chose (values spanning decades)
    above: float | None = None  # a clipped range: the highest value off the top (real units)
    below: float | None = None  # ... and the lowest off the bottom


def x_range(xs: list[np.ndarray]) -> tuple[float, float] | None:
    xs = [x for x in xs if len(x)]
    if not xs:
        return None
    return float(min(x.min() for x in xs)), float(max(x.max() for x in xs))


def clip_note(spec: PlotSpec) -> str:
    """What a clipped range leaves out, for the title: `▲ 58.7` (the highest value above)."""
    parts = []
    if spec.above is not None:
        parts.append(f"▲ {spec.above:.3g}")
    if spec.below is not None:
        parts.append(f"▼ {spec.below:.3g}")
    return " ".join(parts)


def title_forms(heads: list[str], log_note: str, clip: str) -> list[str]:
    """A title's forms, the most said first: each head (the full one, then shorter ones) with
    both notes; then without the log note (the ticks say it); then the heads alone. A face
    shows the first that fits, so a narrow plot keeps a shorter title rather than none."""
    forms = [h + log_note + clip for h in heads] + [h + clip for h in heads] + heads
    return list(dict.fromkeys(forms))


def finish_spec(
    spec: PlotSpec, settings: ViewSettings, rows: int, previous: Scale | None = None
) -> PlotSpec:
    """Choose the y-scale from the data (unless the user chose; `previous` is the last automatic
    choice, for hysteresis), move everything onto it, and set the ranges; marks and a cursor
    outside the x-range are dropped. A range that clips values says what it left out."""
    heads, log_note, clip = [spec.title, *spec.short_titles], "", ""
    ys = [s.y for s in spec.series] + [s.lo for s in spec.series if s.lo is not None]
    ys += [np.array([b.lo, b.hi]) for b in spec.bars]
    scale = auto_scale(ys, settings, rows, spec.bounded, previous)
    if spec.log_view and settings.log is None:
        scale = Scale(True, scale.robust)
    spec.log, spec.robust = scale.log, scale.robust
    if scale.log:
        for s in spec.series:
            y = log_values(s.y)
            keep = np.isfinite(y)
            if s.lo is not None:  # a band reaching zero or below runs off the bottom
                lo = log_values(s.lo)
                s.lo = np.where(np.isfinite(lo), lo, -np.inf)[keep]
            s.x, s.y = s.x[keep], y[keep]
        spec.marks = [Mark(m.x, float(np.log10(m.y)), m.text, m.color)
                      for m in spec.marks if m.y > 0]
        spec.bars = [Bar(b.x, float(np.log10(b.lo)) if b.lo > 0 else float(np.log10(b.hi)) - 1,
                         float(np.log10(b.hi)), b.color) for b in spec.bars if b.hi > 0]
        spec.levels = [Level(float(np.log10(v.y)), v.text, v.color)
                       for v in spec.levels if v.y > 0]
        log_note = " · log scale"
        spec.title += log_note
    ys = [s.y for s in spec.series] + [s.lo for s in spec.series if s.lo is not None]
    if spec.levels and any(len(s.y) for s in spec.series):  # the lines stay in view
        ys.append(np.array([v.y for v in spec.levels]))
    spec.y_range = y_range(ys, robust=scale.robust, log=scale.log)
    if scale.robust and spec.y_range is not None:
        finite = [y[np.isfinite(y)] for y in ys if len(y)]
        allv = np.concatenate(finite) if finite else np.empty(0)
        lo, hi = spec.y_range
        real = (lambda v: float(10**v)) if scale.log else float
        if len(allv) and allv.max() > hi:
            spec.above = real(allv.max())
        if len(allv) and allv.min() < lo:
            spec.below = real(allv.min())
        note = clip_note(spec)
        if note:
            clip = f"  {note} off the range"
            spec.title += clip
    spec.title_forms = title_forms(heads, log_note, clip)
    if spec.x_range is None:
        spec.x_range = x_range([s.x for s in spec.series])
    if spec.x_range is not None:
        lo, hi = spec.x_range
        spec.marks = [m for m in spec.marks if lo <= m.x <= hi]
        if spec.cursor is not None and not lo <= spec.cursor <= hi:
            spec.cursor = None
    else:
        spec.marks, spec.cursor = [], None
    return spec
