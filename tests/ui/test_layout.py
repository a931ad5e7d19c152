"""Layout: side by side only when the plot and the whole table fit, else stacked with the table
showing only whole columns; tiny terminals show a message and recover."""

from __future__ import annotations

import re

import pytest
from ui_helpers import drawn, resize, screen_lines, screen_text, wait_for

# Columns in display order, and the order in which they stay when the table is narrow.
DISPLAY = ("width", "status", "epoch", "loss", "acc", "best", "note", "trend")
PRIORITY = ("width", "status", "loss", "epoch", "best", "note", "acc", "trend")
HEADERS = {  # each column's header lines, with and without a validation set
    "width": ("width", "seed"),
    "status": ("status", "health"),
    "epoch": ("epoch", "ep/s"),
    "loss": ("loss",),
    "acc": ("acc",),
    "best": ("best", "@epoch"),
    "trend": ("trend", "last 10"),
}
VAL_HEADERS = {"loss": ("loss", "val loss"), "acc": ("acc", "val acc"),
               "best": ("best val", "@epoch"), "note": ("overfitting",)}
SIZES = [(60, 15), (80, 24), (100, 30), (120, 40), (160, 45), (200, 50)]
WIDEST_RATE = re.compile(r"\b[1-9]\d\d ep/s")


async def test_side_by_side_at_160_columns(replay_app):
    app = replay_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await drawn(pilot)
        plot, table = app.plot.region, app.table.region
        assert plot.y == table.y and plot.right <= table.x and table.right == 160
        assert plot.width >= 60


async def test_stacked_below_100_columns(replay_app):
    app = replay_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await drawn(pilot)
        plot, table = app.plot.region, app.table.region
        assert plot.bottom <= table.y
        assert plot.width == 80 and table.x == 0 and table.width == 80


async def test_too_small_shows_a_message_and_recovers(replay_app):
    app = replay_app()
    async with app.run_test(size=(50, 12)) as pilot:
        await wait_for(pilot, lambda: "terminal too small" in screen_text(app))
        assert app.screen.has_class("-too-small")
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: "w=1000" in (t := screen_text(app)) and "120/120" in t)
        assert "terminal too small" not in screen_text(app)


async def test_replay_shows_every_width_and_final_values(replay_app):
    app = replay_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await drawn(pilot)
        text = screen_text(app)
        for w in ("5", "100", "1000"):
            assert f"w={w}" in text
        assert text.count("finished") == 3
        assert screen_lines(app)[0].strip().startswith("ALL RUNS ENDED  replay · iris · ")


def _whole(word: str, line: str) -> bool:
    return re.search(rf"(^|\s){re.escape(word)}(\s|$)", line) is not None


@pytest.mark.parametrize("val_split", [0.0, 0.2], ids=["train-only", "val-split"])
async def test_no_column_is_cut_at_any_size(live_app, val_split):
    """While the runs train (ep/s measured: the epoch column at its widest), at every size: the
    shown columns are the most important ones that fit, in display order, the table's content
    fits its region (no horizontal scrollbar), and every shown header appears whole."""
    app = live_app(val_split=val_split, speed=200)
    keys = [k for k in DISPLAY if k not in ("acc", "note") or val_split]
    headers = {**HEADERS, **(VAL_HEADERS if val_split else {})}
    async with app.run_test(size=SIZES[0]) as pilot:
        await wait_for(pilot, lambda: all(r.epochs_per_s for r in app.session.runs))
        # Three digits of ep/s (the pace's own width), however busy the machine keeps them.
        await wait_for(pilot, lambda: WIDEST_RATE.search(app.table.get_cell("5", "epoch").plain))
        for width, height in SIZES:
            frames = app.redraws
            await resize(pilot, width, height)
            await drawn(pilot, since=frames)  # the next redraw, at the new size
            table = app.table
            shown = table.columns_shown
            assert shown == tuple(k for k in keys if k in shown)  # display order
            ranked = [k for k in PRIORITY if k in keys]
            assert set(shown) == set(ranked[: len(shown)]), (width, shown)  # by priority
            assert {"width", "status", "loss"} <= set(shown)
            assert table.virtual_size.width <= table.scrollable_content_region.width
            assert not table.show_horizontal_scrollbar
            side_by_side = app.plot.region.right <= table.region.x
            if side_by_side:
                assert app.plot.region.width >= 60 and shown == tuple(keys)
            else:
                assert table.region.width == width
            region = table.region
            lines = [
                line[region.x : region.right]
                for line in screen_lines(app)[region.y : region.y + 4]
            ]
            top = next(i for i, line in enumerate(lines) if _whole("width", line))
            for key in shown:
                for i, label in enumerate(headers[key]):
                    assert _whole(label, lines[top + i]), (width, key, label, lines)
            if width >= 100:
                assert shown == tuple(keys)  # everything fits from 100 columns on


@pytest.mark.parametrize("size", [(80, 24), (60, 15), (120, 40)])
async def test_header_and_view_bar_drop_whole_items_never_cut_one(live_app, size):
    """Issue 36: at 80x24 the header ended `· 20` (the unit lost) and the view bar `s:smooth`:
    each line now shows only whole items of what it has to say."""
    app = live_app(epochs=100_000, speed=20, repeats=2)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.session.runs and len(app.session.runs[0].history) > 2)
        await pilot.pause(0.3)
        state, parts = app.monitor.header_facts()
        mon = app.monitor
        view = mon.settings.describe(mon.scale, mon.has_val, mon.repeats, app.session.x_name)
        lines = screen_lines(app)
        head = lines[0].strip()
        assert head.startswith(state.upper())
        shown = [p for p in head[len(state):].strip().split(" · ") if p]
        assert shown and all(p in parts for p in shown), (shown, parts)
        bar = [p for p in lines[1].strip().split("  ") if p]
        assert bar and all(p in view.split("  ") for p in bar), (bar, view)
