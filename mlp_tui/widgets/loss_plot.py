"""The loss plot: a widget that owns its own plotext figure and builds it at its own size.

plotext 6 is used directly (textual-plotext pins plotext < 6, which is 8x slower and breaks log
axes on a second build). The widget is handed already-downsampled series, so a build costs the same
however long the runs are; it rebuilds only when the data, the settings or its size changed.
"""

from __future__ import annotations

import math
import time

import plotext as plt
from plotext._kernel.terminal import terminal
from rich.text import Text
from textual.widget import Widget

from mlp_tui.view import PlotSeries, PlotSpec


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks for a y-axis that holds log10 values: 1-2-5 steps where they fit."""
    lo_e, hi_e = math.floor(lo), math.ceil(hi)
    candidates = []
    mults = (1, 2, 5) if hi_e - lo_e <= 2 else (1,)
    for e in range(lo_e, hi_e + 1):
        for m in mults:
            v = math.log10(m) + e
            if lo - 1e-9 <= v <= hi + 1e-9:
                candidates.append(v)
    if len(candidates) < 2:
        candidates = [lo, hi]
    step = max(1, math.ceil(len(candidates) / 6))
    ticks = candidates[::step]
    return ticks, [_fmt(10**t) for t in ticks]


def nice_ticks(lo: float, hi: float, n: int = 6, integer: bool = False) -> list[float]:
    """About n round tick positions (1-2-5 steps) inside [lo, hi]."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + 1e-9 * span:
        ticks.append(t)
        t += step
    return ticks or [lo]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:.4g}"


def build_figure(spec: PlotSpec, width: int, height: int, series: list[PlotSeries]) -> str:
    """One plotext figure as an ANSI string of exactly `height` lines."""
    term = terminal()
    term.limit(False, False)
    fig = term._master
    fig.theme("simple")
    fig.plot_size(max(width, 10), max(height, 5))
    for s in series:
        if not len(s.x):
            continue
        sig = fig.signal(
            s.x.tolist(), s.y.tolist(), marker=plt.marker("braille", pixel=plt.pixel(s.color))
        )
        sig.lines()
        fig.draw(sig)
    if spec.x_range is not None:
        xlo, xhi = spec.x_range
        if xhi <= xlo:
            xhi = xlo + 1
        fig.ruler("x").lim(xlo, xhi)
        xt = nice_ticks(xlo, xhi, integer=spec.x_label == "epoch")
        fig.ruler("x").ticks(xt, [_fmt(t) for t in xt])
    fig.title(spec.title)
    fig.label(spec.x_label, axis="x")
    fig.label(spec.y_label, axis="y")
    if spec.y_range is not None:
        lo, hi = spec.y_range
        fig.ruler("y").lim(lo, hi)
        if spec.log:
            ticks, labels = log_ticks(lo, hi)
            fig.ruler("y").ticks(ticks, labels)
    return fig.build().string()


class LossPlot(Widget):
    """Renders a PlotSpec with plotext, overlaid or as a grid of small plots."""

    DEFAULT_CSS = """
    LossPlot { width: 1fr; height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec = PlotSpec()
        self._cache: tuple[tuple[int, int], Text] | None = None
        self.builds = 0
        self.last_build_s = 0.0

    def show(self, spec: PlotSpec) -> None:
        self.spec = spec
        self._cache = None
        self.refresh()

    def render(self) -> Text:
        size = (self.size.width, self.size.height)
        if self._cache is not None and self._cache[0] == size:
            return self._cache[1]
        t0 = time.perf_counter()
        text = self._build(*size)
        self.last_build_s = time.perf_counter() - t0
        self._cache = (size, text)
        return text

    def _build(self, width: int, height: int) -> Text:
        spec = self.spec
        if width < 20 or height < 6:
            return Text("plot: too small", style="dim")
        if spec.message and not any(len(s.x) for s in spec.series):
            return Text(spec.message, style="dim", justify="center")
        self.builds += 1
        legend = Text(no_wrap=True, overflow="ellipsis")
        for s in spec.series:
            legend.append("━━ ", style=f"color({s.color})")
            legend.append(f"{s.label}  ")
        body_h = height - 1
        if spec.grid and len(spec.series) > 1:
            body = self._grid(spec, width, body_h)
        else:
            body = Text.from_ansi(build_figure(spec, width, body_h, spec.series), no_wrap=True)
        return Text("\n", no_wrap=True).join([legend, body])

    def _grid(self, spec: PlotSpec, width: int, height: int) -> Text:
        n = len(spec.series)
        cols = math.ceil(math.sqrt(n)) if width >= 2 * height else max(1, math.floor(math.sqrt(n)))
        rows = math.ceil(n / cols)
        cell_w, cell_h = width // cols, height // rows
        lines: list[Text] = []
        for r in range(rows):
            row_parts = []
            for c in range(cols):
                i = r * cols + c
                if i >= n:
                    row_parts.append([Text(" " * cell_w)] * cell_h)
                    continue
                s = spec.series[i]
                sub = PlotSpec(
                    title=s.label,
                    x_label=spec.x_label,
                    y_label="",
                    y_range=spec.y_range,
                    log=spec.log,
                )
                ansi = build_figure(sub, cell_w, cell_h, [s])
                row_parts.append(Text.from_ansi(ansi, no_wrap=True).split("\n")[:cell_h])
            for k in range(cell_h):
                line = Text(no_wrap=True)
                for part in row_parts:
                    seg = part[k] if k < len(part) else Text("")
                    seg.truncate(cell_w, pad=True)
                    line.append_text(seg)
                lines.append(line)
        return Text("\n", no_wrap=True).join(lines)
