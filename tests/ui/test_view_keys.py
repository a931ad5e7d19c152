"""Plot controls (m, l, s, o, v, x) on a replayed file, and the view bar that names each."""

from __future__ import annotations

import math

import numpy as np
from ui_helpers import drawn, press, screen_lines, settle

SIZE = (160, 45)


def spec(app):
    return app.plot.spec


def viewbar(app) -> str:
    return screen_lines(app)[1].strip()


def linear(s) -> list[np.ndarray]:
    """The plotted values on the data's own scale."""
    return [10**p.y if s.log else p.y for p in s.series]


async def test_m_cycles_the_plotted_metric(replay_app):
    """With a validation set: the loss pair (train and val on one chart), the accuracy pair,
    each metric alone, then the instruments (none recorded in this file: nothing drawn); the
    title and y label name what is drawn."""
    app = replay_app("iris_val.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        seen = []
        for _ in range(9):
            s = spec(app)
            styles = sorted({p.style for p in s.series})
            seen.append((app.monitor.settings.metric, s.title.split(" · ")[0], s.y_label, styles))
            await press(pilot, "m")
        assert seen == [
            ("loss", "loss: train and validation", "loss", ["line", "val"]),
            ("acc", "accuracy: train and validation", "accuracy", ["line", "val"]),
            ("train_loss", "train loss", "train loss", ["line"]),
            ("train_acc", "train accuracy", "train accuracy", ["line"]),
            ("val_loss", "validation loss", "validation loss", ["line"]),
            ("val_acc", "validation accuracy", "validation accuracy", ["line"]),
            ("grad_norm", "gradient norm", "gradient norm", ["line"]),
            ("weight_norm", "weight norm", "weight norm", ["line"]),
            ("sharpness", "sharpness", "sharpness", ["line"]),
        ]
        assert app.monitor.settings.metric == "loss"  # wrapped around
        await press(pilot, "m", "m", "m")  # loss, acc, train_loss, train_acc
        assert app.monitor.settings.metric == "train_acc"
        assert viewbar(app).startswith("m:train accuracy  ")
        values = np.concatenate(linear(spec(app)))
        assert len(values) and ((values >= 0) & (values <= 1 + 1e-9)).all()


async def test_m_without_validation_skips_validation_metrics(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert spec(app).title.startswith("train loss")
        await press(pilot, "m")
        assert app.monitor.settings.metric == "acc"
        assert spec(app).title.startswith("train accuracy")
        assert {p.style for p in spec(app).series} == {"line"}
        await press(pilot, "m")  # then the instruments, as a run without validation has them
        assert app.monitor.settings.metric == "grad_norm"
        await press(pilot, "m", "m", "m")
        assert app.monitor.settings.metric == "loss"


async def test_auto_log_scale_then_l_chooses_and_the_choice_sticks(replay_app):
    """The width-1000 spike to ~50 over losses near 0.06 spans far more than 30x: log (auto).
    `l` overrides it, and the choice holds whatever the data then shows."""
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        auto = spec(app)
        assert auto.log and "log scale" in auto.title
        assert "l:y log (auto)" in viewbar(app)
        await press(pilot, "l")
        lin = spec(app)
        assert not lin.log and "log scale" not in lin.title
        assert "l:y linear  " in viewbar(app)
        top = max(max(p.y) for p in lin.series)
        assert top > 40
        assert math.isclose(max(max(p.y) for p in auto.series), math.log10(top), rel_tol=1e-9)
        await press(pilot, "down", "down", "v")  # hiding the spike keeps the explicit choice
        assert not spec(app).log and "l:y linear  " in viewbar(app)
        await press(pilot, "l")
        assert spec(app).log and "l:y log  " in viewbar(app)
        for _ in range(3):  # several builds of the same figure: plotext 5 crashed here
            app.plot.show(app.monitor.plot_spec(300))
            await settle(pilot)
        assert "log scale" in "\n".join(screen_lines(app))


async def test_s_smoothing_steps_and_keeps_the_first_point(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        raw = spec(app).series[0].y.copy()
        weights = []
        for _ in range(4):
            await press(pilot, "s")
            weights.append(app.monitor.settings.smoothing_weight)
        assert weights == [0.1, 0.2, 0.3, 0.4]
        for _ in range(5):  # up to 0.9
            await press(pilot, "s")
        faint, smooth = spec(app).series[0], spec(app).series[1]
        assert faint.style == "faint" and (faint.y == raw).all()  # the raw curve stays, faint
        smooth = smooth.y
        assert smooth[0] == raw[0]  # debiased: the first point is the raw first point
        assert (abs(smooth - raw) > 1e-6).any()
        assert "(ema 0.9)" in spec(app).title
        assert "s:smooth ema 0.9" in viewbar(app)


async def test_o_robust_range_ignores_the_spike(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "l")  # linear, where the spike to ~50 flattens everything else
        full = spec(app).y_range
        assert full[1] > 40
        assert "o:range all (auto)" in viewbar(app)  # 45 rows: tall enough for the whole range
        await press(pilot, "o")
        robust = spec(app).y_range
        assert robust[1] < 5 < full[1]
        assert "o:range 5-95%  " in viewbar(app)
        await press(pilot, "o")
        assert spec(app).y_range == full
        assert "o:range all  " in viewbar(app)


async def test_auto_robust_range_on_a_short_plot(replay_app):
    app = replay_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await drawn(pilot)
        await press(pilot, "l")  # linear
        assert app.monitor.scale.robust and "o:range 5-95% (auto)" in viewbar(app)
        assert spec(app).y_range[1] < 5  # the spike to ~50 is clipped


async def test_v_hides_the_selected_run_and_dims_its_row(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "down", "down", "v")  # width 1000
        assert [p.label for p in spec(app).series] == ["w=5", "w=100"]
        # The spike to ~50 left with the run.
        lo, hi = spec(app).y_range
        assert (10**hi if spec(app).log else hi) < 10
        assert "v:hidden 1000" in viewbar(app)
        row = app.table.get_row("1000")
        assert "dim" in str(row[0].spans[0].style)
        await press(pilot, "v")
        assert len(spec(app).series) == 3 and spec(app).log


async def test_x_switches_the_axis_to_seconds(replay_app):
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert spec(app).x_label == "epoch"
        await press(pilot, "x")
        s = spec(app)
        assert s.x_label == "seconds"
        # the fixture's width-5 run took 0.005 s an epoch: 120 epochs end at 0.6 s
        assert math.isclose(s.series[0].x.max(), 0.6, rel_tol=1e-6)
        assert "x:seconds" in viewbar(app)
        assert "seconds" in screen_lines(app)[-2]  # the x-axis title
