"""The experiment's answer at a glance: train and validation on one chart with best-epoch marks,
the epoch cursor and its readout, zoom, seed bands, the capacity view, alerts and the
remembered view. Every test checks the numbers shown against the recorded histories."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import DATA
from ui_helpers import (
    alerts,
    bad_news,
    drawn,
    notifications,
    press,
    screen_lines,
    settle,
    wait_for,
)

from mlp_tui.persist.view_file import load_view, view_path
from mlp_tui.tui.widgets.news import DONE_TITLE
from mlp_tui.view.fmt import fmt_num
from mlp_tui.view.readout import readout_text

SIZE = (160, 45)


def record(run, epoch: int) -> dict:
    return run.history.read(epoch - 1, epoch).record(0)


def linear(spec, y):
    return 10 ** np.asarray(y) if spec.log else np.asarray(y)


def readout_line(app) -> str:
    return str(app.readout.render()).strip()


async def test_train_and_val_share_the_chart_with_best_epochs_marked(replay_app):
    app = replay_app(DATA / "v500.csv")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        spec = app.plot.spec
        runs = app.session.runs
        assert [(s.label, s.style, s.color) for s in spec.series] == [
            (f"w={w}{v}", st, c)
            for w, c in zip((5, 100, 1000), (39, 208, 76))
            for v, st in (("", "line"), (" val", "val"))
        ]
        marks = sorted((m.x, m.y) for m in spec.marks)
        want = sorted((r.history.best("val_loss")[1], r.history.best("val_loss")[0]) for r in runs)
        assert [x for x, _ in marks] == [x for x, _ in want]
        assert np.allclose(linear(spec, [y for _, y in marks]), [y for _, y in want])
        top = "\n".join(screen_lines(app)[:4])
        assert "validation" in top and "best val epoch" in top
        text = "\n".join(screen_lines(app))
        for r in runs:  # the table's best column is the best validation loss and its epoch
            best, at = r.history.best("val_loss")
            assert f"{best:.4f}" in text and f"@{at}" in text


async def test_cursor_readout_is_the_history_at_that_epoch(replay_app):
    app = replay_app(DATA / "v500.csv")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert app.monitor.settings.cursor is None and not app.readout.display
        await press(pilot, "left")  # the cursor appears on the latest epoch
        assert app.monitor.settings.cursor == 500
        await press(pilot, "left")
        step = app._cursor_step()
        assert app.monitor.settings.cursor == 500 - step
        await press(pilot, "home", "right", "right", "right")
        epoch = 1 + 3 * step
        assert app.monitor.settings.cursor == epoch and app.plot.spec.cursor == epoch
        line = readout_line(app)
        assert line == readout_text(app.monitor, epoch) and line.startswith(f"epoch {epoch} ")
        for run in app.session.runs:
            rec = record(run, epoch)
            assert (f"w={run.width} {rec['train_loss']:.4f}/{rec['val_loss']:.4f} "
                    f"{rec['train_acc']:.3f}/{rec['val_acc']:.3f}") in line
        await press(pilot, "g")  # the grid keeps the cursor
        assert app.plot.spec.cursor == epoch and readout_line(app) == line
        await press(pilot, "end")
        assert app.monitor.settings.cursor is None and app.plot.spec.cursor is None
        assert not app.readout.display
        await press(pilot, "left", "escape")
        assert app.monitor.settings.cursor is None


async def test_cursor_on_a_live_session(live_app):
    app = live_app(speed=200, val_split=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(len(r.history) for r in app.session.runs) > 5)
        await press(pilot, "p", "home")
        await wait_for(pilot, lambda: app.monitor.settings.cursor == 1)
        for run in app.session.runs:
            rec = record(run, 1)
            assert f"w={run.width} {rec['train_loss']:.4f}/" in readout_line(app)


async def test_zoom_windows_follow_the_last_epochs(replay_app):
    app = replay_app(DATA / "v500.csv")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "m", "m")  # train loss alone
        full = app.plot.spec
        await press(pilot, "z")
        assert app.plot.spec.x_range == (1.0, 500.0)  # the last 1000 of 500: all of them
        await press(pilot, "z")
        spec = app.plot.spec
        assert spec.x_range == (401.0, 500.0) and "z:last 100" in screen_lines(app)[1]
        window = np.concatenate([r.history.column("train_loss", 400, 500)
                                 for r in app.session.runs])
        lo, hi = linear(spec, spec.y_range)
        assert lo >= window.min() * 0.999 and hi <= window.max() * 1.001  # y fits the window
        for s in spec.series:
            assert s.x.min() >= 401
        await press(pilot, "z")
        assert app.plot.spec.x_range == full.x_range


async def test_seed_band_limits_are_the_seeds_min_and_max(replay_app):
    app = replay_app(DATA / "rep5.csv")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "m", "m")  # train loss alone: one band per width
        spec = app.plot.spec
        bands = [s for s in spec.series if s.style == "band"]
        assert [s.label for s in bands] == ["w=5", "w=100", "w=1000"]
        for b, width in zip(bands, (5, 100, 1000)):
            seeds = [r for r in app.session.runs if r.width == width]
            assert len(seeds) == 5 and len(b.x) > 50
            vals = np.array([[record(r, int(x))["train_loss"] for x in b.x] for r in seeds])
            assert np.allclose(linear(spec, b.y), vals.max(axis=0), rtol=1e-9)
            assert np.allclose(linear(spec, b.lo), vals.min(axis=0), rtol=1e-9)
            mean = next(s for s in spec.series if s.label == f"w={width} (mean of 5)")
            assert np.allclose(linear(spec, mean.y), vals.mean(axis=0), rtol=1e-9)
        await press(pilot, "l")  # linear, for the std band
        await press(pilot, "b")
        spec = app.plot.spec
        b = next(s for s in spec.series if s.style == "band")
        vals = np.array([[record(r, int(x))["train_loss"] for x in b.x]
                         for r in app.session.runs if r.width == 5])
        assert np.allclose(b.y, vals.mean(axis=0) + vals.std(axis=0, ddof=1), rtol=1e-9)
        assert np.allclose(b.lo, vals.mean(axis=0) - vals.std(axis=0, ddof=1), rtol=1e-9)
        await press(pilot, "b")
        spec = app.plot.spec
        assert [s.style for s in spec.series].count("faint") == 15  # every seed, on demand
        assert "b:seeds" in screen_lines(app)[1]
        text = "\n".join(screen_lines(app))
        assert "±" in text
        await press(pilot, "home", "right")  # the readout: the means over the seeds
        epoch = app.monitor.settings.cursor
        for width in (5, 100, 1000):
            recs = [record(r, epoch) for r in app.session.runs if r.width == width]
            train = sum(r["train_loss"] for r in recs) / 5
            val = sum(r["val_loss"] for r in recs) / 5
            assert f"w={width} {train:.4f}/{val:.4f} " in readout_line(app)
        assert "means over seeds" in readout_line(app)


@pytest.mark.parametrize("basis", ["epoch", "cursor", "best"])
async def test_capacity_points_are_each_runs_loss(replay_app, basis):
    app = replay_app(DATA / "cap.csv")
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "w")
        epoch = None
        if basis == "cursor":
            await press(pilot, "home", "right")
            epoch = app.monitor.settings.cursor
            assert epoch > 1
        if basis == "best":
            await press(pilot, "a")
        spec = app.plot.spec
        runs = sorted(app.session.runs, key=lambda r: r.width)
        train, val = spec.series[0], spec.series[1]
        assert (train.style, val.style) == ("line", "val") and spec.x_label == "width"
        assert np.allclose(2 ** train.x, [r.width for r in runs])
        for metric, s in (("train_loss", train), ("val_loss", val)):
            at = [r.history.best("val_loss")[1] if basis == "best" else (epoch or 300)
                  for r in runs]
            want = [record(r, e)[metric] for r, e in zip(runs, at)]
            assert np.allclose(linear(spec, s.y), want, rtol=1e-12)
        best = min(runs, key=lambda r: record(r, r.history.best("val_loss")[1] if basis == "best"
                                              else (epoch or 300))["val_loss"])
        assert [m.text for m in spec.marks] == [f"★ w={best.width}"]
        lines = "\n".join(screen_lines(app))
        assert "vs width" in lines and "1024" in lines


async def test_the_view_is_remembered_across_launches(replay_app):
    app = replay_app(DATA / "rep5.csv")  # repeats: `b` applies
    async with app.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        await press(pilot, "m", "l", "s", "s", "g", "z", "b", "down", "v", "left")
        chosen = app.monitor.settings
        assert chosen.cursor is not None
    assert load_view()["kinds"][app.view_kind]["metric"] == "acc"
    again = replay_app(DATA / "rep5.csv")
    async with again.run_test(size=SIZE) as pilot:
        await drawn(pilot)
        assert notifications(again)[0].startswith("view as you left it: metric, ")  # said once
        s = again.monitor.settings
        assert (s.metric, s.log, s.smoothing, s.grid, s.zoom, s.band, s.hidden, s.cursor) == (
            "acc", chosen.log, 0.2, True, 1, "mean±std", {100}, None)
        await press(pilot, "0")
        assert again.monitor.settings.metric == "loss" and not view_path().exists()
        assert not again.monitor.settings.grid


@pytest.mark.parametrize("quiet", [False, True])
async def test_alerts_when_runs_end_and_the_bell_unless_quiet(live_app, quiet):
    app = live_app(epochs=30, speed=50, quiet=quiet)
    rings = []
    app.bell = lambda: rings.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        await wait_for(pilot, lambda: any("all runs ended" in a for a in alerts(app)))
        told = " ".join(alerts(app))
        for w in (5, 100, 1000):
            assert f"w={w}" in told
        # Issue 36: runs that finish as planned are news, not an alert: no alarm, no bell.
        assert bad_news(app) == [] and rings == []


@pytest.mark.parametrize("quiet", [False, True])
async def test_bad_news_is_an_alert_and_rings_unless_quiet(live_app, quiet):
    app = live_app(widths=(5,), depth=4, lr=1e4, epochs=100_000, speed=0, quiet=quiet)
    rings = []
    app.bell = lambda: rings.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bad_news(app))
        assert "w=5" in bad_news(app)[0]
        assert bool(rings) is not quiet


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (60, 15)])
async def test_news_never_covers_the_final_values_nor_the_axes(live_app, size):
    """Issue 36: the toast of the finished runs hid `best` and `trend` at 80x24, `overfitting`
    at 120x40, the x-axis labels at 60x15. News shows in the view bar's row instead: every
    row's final loss and the x-axis' last label are on screen while it shows, and it never
    says a run finished while that run's row reads otherwise."""
    app = live_app(epochs=100, speed=0)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_for(pilot, lambda: any("all runs ended" in a for a in alerts(app)))
        # The news as the app tells it, held on screen for as long as the checks take.
        app.notify(alerts(app)[-1], title=DONE_TITLE, timeout=600, markup=False)
        await wait_for(pilot, lambda: not _covered(app, size))
        assert app.news.lines[-1].endswith("finished: all runs ended")


