"""Every control key of the live app, driven through Textual's pilot against the real engine."""

from __future__ import annotations

import asyncio
import csv
import time

import pytest
from helpers import acted_on, check_history_file
from ui_helpers import (
    epochs,
    header,
    notifications,
    press,
    screen_text,
    settle,
    sleep,
    wait_for,
    wait_for_value,
)

from mlp_tui.core.config import KEY_SPEED_MAX
from mlp_tui.core.schema import Status
from mlp_tui.engine.pacer import MAX_PACE_DEBT_S

SIZE = (160, 45)


async def test_p_pauses_and_resumes_every_run(live_app):
    app = live_app(speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 5)
        await press(pilot, "p")
        assert all(r.paused for r in app.session.runs)  # acted on by the key handler itself
        await wait_for(pilot, lambda: acted_on(app.session.runs))  # epochs in flight landed
        frozen = epochs(app)
        await sleep(pilot, 0.3)
        assert epochs(app) == frozen
        assert [r.status for r in app.session.runs] == [Status.PAUSED] * 3
        await wait_for(pilot, lambda: header(app).startswith("PAUSED"))
        await press(pilot, "p")
        await wait_for(pilot, lambda: all(a > b for a, b in zip(epochs(app), frozen)))
        await wait_for(pilot, lambda: header(app).startswith("RUNNING"))


async def test_space_pauses_only_the_selected_run(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "down", "space")  # second row: width 100
        runs = {r.width: r for r in app.session.runs}
        assert runs[100].paused and not runs[5].paused and not runs[1000].paused
        await wait_for(pilot, lambda: acted_on([runs[100]]))
        frozen, others = len(runs[100].history), len(runs[5].history)
        await wait_for(pilot, lambda: len(runs[5].history) > others + 10)
        assert len(runs[100].history) == frozen
        await press(pilot, "space")
        assert not runs[100].paused
        await wait_for(pilot, lambda: len(runs[100].history) > frozen)


async def test_r_restarts_every_run_with_the_next_seed(live_app):
    app = live_app(speed=200)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 60)
        await press(pilot, "r")
        assert [r.seed for r in app.session.runs] == [1, 1, 1]
        assert max(epochs(app)) < 60
        await pilot.pause(0.1)
        # The plot follows the new lives: its tracks start again from epoch 1.
        for run in app.session.runs:
            track = app.monitor.tracks[(run.index, "train_loss", 0.0)]
            assert track.history is run.history
            await wait_for(pilot, lambda t=track: len(t.buckets().epoch) > 0)
            assert track.buckets().epoch[0] == 1


async def test_shift_r_restarts_only_the_selected_run(live_app):
    app = live_app(speed=300)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 30)
        await press(pilot, "down", "down", "R")  # third row: width 1000
        seeds = {r.width: r.seed for r in app.session.runs}
        assert seeds == {5: 0, 100: 0, 1000: 1}
        lens = {r.width: len(r.history) for r in app.session.runs}
        assert lens[1000] < 30 <= min(lens[5], lens[100])


async def test_plus_and_minus_change_the_pace(live_app):
    app = live_app(speed=20)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "plus")
        assert app.session.speed == 40
        assert all(r._speed == 40 for r in app.session.runs)
        await press(pilot, "minus", "minus")
        assert app.session.speed == 10
        app.session.set_speed(KEY_SPEED_MAX)
        await press(pilot, "plus")  # past the top: unthrottled
        assert app.session.speed == 0
        await wait_for(pilot, lambda: "unthrottled" in screen_text(app))
        await press(pilot, "minus")
        assert app.session.speed == KEY_SPEED_MAX
        await wait_for(pilot, lambda: "5120 ep/s" in screen_text(app))


@pytest.mark.e2e  # seconds of timing on the real clock; the pace's arithmetic: test_pacer.py
async def test_pace_holds_the_runs_back(live_app):
    """The pace is a ceiling: a busy machine can only make a run slower, so only upper
    bounds are checked (with the catch-up a run may take after a stall)."""
    app = live_app(speed=25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 2)

        async def most(speed: float) -> tuple[int, float]:
            start, t0 = epochs(app), time.perf_counter()
            await asyncio.sleep(1.0)
            done = max(a - b for a, b in zip(epochs(app), start))
            return done, speed * (time.perf_counter() - t0 + MAX_PACE_DEBT_S) + 2

        done, ceiling = await most(25)
        assert done <= ceiling
        await press(pilot, "plus", "plus")  # 100 epochs/s
        await wait_for(pilot, lambda: all(r.life.pacer.speed == 100 for r in app.session.runs))
        done, ceiling = await most(100)
        assert done <= ceiling


async def test_e_writes_the_table_and_says_so(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "e")
        await wait_for(pilot, lambda: len(notifications(app)) == 1)
        files = list(tmp_path.glob("mlp-tui-results-*.csv"))
        assert len(files) == 1
        rows = list(csv.DictReader(files[0].open()))
        assert [int(r["width"]) for r in rows] == [5, 100, 1000]
        assert notifications(app) == [
            f"table written to {files[0].name}, 3 of 3 runs still running"
        ]


