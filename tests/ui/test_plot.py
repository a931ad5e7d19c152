"""What the plot shows: the default experiment's three widths end on three different rows, and
without colour (NO_COLOR) every width keeps a marker of its own in the plot, legend and table."""

from __future__ import annotations

import pytest
from ui_helpers import drawn, press, screen_lines, wait_for, wait_for_value

BRAILLE = range(0x2801, 0x2900)  # a braille cell with at least one dot


def plot_box(app) -> tuple[list[str], int]:
    """The plot area's rows (top first, inside the frame) and the frame's left column."""
    region = app.plot.region
    lines = [line[region.x : region.right] for line in screen_lines(app)[region.y : region.bottom]]
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    left = lines[top].index("┌")
    return [line[left + 1 : lines[top].index("┐")] for line in lines[top + 1 : bottom]], left


async def drawn_to_the_end(pilot, epochs: int) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.session.ended, timeout=60)
    await wait_for(pilot, lambda: not app.monitor.plot_dirty and all(
        len(s.x) and s.x[-1] == epochs for s in app.plot.spec.series
    ))
    await drawn(pilot)


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])
async def test_the_three_widths_end_on_different_rows(live_app, size):
    """With the defaults, width 1000's early spike (to ~50) and the final losses (about 0.47,
    0.27 and 0.06) differ by far more than a linear axis over the spike can show on one screen:
    the final losses must still sit on three different rows."""
    app = live_app(epochs=100, speed=0)  # the default experiment, unthrottled
    async with app.run_test(size=size) as pilot:
        await drawn_to_the_end(pilot, 100)
        spec = app.plot.spec
        assert [s.label for s in spec.series] == ["w=5", "w=100", "w=1000"]
        rows, _left = plot_box(app)
        lo, hi = spec.y_range
        ends = [float(s.y[-1]) for s in spec.series]
        ats = [(y - lo) / (hi - lo) * (len(rows) - 1) for y in ends]  # from the bottom row
        found = [len(rows) - 1 - round(at) for at in ats]  # from the top row
        assert len(set(found)) == 3, (ends, spec.y_range, len(rows))
        assert ends[0] > ends[1] > ends[2]  # the widest net ends lowest
        assert found[0] < found[1] < found[2]
        for row in found:  # each line's last point is drawn in its row's last column
            assert ord(rows[row][-1]) in BRAILLE, (row, rows)


async def test_no_color_gives_each_width_its_own_marker(live_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = live_app(epochs=100, speed=0)
    async with app.run_test(size=(160, 45)) as pilot:
        await drawn_to_the_end(pilot, 100)
        await wait_for(pilot, lambda: "100/100" in app.table.get_cell("1000", "epoch").plain)

        def swatches() -> list[str]:
            cells = [app.table.get_cell(w, "width").plain for w in ("5", "100", "1000")]
            return [cell.split(" ")[0] for cell in cells]

        assert len(set(swatches())) == 3 and all(swatches())
        lines = screen_lines(app)
        legend = lines[app.plot.region.y]
        for mark, width in zip(swatches(), ("5", "100", "1000")):
            assert f"{mark} w={width} " in legend
        region = app.table.region
        table = [line[region.x : region.right] for line in lines[region.y : region.bottom]]
        for row, (mark, width) in enumerate(zip(swatches(), ("5", "100", "1000"))):
            assert any(f" {mark} {width} " in line for line in table), (mark, width)
            await press(pilot, *["down"] * (row > 0))
            await wait_for_value(pilot, lambda: app.table.cursor_row, row)
            shown = [line[region.x : region.right] for line in screen_lines(app)]
            assert any(f" {mark} {width} " in line for line in shown)  # the selected row too
        rows, _left = plot_box(app)
        plotted = "".join(rows)
        assert any(ord(c) in BRAILLE for c in plotted)  # the first width: braille lines
        for mark in swatches()[1:]:
            assert mark[0] in plotted  # the others: their own glyph
