"""The capacity view: the chosen metric against width (log x), train and validation as two
lines per setting (depth...), error bars across seeds, the best width by validation loss marked."""

from __future__ import annotations

import math

import numpy as np

from mlp_tui.report.capacity import line_label, varying
from mlp_tui.view.plotspec import Bar, Mark, PlotSeries, PlotSpec
from mlp_tui.view.rows import run_color
from mlp_tui.view.settings import axis_title, series_metrics, view_title

BEST_WIDTH = "★"


def width_ticks(widths: list[int]) -> list[tuple[float, str]]:
    """A tick at every width trained (log2 positions): the face labels those that fit and says
    which it leaves out."""
    return [(math.log2(w), str(w)) for w in sorted(set(widths))]


def capacity_spec(monitor, rows: int) -> PlotSpec:
    s = monitor.settings
    task = monitor.session.task
    metrics = series_metrics(s.metric, monitor.has_val, task)
    points = monitor.capacity()
    keys = varying(points)
    lines: dict[tuple, list] = {}
    for p in points:
        lines.setdefault(p.line, []).append(p)
    series: list[PlotSeries] = []
    bars: list[Bar] = []
    marks: list[Mark] = []
    single = len(lines) == 1
    for n, (line, pts) in enumerate(lines.items()):
        prefix = line_label(line, keys)
        for k, metric in enumerate(metrics):
            color = run_color(n + k if single else n)
            have = [(p, p.values[metric]) for p in pts if p.values[metric] is not None]
            x = np.array([math.log2(p.width) for p, _ in have])
            y = np.array([st.mean for _, st in have])
            name = " ".join(part for part in (prefix, "val" if k else "train") if part)
            series.append(PlotSeries(name, color, x, y, n, "val" if k else "line", joined=True))
            bars += [Bar(math.log2(p.width), st.mean - st.std, st.mean + st.std, color)
                     for p, st in have if st.n > 1 and st.std > 0]
            if metric == "val_loss":
                marks += [Mark(math.log2(p.width), st.mean, f"{BEST_WIDTH} w={p.width}", color)
                          for p, st in have if p.best]
    best, short = (("best validation epoch", "best val epoch") if monitor.has_val
                   else ("best train-loss epoch", "best train epoch"))
    at = (best if s.capacity_at == "best" else
          f"epoch {s.cursor}" if s.cursor is not None else "latest epoch")
    short = short if s.capacity_at == "best" else at
    axis = axis_title(s.metric, task)
    title = f"{view_title(s.metric, monitor.has_val, task)} vs width, at {at}"
    shorter = [f"{axis} vs width, at {at}", f"{axis} vs width, at {short}", f"{axis} vs width"]
    epochs = [e for p in points for e in p.epochs]
    if s.capacity_at == "epoch" and s.cursor is None and epochs and min(epochs) != max(epochs):
        title += f" ({min(epochs)}-{max(epochs)})"
        shorter.insert(0, f"{axis} vs width, at {at} ({min(epochs)}-{max(epochs)})")
    widths = [p.width for p in points]
    spec = PlotSpec(
        series=series,
        title=title,
        short_titles=[t for t in shorter if t != title],
        x_label="width",
        y_label=axis,
        marks=marks,
        bars=bars,
        x_ticks=width_ticks(widths) if widths else None,
        message="waiting for the first epoch…",
    )
    if widths:
        lo, hi = math.log2(min(widths)), math.log2(max(widths))
        spec.x_range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    return spec