async def test_e_mid_run_counts_the_runs_still_running(live_app, tmp_path, monkeypatch):
    # At lr 1000 and depth 3 the width-1000 net reaches NaN within a few epochs; width 5 only
    # bounces around (iris, seed 0).
    monkeypatch.chdir(tmp_path)
    app = live_app(widths=(5, 1000), depth=3, lr=1000.0, speed=100)
    async with app.run_test(size=SIZE) as pilot:
        wide = app.session.runs[1]
        await wait_for(pilot, lambda: wide.status is Status.DIVERGED)
        await press(pilot, "e")
        await wait_for(pilot, lambda: len(notifications(app)) == 1)
        (written,) = tmp_path.glob("mlp-tui-results-*.csv")
        assert notifications(app) == [
            f"table written to {written.name}, 1 of 2 runs still running"
        ]
        statuses = [r["status"] for r in csv.DictReader(written.open())]
        assert statuses == ["running", "diverged"]


async def test_e_after_the_end_writes_the_final_table(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app(epochs=30, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        await press(pilot, "e")
        await wait_for(pilot, lambda: len(notifications(app)) == 1)
        (written,) = tmp_path.glob("mlp-tui-results-*.csv")
        assert notifications(app) == [f"final table written to {written.name}"]
        assert {r["status"] for r in csv.DictReader(written.open())} == {"finished"}


async def test_export_is_written_when_every_run_ends(live_app, tmp_path):
    target = tmp_path / "final.json"
    app = live_app(export=target, epochs=30, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: target.exists())
        await wait_for(pilot, lambda: "30/30" in screen_text(app))
        await wait_for(pilot, lambda: header(app).startswith("ALL RUNS ENDED"))
        assert [r.status for r in app.session.runs] == [Status.FINISHED] * 3
        # The file comes first, the notification with the next tick.
        told = [f"final table written to {target}"]
        await wait_for_value(pilot, lambda: notifications(app), told)


async def test_q_exits_zero_with_every_worker_stopped(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "p")  # paused workers must stop too
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(r.alive for r in app.session.runs)
    assert [r.status for r in app.session.runs] == [Status.STOPPED] * 3


async def test_g_switches_between_overlay_and_grid(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await wait_for(pilot, lambda: "g:overlay" in screen_text(app))
        await press(pilot, "g")
        assert app.monitor.settings.grid
        await wait_for(pilot, lambda: "g:grid" in screen_text(app))
        # one small plot per width, each titled with its width: legend + subplot title
        await wait_for(pilot, lambda: screen_text(app).count("w=1000") >= 2)
        await press(pilot, "g")
        assert not app.monitor.settings.grid


async def test_pause_is_exact_under_unthrottled_load(live_app):
    """Toggling fast at full speed: every pause freezes every run, every resume restarts it."""
    app = live_app(speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 50)
        for _ in range(5):
            await press(pilot, "p")
            await wait_for(pilot, lambda: acted_on(app.session.runs))
            frozen = epochs(app)
            await sleep(pilot, 0.1)
            assert epochs(app) == frozen
            await press(pilot, "p")
            await wait_for(pilot, lambda f=frozen: all(a > b for a, b in zip(epochs(app), f)))


async def test_shift_e_writes_every_life_and_h_writes_nothing(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app(speed=0, epochs=50)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ended)
        first = [r.history.column("train_loss") for r in app.session.runs]
        await press(pilot, "r")  # a second life for every run
        await wait_for(pilot, lambda: app.session.ended and min(epochs(app)) == 50)
        await press(pilot, "h")  # `h` no longer exports anything
        await sleep(pilot, 0.2)
        assert list(tmp_path.iterdir()) == [] and notifications(app) == []
        await press(pilot, "E")
        await wait_for(pilot, lambda: len(notifications(app)) == 1)
        (written,) = tmp_path.glob("mlp-tui-history-*.csv")
        assert notifications(app) == [f"history written to {written.name}"]
    lives = check_history_file(written, min_rows=300)
    assert sorted(lives) == [(run, seed) for run in (0, 1, 2) for seed in (0, 1)]
    for run, old in zip(app.session.runs, first):
        assert [r["epoch"] for r in lives[(run.index, 0)]] == list(range(1, 51))
        assert [r["train_loss"] for r in lives[(run.index, 0)]] == list(old)
        assert [r["train_loss"] for r in lives[(run.index, 1)]] == list(
            run.history.column("train_loss")
        )
        assert {r["width"] for r in lives[(run.index, 1)]} == {run.width}


async def test_every_key_is_in_the_command_palette(live_app):
    app = live_app(speed=1)  # a live session's keys; the runs need not get anywhere
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "pause (p)", "log y (l)", "export (e)", "pause run (space)", "restart (r)",
            "restart run (R)", "faster (+)", "slower (-)", "metric (m)", "outliers (o)",
            "grid (g)", "smooth (s)", "hide run (v)", "x axis (x)", "history (E)",
            "settings (c)", "help (?)",
        ):
            assert title in titles
