"""The capacity view: the chosen metric against width (log x), train and validation as two
lines per setting (depth...), error bars across seeds, the best width by validation loss marked."""

from __future__ import annotations

import math

import numpy as np

from mlp_tui.report.capacity import line_label, param_count, thresholds, varying, width_for
from mlp_tui.view.plotspec import Bar, Mark, PlotSeries, PlotSpec, Rule
from mlp_tui.view.rows import run_color
from mlp_tui.view.settings import axis_title, series_metrics, view_title

BEST_WIDTH = "★"


def width_ticks(widths: list[int]) -> list[tuple[float, str]]:
    """A tick at every width trained (log2 positions): the face labels those that fit and says
    which it leaves out."""
    return [(math.log2(w), str(w)) for w in sorted(set(widths))]


def model_shape(cfg) -> tuple[int, int, int, int] | None:
    """(inputs, outputs, training samples, depth) of a live configuration of one depth; None
    where unknown (a recording) or several depths (each has its own threshold)."""
    if cfg is None or len(cfg.values("depth")) > 1:
        return None
    from mlp_tui.core.userdata import val_count

    n = cfg.n_samples - (val_count(cfg.n_samples, cfg.val_split) if cfg.val_split else 0)
    return cfg.n_features, cfg.n_outputs, n, cfg.depth


def threshold_rules(shape, by_params: bool) -> list[Rule]:
    """Where the parameter count equals n and n x outputs, on the axis shown."""
    if shape is None:
        return []
    n_in, n_out, n_train, depth = shape
    rules = []
    for t in thresholds(n_train, n_out):
        x = t.params if by_params else width_for(t.params, n_in, depth, n_out)
        if x > 0:
            rules.append(Rule(math.log2(x), t.label))
    return rules


def capacity_spec(monitor, rows: int) -> PlotSpec:
    s = monitor.settings
    shape = model_shape(monitor.session.config)
    by_params = s.capacity_x == "parameters" and shape is not None

    def place(width: int) -> float:
        """A width's x: log2 of it, or of its parameter count."""
        if by_params:
            return math.log2(param_count(shape[0], width, shape[3], shape[1]))
        return math.log2(width)

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
            x = np.array([place(p.width) for p, _ in have])
            y = np.array([st.mean for _, st in have])
            name = " ".join(part for part in (prefix, "val" if k else "train") if part)
            series.append(PlotSeries(name, color, x, y, n, "val" if k else "line", joined=True))
            bars += [Bar(place(p.width), st.mean - st.std, st.mean + st.std, color)
                     for p, st in have if st.n > 1 and st.std > 0]
            if metric == "val_loss":
                marks += [Mark(place(p.width), st.mean, f"{BEST_WIDTH} w={p.width}", color)
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
    widths = sorted({p.width for p in points})
    ticks = [(place(w), str(w) if not by_params else str(param_count(shape[0], w, shape[3],
                                                                       shape[1])))
             for w in widths]
    spec = PlotSpec(
        series=series,
        title=title,
        short_titles=[t for t in shorter if t != title],
        x_label="parameters" if by_params else "width",
        y_label=axis,
        marks=marks,
        bars=bars,
        rules=threshold_rules(shape, by_params),
        x_ticks=ticks or None,
        message="waiting for the first epoch…",
    )
    if widths:
        lo, hi = place(widths[0]), place(widths[-1])
        spec.x_range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    return spec
