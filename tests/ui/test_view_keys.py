"""Plot controls (m, l, s, o, v, x), the settings form (c) and their on-screen indicators."""

from __future__ import annotations

import math

from textual.widgets import Input
from ui_helpers import epochs, press, screen_text, wait_for

from mlp_tui.widgets.settings_form import SettingsScreen

SIZE = (160, 45)


def spec(app):
    return app.plot.spec


async def test_m_cycles_the_plotted_metric(replay_app):
    app = replay_app("iris_val.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seen = []
        for _ in range(4):
            seen.append((app.monitor.settings.metric, spec(app).title, spec(app).y_label))
            await pilot.press("m")
            await pilot.pause()
        assert [s[0] for s in seen] == ["train_loss", "val_loss", "train_acc", "val_acc"]
        assert [s[1] for s in seen] == [
            "train loss",
            "validation loss",
            "train accuracy",
            "validation accuracy",
        ]
        assert app.monitor.settings.metric == "train_loss"  # wrapped around
        await pilot.press("m", "m")
        await pilot.pause()
        assert "[m] train accuracy" in screen_text(app)
        ys = [p.y for p in spec(app).series]
        assert all(0 <= v <= 1 for y in ys for v in y)


async def test_m_without_validation_skips_validation_metrics(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert app.monitor.settings.metric == "train_acc"
        await pilot.press("m")
        assert app.monitor.settings.metric == "train_loss"


async def test_l_log_scale_survives_redraws_and_labels_ticks(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        linear = max(max(p.y) for p in spec(app).series)
        await pilot.press("l")
        await pilot.pause()
        s = spec(app)
        assert s.log and "log scale" in s.title
        top = max(max(p.y) for p in s.series)
        assert math.isclose(top, math.log10(linear), rel_tol=1e-9)
        for _ in range(3):  # several builds of the same figure: plotext 5 crashed here
            app.plot.show(app.monitor.plot_spec(300))
            await pilot.pause()
        text = screen_text(app)
        assert "[l] y log" in text
        assert "log scale" in text


async def test_s_smoothing_steps_and_keeps_the_first_point(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        raw = spec(app).series[0].y.copy()
        weights = []
        for _ in range(4):
            await pilot.press("s")
            await pilot.pause()
            weights.append(app.monitor.settings.smoothing_weight)
        assert weights == [0.6, 0.9, 0.99, 0.0]
        await pilot.press("s", "s")  # ema 0.9
        await pilot.pause()
        smooth = spec(app).series[0].y
        assert smooth[0] == raw[0]  # debiased: the first point is the raw first point
        assert (abs(smooth - raw) > 1e-6).any()
        assert "(ema 0.9)" in spec(app).title
        assert "[s] smooth ema 0.9" in screen_text(app)


async def test_o_robust_range_ignores_the_spike(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        full = spec(app).y_range
        assert full[1] > 40  # width 1000 spikes to ~50
        await pilot.press("o")
        await pilot.pause()
        robust = spec(app).y_range
        assert robust[1] < 5 < full[1]
        assert "[o] range 5-95%" in screen_text(app)
        await pilot.press("o")
        assert spec(app).y_range == full


async def test_v_hides_the_selected_run_and_dims_its_row(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down", "v")  # width 1000
        await pilot.pause()
        labels = [p.label for p in spec(app).series]
        assert labels == ["w=5", "w=100"]
        assert spec(app).y_range[1] < 10  # the spike to ~50 left with the run
        assert "[v] hidden 1000" in screen_text(app)
        row = app.table.get_row("1000")
        assert "dim" in str(row[0].spans[0].style)
        await pilot.press("v")
        assert len(spec(app).series) == 3


async def test_x_switches_the_axis_to_seconds(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        assert spec(app).x_label == "epoch"
        await pilot.press("x")
        await pilot.pause()
        s = spec(app)
        assert s.x_label == "seconds"
        # the fixture's width-5 run took 0.005 s an epoch: 120 epochs end at 0.6 s
        assert math.isclose(s.series[0].x.max(), 0.6, rel_tol=1e-6)
        assert "[x] x seconds" in screen_text(app)


async def test_c_settings_form_validates_inline_and_restarts(live_app):
    app = live_app(speed=100)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 2)
        await press(pilot, "c")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        form.query_one("#f-widths", Input).value = "5,abc"
        form.action_apply()
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # still open
        assert "--widths: 'abc' is not a whole number" in screen_text(app)
        form.query_one("#f-widths", Input).value = "7,70"
        form.query_one("#f-lr", Input).value = "0.05"
        form.query_one("#f-val_split", Input).value = "0.2"
        form.action_apply()
        await wait_for(pilot, lambda: [r.width for r in app.session.runs] == [7, 70])
        await wait_for(pilot, lambda: min(epochs(app)) >= 2)
        assert app.session.cfg.lr == 0.05
        # the table is rebuilt for the new widths (it redraws at most every TABLE_S)
        await wait_for(pilot, lambda: "w=70" in screen_text(app))
        text = screen_text(app)
        assert "w=1000" not in text
        assert "val loss" in text


async def test_c_escape_keeps_the_experiment(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "c")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await press(pilot, "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        assert [r.width for r in app.session.runs] == [5, 100, 1000]
