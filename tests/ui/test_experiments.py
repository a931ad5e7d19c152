"""Datasets, depth, repeats and diverged runs, live in the app."""

from __future__ import annotations

import math
import statistics

import pytest
from ui_helpers import epochs, header, screen_text, wait_for

from mlp_tui.core.schema import Status

SIZE = (160, 45)


@pytest.mark.parametrize(
    ("dataset", "depth", "classes"),
    [("wine", 1, 3), ("breast_cancer", 3, 2), ("digits", 3, 10)],
)
async def test_other_datasets_and_depth_train_in_the_app(live_app, dataset, depth, classes):
    app = live_app(dataset=dataset, depth=depth, widths=(5, 50), speed=0, epochs=30)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        await wait_for(pilot, lambda: screen_text(app).count("30/30") == 2)
        await wait_for(
            pilot, lambda: header(app).startswith(f"ALL RUNS ENDED  {dataset} · depth {depth} · ")
        )
        assert app.session.runs[0].data.n_outputs == classes
        assert [r.status for r in app.session.runs] == [Status.FINISHED] * 2


async def test_repeats_pool_seeds_per_width(live_app):
    app = live_app(widths=(5, 100), repeats=3, speed=0, epochs=40)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        await wait_for(pilot, lambda: screen_text(app).count("40/40") == 2)
        runs = app.session.runs
        assert [(r.width, r.seed) for r in runs] == [
            (5, 0), (5, 1), (5, 2), (100, 0), (100, 1), (100, 2)
        ]
        rows = {r.width: r for r in app.monitor.rows()}
        losses = [r.history.last()["train_loss"] for r in runs if r.width == 5]
        assert rows[5].loss == pytest.approx(sum(losses) / 3)
        assert rows[5].loss_std is not None and rows[5].loss_std > 0
        assert rows[5].seed == "0..2"
        text = screen_text(app)
        assert "±" in text and "seed 0..2" in text and "w=5 (mean of 3)" in text
        assert [s.label for s in app.plot.spec.series if s.in_legend] == [
            "w=5 (mean of 3)", "w=100 (mean of 3)"
        ]
        # Issue 36: every cell of a group row is the same statistic of its seeds, said once in
        # the header: the best loss and its epoch are the seeds' mean (not one seed's minimum),
        # and the trend is the seeds' mean curve.
        await wait_for(pilot, lambda: "mean±std of 3 seeds" in header(app))
        seeds = [r for r in runs if r.width == 5]
        bests = [r.history.best("train_loss") for r in seeds]
        assert rows[5].best == pytest.approx(statistics.fmean(b for b, _ in bests))
        assert rows[5].best_std == pytest.approx(statistics.stdev(b for b, _ in bests))
        assert rows[5].best_epoch == round(statistics.fmean(at for _, at in bests))
        tails = [r.history.tail("train_loss", 10) for r in seeds]
        assert rows[5].trend == pytest.approx([statistics.fmean(c) for c in zip(*tails)])
        # the exports keep every seed
        assert len(app.runner.summaries()) == 6


async def test_a_diverged_run_stops_and_the_others_carry_on(live_app):
    app = live_app(widths=(5, 100), depth=4, lr=2.0, speed=0, epochs=100_000)
    async with app.run_test(size=SIZE) as pilot:
        runs = {r.width: r for r in app.session.runs}
        await wait_for(pilot, lambda: runs[100].status is Status.DIVERGED)
        stopped_at = len(runs[100].history)
        before = len(runs[5].history)
        await wait_for(pilot, lambda: len(runs[5].history) > before + 50)
        assert len(runs[100].history) == stopped_at
        await wait_for(pilot, lambda: "diverged" in screen_text(app))
        spec = app.plot.spec
        for s in spec.series:
            assert all(math.isfinite(v) for v in s.y)  # no NaN reaches plotext
        lo, hi = spec.y_range
        assert math.isfinite(lo) and math.isfinite(hi)
        assert min(epochs(app)) == stopped_at


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_a_regression_reads_in_its_own_words_and_directions(live_app, size):
    """Diabetes: the table says MSE and R², its best is the highest validation R² (not the
    lowest), the plot's title names MSE; at 80x24 as at 160x45."""
    app = live_app(dataset="diabetes", standardize=True, val_split=0.2, widths=(8, 64),
                   speed=0, epochs=80)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        await wait_for(pilot, lambda: screen_text(app).count("80/80") == 2)
        text = screen_text(app)
        assert "val MSE" in text and "val R²" in text and "best val R²" in text
        assert "loss (MSE)" in text and " acc" not in text
        for run in app.session.runs:
            r2 = run.history.read()["val_r2"]
            best, at = run.history.best("val_r2")
            assert best == max(r2) and at == r2.index(max(r2)) + 1
            assert f"{best:.4f}" in text and f"@{at}" in text
