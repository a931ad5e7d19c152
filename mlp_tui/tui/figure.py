"""A PlotSpec drawn with plotext as Rich text: one figure, or a grid of small ones, with a legend,
end labels and ticks. Each build uses a plotext figure of its own (no global plotext state).

plotext 6 is used directly (textual-plotext pins plotext < 6, which is much slower and breaks
log axes on a second build; docs/benchmarks.md). The series come already downsampled, so a build
costs the same however long the runs are. Ticks come from `mlp_tui.view.ticks`, sized to the
figure, so every label is round, distinct and true.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import threading
from collections.abc import Callable

import numpy as np
from rich.text import Text

from mlp_tui.tui.plot_labels import (
    at,
    end_labels,
    fit_fixed,
    fit_title,
    left_out_label,
    occupied_cells,
)
from mlp_tui.view import PlotSeries, PlotSpec
from mlp_tui.view.rows import PALETTE
from mlp_tui.view.ticks import (
    Tick,
    duration_ticks,
    epoch_ticks,
    linear_ticks,
    log_ticks,
    ticks_for_cells,
)

CURSOR_COLOR = 250  # a light grey: the epoch cursor
BAND_MARKER = "░"  # a band's cells, shaded; the mean's braille line is drawn over them
VAL_MARKER = "braille"  # a validation curve: its run's colour, dotted (points, not joined)

# Under NO_COLOR each run keeps its own marker; past the list they repeat (end labels still tell).
MONO_MARKERS = ("braille", "dot", "+", "x", "*", "o", "#", "%", "=", "~", "^", "&", "@", "$")
_SWATCH = {"braille": "━", "dot": "•", "val": "⠤"}
LEGEND_LINES = 3  # the legend wraps onto at most this many lines, then counts the rest
_X_GAP, _Y_GAP, _LOG_Y_GAP = 8, 3, 2  # cells a tick wants before its label is known

Range = tuple[float, float]


def no_color() -> bool:
    """https://no-color.org: any non-empty NO_COLOR asks for a monochrome picture."""
    return bool(os.environ.get("NO_COLOR"))


# In colour, groups past the palette's hues get another marker: colour plus marker tells them.
COLOR_MARKERS = ("braille", "dot", "+", "x")


