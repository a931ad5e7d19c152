"""A grid in the app: one row per configuration with its values, controls on one group."""

from __future__ import annotations

from helpers import acted_on
from ui_helpers import header, press, screen_text, wait_for

from mlp_tui.view.rows import run_color

SIZE = (200, 50)
GRID = dict(widths=(5, 10), depth=(1, 2), lr=(0.1, 0.01))


async def test_grid_shows_one_row_per_configuration(live_app):
    app = live_app(speed=100, **GRID)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(len(r.history) >= 2 for r in app.session.runs))
        rows = app.monitor.rows()
        assert [r.key for r in rows] == [
            f"w={w} d={d} lr={lr:g}" for w in (5, 10) for d in (1, 2) for lr in (0.1, 0.01)
        ]
        # each row shows the run that trains exactly those values
        for row, run in zip(rows, app.session.runs, strict=True):
            m = run.meta
            assert row.key == f"w={m['width']} d={m['depth']} lr={m['lr']:g}"
            assert row.width == m["width"]
        # one clearly different colour per configuration (#23: not four per width)
        assert [r.color for r in rows] == [run_color(i) for i in range(8)]
        assert len({r.color for r in rows}) == 8
        await wait_for(pilot, lambda: "w=5 d=2 lr=0.01" in (t := screen_text(app))
                       and "w=10 d=1 lr=0.1" in t)
        await wait_for(pilot, lambda: "8 running" in header(app) and "8 runs" in header(app))
        spec = app.monitor.plot_spec(80)
        assert {s.label for s in spec.series} == {r.key for r in rows}


async def test_space_and_restart_act_on_one_configuration(live_app):
    app = live_app(speed=100, **GRID)
    async with app.run_test(size=SIZE) as pilot:
        runs = app.session.runs
        await wait_for(pilot, lambda: all(len(r.history) >= 2 for r in runs))
        await press(pilot, "down", "down", "down", "space")  # fourth row: w=5 d=2 lr=0.01
        assert [r.paused for r in runs] == [i == 3 for i in range(8)]
        await wait_for(pilot, lambda: acted_on(runs))
        frozen, other = len(runs[3].history), len(runs[0].history)
        await wait_for(pilot, lambda: len(runs[0].history) > other + 5)
        assert len(runs[3].history) == frozen
        await wait_for(pilot, lambda: "1 paused" in header(app))
        await press(pilot, "space", "up", "R")  # resume it, then restart w=5 d=2 lr=0.1
        assert not runs[3].paused
        assert [r.seed for r in runs] == [0, 0, 1, 0, 0, 0, 0, 0]