def _covered(app, size) -> list[str]:
    """What the screen misses now: the news, a row's final values, the x-axis' last label."""
    lines = screen_lines(app)
    text = "\n".join(lines)
    missing = [] if app.news.lines and app.news.lines[-1] in text else ["the news"]
    shown = app.table.columns_shown
    for r in app.monitor.rows() if size != (60, 15) else ():  # 60x15: the table scrolls
        if r.status.value != "finished" or fmt_num(r.loss) not in text:
            missing.append(f"{r.key}: loss")
        if "best" in shown and not (fmt_num(r.best) in text and f"@{r.best_epoch}" in text):
            missing.append(f"{r.key}: best")
    arrows = sum(line.count("↓") + line.count("↑") + line.count("→") for line in lines)
    if "trend" in shown and size != (60, 15) and arrows != 3:
        missing.append("trends")
    bottom = [i for i, line in enumerate(lines) if "└" in line]
    if not bottom or not lines[bottom[0] + 1].split("▊")[0].rstrip().endswith("100"):
        missing.append("the x-axis")
    return missing


async def test_the_news_of_a_finished_run_agrees_with_its_row(live_app):
    """A run's news comes with its row already showing it: never `w=5 finished` beside a row
    still reading `running 96/100`."""
    app = live_app(epochs=100, speed=60)
    seen = []
    told = app.notify

    def notify(message, **kw):
        if "finished" in message:
            for key in ("5", "100", "1000"):
                if f"w={key}" in message.replace(";", " ").split(" finished")[0].split():
                    seen.append((key, app.table.get_cell(key, "status").plain.split("\n")[0]))
        told(message, **kw)

    app.notify = notify
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("all runs ended" in a for a in alerts(app)))
        assert {key for key, _ in seen} == {"5", "100", "1000"}
        assert all(status == "finished" for _, status in seen), seen


async def test_bad_news_of_two_runs_shows_as_two_lines(replay_app):
    """Alerts hand the app one run's news a line (labels already escaped): the news shows the
    lines, never the line break as an escape."""
    app = replay_app()
    news = [("w=5: loss over 10x its start for 20 epochs\nw=100: training failed", True)]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await drawn(pilot)
        app.alerts.update = lambda runs, now: [news.pop()] if news else []
        app.refresh_now()
        await wait_for(pilot, lambda: app.news.lines)
        await settle(pilot)
        assert "\\x" not in alerts(app)[0]
        lines = screen_lines(app)
        assert not any("\\x0a" in line for line in lines)
        rows = [line for line in lines
                if "w=5: loss over" in line or "w=100: training failed" in line]
        assert len(rows) == 2, rows  # each run's news on its own row
