"""The capacity view reads true at every size: a title in every mode, every trained width
labelled on the x-axis (or the axis title says which are not), one number format per axis
(issue 36, item 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import DATA
from ui_helpers import drawn, press, screen_lines, screen_text, wait_for

from mlp_tui.tui.figure import build_figure
from mlp_tui.view import PlotSeries, PlotSpec
from mlp_tui.view.capacity_plot import width_ticks

WIDTHS = ["2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"]


def plot_lines(app) -> list[str]:
    """The plot's own columns of the screen (the table beside it left out)."""
    r = app.plot.region
    return [line[r.x:r.x + r.width] for line in screen_lines(app)[r.y:r.y + r.height]]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (150, 45), (160, 45)])
@pytest.mark.parametrize("keys", [(), ("a",), ("l",), ("a", "l")])
async def test_the_capacity_view_keeps_its_title_and_labels_every_width(replay_app, size, keys):
    app = replay_app(DATA / "cap.csv")  # widths 2..1024, validation
    async with app.run_test(size=size) as pilot:
        await drawn(pilot)
        await press(pilot, "w", *keys)
        lines = plot_lines(app)
        titles = [ln for ln in lines if "vs width" in ln]
        assert titles, "\n".join(lines)  # a title at every size, in every mode
        at = "best" if "a" in keys else "latest epoch"
        assert at in titles[0] or titles[0].strip().endswith("vs width")
        axis = next(i for i, ln in enumerate(lines) if "└" in ln)
        assert lines[axis + 1].split() == WIDTHS, "\n".join(lines[axis:])
        ys = [ln.split("┤")[0].strip() for ln in lines if "┤" in ln]
        assert len({"e" in y for y in ys}) == 1  # one number format on the y-axis


def test_a_crowded_width_axis_says_which_widths_it_leaves_unlabelled():
    widths = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024]
    x = np.log2(widths)
    series = [PlotSeries("train", 1, x, np.linspace(1, 0.1, len(x)), joined=True)]
    for cols in (40, 60, 73, 120):
        spec = PlotSpec(series=series, title="loss vs width", x_label="width", y_label="loss",
                        x_ticks=width_ticks(widths), x_range=(1.0, math.log2(1024)))
        lines = [ln.rstrip() for ln in _plain(build_figure(spec, cols, 14, series)).splitlines()]
        shown = lines[-2].split()
        missing = [str(w) for w in widths if str(w) not in shown]
        assert shown[0] == "2" and shown[-1] == "1024"
        assert "  ".join(shown) and all(s in map(str, widths) for s in shown)
        if missing:
            said = lines[-1]
            assert f"no label: {', '.join(missing)}" in said or f"{len(missing)} of 16" in said
        else:
            assert lines[-1].split() == ["loss", "width"]


def _plain(ansi: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", ansi)


async def test_the_capacity_legend_names_lines_as_the_table_does(live_app):
    """A grid's lines read `d=2`, the table's word, not `depth=2` (issue 36, item 6)."""
    app = live_app(widths=(5, 10), depth=(1, 2), epochs=5, speed=0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: all(len(r.history) == 5 for r in app.session.runs))
        await drawn(pilot)
        assert "d=2" in screen_text(app)  # the table's rows
        await press(pilot, "w")
        legend = screen_lines(app)[2]
        assert "d=1 train" in legend and "d=2 train" in legend, legend
        assert "depth=" not in screen_text(app)


async def test_the_capacity_view_marks_the_threshold_and_counts_parameters(live_app):
    """`w` draws where the parameter count equals n and n x classes (105 training samples of
    iris at val split 0.3: n=105, n×3=315), and `x` puts the parameter count on the axis."""
    from ui_helpers import screen_text, wait_for

    app = live_app(widths=(2, 8, 32, 128), val_split=0.3, epochs=20, speed=0)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        await pilot.press("w")
        await wait_for(pilot, lambda: "n×3=315" in screen_text(app))
        assert "n=105" in screen_text(app) and "x:width" in screen_text(app)
        await pilot.press("x")
        # 8 w + 3 parameters at depth 1 on iris: 19, 67, 259, 1027
        await wait_for(pilot, lambda: "x:parameters" in screen_text(app))
        text = screen_text(app)
        assert all(str(p) in text for p in (19, 67, 259, 1027)) and "parameters" in text
