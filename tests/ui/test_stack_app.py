"""`--stack` in the app: a grid of stacks, one row per configuration (its stacked seeds pooled),
and the row's controls pause and restart exactly that stack's seeds."""

from __future__ import annotations

from helpers import acted_on
from ui_helpers import header, press, screen_text, wait_for

SIZE = (200, 50)
GRID = dict(widths=(5, 10), depth=(1, 2), repeats=3, stack=True)


async def test_a_row_pauses_and_restarts_its_stack_and_only_it(live_app):
    app = live_app(speed=100, **GRID)
    async with app.run_test(size=SIZE) as pilot:
        runs = app.session.runs
        assert [len(u.runs) for u in app.session.experiment.units] == [3, 3, 3, 3]
        await wait_for(pilot, lambda: all(len(r.history) >= 2 for r in runs))
        await wait_for(pilot, lambda: "mean±std of 3 seeds, stacked" in header(app))
        assert "12 runs" in header(app)
        assert [r.key for r in app.monitor.rows()] == ["w=5 d=1", "w=5 d=2", "w=10 d=1", "w=10 d=2"]
        await press(pilot, "down", "space")  # second row: w=5 d=2, the runs 3, 4, 5
        group = [3, 4, 5]
        assert [r.paused for r in runs] == [i in group for i in range(12)]
        await wait_for(pilot, lambda: acted_on(runs))
        frozen = [len(runs[i].history) for i in group]
        other = len(runs[0].history)
        await wait_for(pilot, lambda: len(runs[0].history) > other + 5)
        assert [len(runs[i].history) for i in group] == frozen
        await wait_for(pilot, lambda: "3 paused" in header(app))
        await press(pilot, "space", "R")  # resume it, then restart its three seeds
        assert not any(r.paused for r in runs)
        assert [r.seed for r in runs] == [0, 1, 2, 3, 4, 5, 0, 1, 2, 0, 1, 2]
        await wait_for(pilot, lambda: all(len(runs[i].history) >= 2 for i in group))
        assert [len(runs[i].retired) for i in range(12)] == [int(i in group) for i in range(12)]
        await wait_for(pilot, lambda: "w=5 d=2" in screen_text(app))