def marker_for(i: int, mono: bool) -> str:
    """The plotext marker of the i-th series: distinct glyphs without colour; in colour braille
    lines for the first len(PALETTE) groups, then each repeated hue with a marker of its own."""
    if mono:
        return MONO_MARKERS[i % len(MONO_MARKERS)]
    return COLOR_MARKERS[i // len(PALETTE) % len(COLOR_MARKERS)]


def swatch(marker: str) -> str:
    """What the legend shows for a marker."""
    return _SWATCH.get(marker, marker) * 2


def faint(color: int) -> int:
    """A darker shade of a 256-colour cube entry (greys and the 16 basic colours: grey 240)."""
    if not 16 <= color <= 231:
        return 240
    c = color - 16
    r, g, b = c // 36, c // 6 % 6, c % 6
    return 16 + 36 * (r // 2) + 6 * (g // 2) + b // 2


def _series_marker(s: PlotSeries, mono: bool) -> str:
    if s.style == "val":
        return "·" if mono else VAL_MARKER
    if s.style == "points":
        return "●"
    return marker_for(s.index, mono)


def preload() -> None:
    """Import plotext in a thread of its own, once the first frame is up: a figure that paid
    the import would count it as its build time, which holds the next frame back by 1/PLOT_SHARE
    of it (tui.app's redraw budget: some 3 s behind the runs)."""
    threading.Thread(target=importlib.import_module, args=("plotext",),
                     name="plotext-import").start()


def build_figure(
    spec: PlotSpec,
    width: int,
    height: int,
    series: list[PlotSeries],
    markers: list[str] | None = None,
    label_w: list[int] | None = None,
) -> str:
    """One plotext figure as an ANSI string of exactly `height` lines. `label_w` (a one-item
    list) holds the least width of the y tick labels, and gets the width used: a caller that
    keeps it draws the y-axis in one column from frame to frame, however the labels change."""
    # plotext is imported after the first frame (`preload`), not with the app: its import
    # (about 0.1 s, most of it building its docstrings) would delay it (benchmarks/pty_header).
    import plotext as plt
    from plotext._kernel.terminal import terminal

    width, height = max(width, 10), max(height, 5)
    mono = no_color()
    markers = markers or [_series_marker(s, mono) for s in series]
    points = [_finite(s) for s in series]
    x_range = _padded(spec.x_range or _extent([x for x, _ in points]), 0.01)
    y_range = _padded(spec.y_range or _extent([y for _, y in points]), 0.05)
    # A point far outside a clipped range would make plotext draw (and allocate) the whole
    # off-screen stretch of its line: hold every point within one range's height of the edges.
    span = y_range[1] - y_range[0]
    points = [(x, np.clip(y, y_range[0] - span, y_range[1] + span)) for x, y in points]

    rows = height - 4 - (1 if spec.title else 0)  # frame, x tick labels, axis titles
    y_ticks = _fit(
        log_ticks if spec.log else linear_ticks,
        y_range,
        rows,
        _LOG_Y_GAP if spec.log else _Y_GAP,
        lambda a, b: 1.5,
    )
    if label_w is not None:
        label_w[0] = max(label_w[0], *(len(label) for _, label in y_ticks))
        y_ticks = [(p, label.rjust(label_w[0])) for p, label in y_ticks]
    cols = width - 2 - max(len(label) for _, label in y_ticks)
    x_make = duration_ticks if spec.x_label == "seconds" else epoch_ticks  # epochs, steps
    x_label = spec.x_label
    if spec.x_ticks is not None:  # the widths trained: each labelled, or said to be left out
        x_ticks = fit_fixed([t for t in spec.x_ticks if x_range[0] <= t[0] <= x_range[1]],
                            x_range, cols)
        x_label = left_out_label(x_label, spec.x_ticks, x_ticks,
                                 width - 2 * len(spec.y_label) - 2)
    else:
        x_ticks = _fit(x_make, x_range, cols, _X_GAP, lambda a, b: (len(a) + len(b)) / 2 + 2)

    fx, fy = _scale(x_range), _scale(y_range)
    term = terminal()
    term.limit(False, False)
    fig = term._master
    fig.theme("simple")
    fig.plot_size(width, height)
    def line(xs, ys, m: str, color: int, connect: bool = True) -> None:
        sig = fig.signal((xs * fx).tolist(), (ys * fy).tolist(),
                         marker=plt.marker(m, pixel=plt.pixel(color)))
        if connect:
            sig.lines()
        fig.draw(sig)

    for (x, y), s, m in zip(points, series, markers):
        if not len(x):
            continue
        if s.style == "band" and s.lo is not None:  # a zigzag between the edges fills it
            lo = np.clip(np.asarray(s.lo, dtype=float)[np.isfinite(s.y)],
                         y_range[0] - span, y_range[1] + span)
            line(np.repeat(x, 2), np.column_stack([lo, y]).ravel(), BAND_MARKER,
                 faint(s.color))
        else:
            color = faint(s.color) if s.style == "faint" and not mono else s.color
            joined = s.joined if s.joined is not None else s.style not in ("points", "val")
            line(x, y, "dot" if s.style == "val" and joined and not mono else m, color, joined)
    for b in spec.bars:
        line(np.array([b.x, b.x]), np.clip(np.array([b.lo, b.hi]), *y_range), "braille", b.color)
    if spec.cursor is not None:
        line(np.array([spec.cursor] * 2), np.array(y_range), "braille", CURSOR_COLOR)
    for r in spec.rules:  # a threshold: a grey line, its label at the top
        if x_range[0] <= r.x <= x_range[1]:
            line(np.array([r.x] * 2), np.array(y_range), "braille", CURSOR_COLOR)
            align = "right" if at(r.x, x_range) > 0.7 else "left"
            fig.draw(fig.text(r.x * fx, y_range[1] * fy, plt.colorize(r.label), alignment=align))
    for lv in spec.levels:  # a reference line, labelled above its right end
        if y_range[0] <= lv.y <= y_range[1]:
            line(np.array(x_range), np.array([lv.y, lv.y]), "braille", lv.color)
            text = plt.colorize(lv.text) if mono else plt.colorize(lv.text,
                                                                    pixel=plt.pixel(lv.color))
            fig.draw(fig.text(x_range[1] * fx, lv.y * fy, text, alignment="right"))
    labelled = [(p, s) for p, s in zip(points, series) if s.in_legend]
    if len(labelled) > 1:
        pts, sers = [p for p, _ in labelled], [s for _, s in labelled]
        occupied = occupied_cells(points, x_range, y_range, rows, cols)
        for x, y, label, color, align in end_labels(pts, sers, x_range, y_range, rows, cols,
                                                     occupied):
            text = plt.colorize(label) if mono else plt.colorize(label, pixel=plt.pixel(color))
            fig.draw(fig.text(x * fx, y * fy, text, alignment=align))
    for mk in spec.marks:
        if not y_range[0] <= mk.y <= y_range[1]:
            continue
        text, align = mk.text, "left"
        if at(mk.x, x_range) > 0.7 and " " in text:  # the glyph stays on the point
            glyph, rest = text.split(" ", 1)
            text, align = f"{rest} {glyph}", "right"
        text = plt.colorize(text) if mono else plt.colorize(text, pixel=plt.pixel(mk.color))
        fig.draw(fig.text(mk.x * fx, mk.y * fy, text, alignment=align))
    for axis, (lo, hi), ticks, f in (("x", x_range, x_ticks, fx), ("y", y_range, y_ticks, fy)):
        fig.ruler(axis).lim(lo * f, hi * f)
        fig.ruler(axis).ticks([p * f for p, _ in ticks], [label for _, label in ticks])
    fig.title(fit_title(spec.title_forms or [spec.title], width))
    fig.label(x_label, axis="x")
    fig.label(spec.y_label, axis="y")
    return fig.build().string()


def render_spec(
    spec: PlotSpec, width: int, height: int, label_w: list[int] | None = None
) -> Text:
    """The whole widget picture, the legend above the plot (or the grid of plots); `label_w`
    as for `build_figure` (an overlay's y-axis kept in place)."""
    if width < 20 or height < 6:
        return Text("plot: too small", style="dim")
    if spec.message and not any(len(s.x) for s in spec.series):
        return Text(spec.message, style="dim", justify="center")
    legend = _wrapped(_legend(spec), width, max(1, min(LEGEND_LINES, (height - 4) // 4)))
    body_h = height - len(legend)
    if spec.grid and len({s.index for s in spec.series}) > 1:
        body = _grid(spec, width, body_h)
    else:
        ansi = build_figure(spec, width, body_h, spec.series, label_w=label_w)
        body = Text.from_ansi(ansi, no_wrap=True)
    return Text("\n", no_wrap=True).join([*legend, body])


def _legend(spec: PlotSpec) -> list[Text]:
    """A swatch and label per curve; the validation curves and marks explained once."""
    mono = no_color()
    items: list[Text] = []
    vals = [s for s in spec.series if s.style == "val"]
    for s in spec.series:
        if s.style == "line" or (s.style == "val" and spec.x_label == "width"):
            mark = _series_marker(s, mono)
            if s.style == "val" and not mono:
                mark = "dot" if s.joined else "val"
            items.append(Text.assemble((swatch(mark) + " ", f"color({s.color})"), s.label))
    if vals and spec.x_label != "width":
        items.append(Text(swatch("·" if mono else "val") + " validation", style="dim"))
    for text in dict.fromkeys(m.text[0] for m in spec.marks):
        what = "best width (val loss)" if spec.x_label == "width" else "best val epoch"
        items.append(Text(f"{text} {what}", style="dim"))
    return items


def _wrapped(items: list[Text], width: int, max_lines: int) -> list[Text]:
    """The legend's items on as many lines as they need (at most `max_lines`), each item whole:
    what does not fit is counted (`+3 more`), never cut mid-label."""
    lines: list[Text] = []
    line = Text(no_wrap=True)
    for n, item in enumerate(items):
        gap = 2 if line.cell_len else 0
        if line.cell_len and line.cell_len + gap + item.cell_len > width:
            lines.append(line)
            line = Text(no_wrap=True)
            gap = 0
            if len(lines) == max_lines:
                rest = Text(f"+{len(items) - n} more", style="dim")
                last = lines[-1]
                while last.cell_len and last.cell_len + 2 + rest.cell_len > width:
                    last = _drop_last(last)  # make room for the count: drop whole items
                    rest = Text(f"+{len(items) - n + 1} more", style="dim")
                    n -= 1
                lines[-1] = Text.assemble(last, "  " if last.cell_len else "", rest)
                return lines
        line.append("  " * (gap // 2))
        line.append_text(item)
    if line.cell_len or not lines:
        line.truncate(width, overflow="ellipsis")  # a single label wider than the plot
        lines.append(line)
    return lines


def _drop_last(line: Text) -> Text:
    """A legend line without its last item (items are joined by two spaces)."""
    cut = line.plain.rfind("  ")
    return line[:cut] if cut > 0 else Text(no_wrap=True)


def _grid(spec: PlotSpec, width: int, height: int) -> Text:
    """Small multiples, one per run (its curves, band and marks), sharing one x range and one
    y range, hence the same ticks."""
    cells: dict[int, list[PlotSeries]] = {}
    for s in spec.series:
        cells.setdefault(s.index, []).append(s)
    groups = list(cells.values())
    n = len(groups)
    cols = math.ceil(math.sqrt(n)) if width >= 2 * height else max(1, math.floor(math.sqrt(n)))
    rows = math.ceil(n / cols)
    cell_w, cell_h = width // cols, height // rows
    points = [_finite(s) for s in spec.series]
    x_range = spec.x_range or _extent([x for x, _ in points])
    y_range = spec.y_range or _extent([y for _, y in points])
    lines: list[Text] = []
    for r in range(rows):
        row_parts = []
        for c in range(cols):
            i = r * cols + c
            if i >= n:
                row_parts.append([Text(" " * cell_w)] * cell_h)
                continue
            group = groups[i]
            main = next((s for s in group if s.in_legend), group[0])
            sub = PlotSpec(
                title=main.label,
                x_label=spec.x_label,
                y_label="",
                y_range=y_range,
                x_range=x_range,
                log=spec.log,
                marks=[m for m in spec.marks if m.color == main.color],
                levels=spec.levels,
                cursor=spec.cursor,
                x_ticks=spec.x_ticks,
            )
            ansi = build_figure(sub, cell_w, cell_h, group)
            row_parts.append(Text.from_ansi(ansi, no_wrap=True).split("\n")[:cell_h])
        for k in range(cell_h):
            line = Text(no_wrap=True)
            for part in row_parts:
                seg = part[k] if k < len(part) else Text("")
                seg.truncate(cell_w, pad=True)
                line.append_text(seg)
            lines.append(line)
    return Text("\n", no_wrap=True).join(lines)


def _fit(
    make: Callable[[float, float, int], list[Tick]],
    span: Range,
    cells: int,
    gap: int,
    need: Callable[[str, str], float],
) -> list[Tick]:
    """As many ticks as the axis holds without two labels touching."""
    lo, hi = span
    n = ticks_for_cells(cells, gap)
    while True:
        ticks = make(lo, hi, n)
        apart = all(
            (at(b, span) - at(a, span)) * (cells - 1) >= need(la, lb)
            for (a, la), (b, lb) in zip(ticks, ticks[1:])
        )
        if apart or n <= 2:
            return ticks
        n = min(n, len(ticks)) - 1


def _finite(s: PlotSeries) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(s.x, dtype=float), np.asarray(s.y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _extent(arrays: list[np.ndarray]) -> Range:
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return 0.0, 1.0
    return float(min(a.min() for a in arrays)), float(max(a.max() for a in arrays))


def _padded(span: Range, rel: float) -> Range:
    """A range plotext can draw: a point range is widened, without overflowing."""
    lo, hi = sorted(span)
    if hi > lo:
        return lo, hi
    pad = abs(lo) * rel or 0.5
    return max(lo - pad, -sys.float_info.max), min(hi + pad, sys.float_info.max)


def _scale(span: Range) -> float:
    """plotext subtracts the limits, which overflows near the float limit: there it is handed
    values scaled by a power of two (exact), while the labels keep the true ones."""
    return 1.0 if max(abs(span[0]), abs(span[1])) < 1e300 else 2.0**-40
