"""The loss plot: a widget that draws its PlotSpec (tui.figure) at its own size, rebuilding only
when the spec or its size changed."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widget import Widget

from mlp_tui.tui.figure import render_spec
from mlp_tui.view import PlotSpec


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
        # The widest y tick labels drawn for this kind of axis: kept, so the y-axis (the plot's
        # left border) stays in one column while the range moves; a new axis starts afresh.
        self._label_w = [0]
        self._axis: tuple = ()

    def show(self, spec: PlotSpec) -> None:
        axis = (spec.y_label, spec.log, spec.grid, spec.x_label)
        if axis != self._axis:
            self._axis, self._label_w = axis, [0]
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
        has_data = any(len(s.x) for s in spec.series)
        if width >= 20 and height >= 6 and (has_data or not spec.message):
            self.builds += 1
        return render_spec(spec, width, height, self._label_w)
