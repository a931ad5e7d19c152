"""Where a plot's end labels go: by each line's end, never over a curve, never naming the wrong
line. Pure geometry on cells (rows from the bottom, columns from the left)."""

from __future__ import annotations

import numpy as np

from mlp_tui.view import PlotSeries

Range = tuple[float, float]


def end_labels(
    points: list[tuple[np.ndarray, np.ndarray]],
    series: list[PlotSeries],
    x_range: Range,
    y_range: Range,
    rows: int,
    cols: int,
    occupied: set[tuple[int, int]] | None = None,
) -> list[tuple[float, float, str, int, str]]:
    """(x, y, label, colour, alignment) by each visible line end, one or two rows off it, only
    where no other label is in the way, no other line ends as near (a label never names the
    wrong line) and no curve passes (`occupied` cells: a label never hides data)."""
    occupied = occupied or set()
    ends = [end_cell(x, y, x_range, y_range, rows, cols) for x, y in points]
    taken: list[tuple[int, int, int]] = []
    out = []
    for i, s in enumerate(series):
        if ends[i] is None or len(s.label) > cols // 2:
            continue
        col, low, high = ends[i]
        n = len(s.label)
        align, c0 = ("right", col - n + 1) if col >= n - 1 else ("left", col)
        c1 = c0 + n - 1
        others = [e for j, e in enumerate(ends) if j != i and e and c0 - 2 <= e[0] <= c1 + 2]
        for r in (high + 1, low - 1, high + 2, low - 2):
            free = 0 <= r < rows and c1 < cols
            free = free and not any(r == t and c0 <= t1 + 1 and t0 <= c1 + 1 for t, t0, t1 in taken)
            free = free and not any((r, c) in occupied for c in range(c0, c1 + 1))
            mine = max(abs(r - low), abs(r - high))
            if free and all(min(abs(r - lo), abs(r - hi)) > mine for _, lo, hi in others):
                taken.append((r, c0, c1))
                y_at = value_at(r / max(1, rows - 1), y_range)
                out.append((float(points[i][0][-1]), y_at, s.label, s.color, align))
                break
    return out


def occupied_cells(
    points: list[tuple[np.ndarray, np.ndarray]], x_range: Range, y_range: Range, rows: int,
    cols: int,
) -> set[tuple[int, int]]:
    """The (row from the bottom, column) cells the curves pass through, their joins included;
    the points come downsampled, so this costs the same at any epoch."""
    out: set[tuple[int, int]] = set()
    for x, y in points:
        if not len(x):
            continue
        with np.errstate(all="ignore"):
            c = (x / 2 - x_range[0] / 2) / (x_range[1] / 2 - x_range[0] / 2) * (cols - 1)
            r = (y / 2 - y_range[0] / 2) / (y_range[1] / 2 - y_range[0] / 2) * (rows - 1)
        if len(c) > 1:  # fill each join: as many steps as the cells it crosses
            steps = np.maximum(np.abs(np.diff(c)), np.abs(np.diff(r))).clip(1, 2 * rows + cols)
            n = np.ceil(steps).astype(int) + 1
            t = np.concatenate([np.linspace(0, 1, k) for k in n])
            i = np.repeat(np.arange(len(c) - 1), n)
            c = c[i] + t * (c[i + 1] - c[i])
            r = r[i] + t * (r[i + 1] - r[i])
        keep = (c >= -0.5) & (c <= cols - 0.5) & (r >= -0.5) & (r <= rows - 0.5)
        out.update(zip(np.round(r[keep]).astype(int).tolist(),
                       np.round(c[keep]).astype(int).tolist()))
    return out


def end_cell(
    x: np.ndarray, y: np.ndarray, x_range: Range, y_range: Range, rows: int, cols: int
) -> tuple[int, int, int] | None:
    """Column and rows (from the bottom) where a series' last point may be drawn, if it is: both
    neighbours when it sits near a row boundary, where plotext's rounding can go either way."""
    if not len(x):
        return None
    tx, ty = at(float(x[-1]), x_range), at(float(y[-1]), y_range)
    if not (0 <= tx <= 1 and 0 <= ty <= 1):
        return None
    row = ty * (rows - 1)
    low, high = round(row - 0.1), round(row + 0.1)
    return round(tx * (cols - 1)), low, high


def at(v: float, span: Range) -> float:
    """Where v falls along span, 0..1; halved to stay finite for ranges near the float limit."""
    lo, hi = span
    return (v / 2 - lo / 2) / (hi / 2 - lo / 2)


def value_at(t: float, span: Range) -> float:
    lo, hi = span
    return (lo / 2 + t * (hi / 2 - lo / 2)) * 2


def fit_title(forms: list[str], width: int) -> str:
    """The first of a title's forms (the most said first) that plotext draws at `width`: it
    leaves out a title wider than the figure, so a narrow plot gets a shorter one, never none
    unless even the shortest is wider than the plot."""
    return next((t for t in forms if len(t) <= width), "")


def fit_fixed(ticks: list[tuple[float, str]], span: Range, cols: int) -> list[tuple[float, str]]:
    """As many of the fixed ticks (the widths trained) as the axis holds, labels a cell apart
    at least: from the left, each one that clears the last kept; the last is always kept (a
    kept one before it that it would touch makes room)."""
    def apart(a: tuple[float, str], b: tuple[float, str]) -> bool:
        gap = (at(b[0], span) - at(a[0], span)) * (cols - 1)
        return gap >= (len(a[1]) + len(b[1])) / 2 + 1

    keep: list[tuple[float, str]] = []
    for t in ticks:
        if not keep or apart(keep[-1], t):
            keep.append(t)
    if ticks and keep[-1] != ticks[-1]:
        while len(keep) > 1 and not apart(keep[-1], ticks[-1]):
            keep.pop()
        keep.append(ticks[-1])
    return keep


def left_out_label(label: str, ticks: list[tuple[float, str]], shown: list[tuple[float, str]],
                   room: int) -> str:
    """An axis title that says which fixed ticks go unlabelled: `width (no label: 8, 256)`,
    or their count when the list does not fit in `room` cells."""
    shown_labels = {s for _, s in shown}
    missing = [s for _, s in ticks if s not in shown_labels]
    if not missing:
        return label
    for text in (f"{label} (no label: {', '.join(missing)})",
                 f"{label} ({len(missing)} of {len(ticks)} unlabelled)",
                 f"{label} ({len(missing)} unlabelled)"):
        if len(text) <= room:
            return text
    return label
