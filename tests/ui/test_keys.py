"""Every key of the live app, driven through Textual's pilot against the real engine."""

from __future__ import annotations

import asyncio
import csv
import time

from ui_helpers import epochs, notifications, press, screen_text, sleep, wait_for

from mlp_tui.session import MAX_SPEED

SIZE = (160, 45)


async def test_p_pauses_and_resumes_every_run(live_app):
    app = live_app(speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 5)
        await press(pilot, "p")
        assert all(r.paused for r in app.session.runs)  # acted on by the key handler itself
        await sleep(pilot, 0.1)
        frozen = epochs(app)
        await sleep(pilot, 0.3)
        assert epochs(app) == frozen
        assert [r.status for r in app.session.runs] == ["paused"] * 3
        assert "PAUSED" in screen_text(app)
        await press(pilot, "p")
        await wait_for(pilot, lambda: all(a > b for a, b in zip(epochs(app), frozen)))
        assert "RUNNING" in screen_text(app)


async def test_space_pauses_only_the_selected_run(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "down", "space")  # second row: width 100
        runs = {r.width: r for r in app.session.runs}
        assert runs[100].paused and not runs[5].paused and not runs[1000].paused
        frozen = len(runs[100].history)
        others = len(runs[5].history)
        await sleep(pilot, 0.3)
        assert len(runs[100].history) == frozen
        assert len(runs[5].history) > others
        await press(pilot, "space")
        assert not runs[100].paused


async def test_r_restarts_every_run_with_the_next_seed(live_app):
    app = live_app(speed=100)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 60)
        await press(pilot, "r")
        assert [r.seed for r in app.session.runs] == [1, 1, 1]
        assert max(epochs(app)) < 30
        await pilot.pause(0.1)
        # The plot follows the new lives: its tracks start again from epoch 1.
        for run in app.session.runs:
            track = app.monitor.tracks[run.index]
            assert track.history is run.history
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
        app.session.set_speed(MAX_SPEED)
        await press(pilot, "plus")
        assert app.session.speed == 0
        await pilot.pause()
        assert "unthrottled" in screen_text(app)
        await press(pilot, "minus")
        assert app.session.speed == MAX_SPEED


async def test_pace_is_felt_by_the_runs(live_app):
    app = live_app(speed=25)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 2)

        async def rate() -> float:
            start, t0 = epochs(app), time.perf_counter()
            await asyncio.sleep(1.0)
            return min(a - b for a, b in zip(epochs(app), start)) / (time.perf_counter() - t0)

        slow = await rate()
        await press(pilot, "plus", "plus")  # 100 epochs/s
        await asyncio.sleep(0.1)
        fast = await rate()
        # A busy machine can only slow a run down: the upper bounds are exact, the lower loose.
        assert 10 <= slow <= 25 * 1.25
        assert fast <= 100 * 1.25
        assert fast >= 2.5 * slow


async def test_e_writes_the_final_table_and_shows_the_path(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "e")
        await pilot.pause()
        files = list(tmp_path.glob("mlp-tui-results-*.csv"))
        assert len(files) == 1
        rows = list(csv.DictReader(files[0].open()))
        assert [int(r["width"]) for r in rows] == [5, 100, 1000]
        assert files[0].name in notifications(app)


async def test_export_failure_is_shown_and_can_be_retried(live_app, tmp_path):
    target = tmp_path / "missing" / "out.csv"
    app = live_app(export=target)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "e")
        await pilot.pause()
        assert not target.exists()
        assert "export failed" in notifications(app)
        assert app.is_running
        target.parent.mkdir()
        await press(pilot, "e")
        await pilot.pause()
        assert len(list(csv.DictReader(target.open()))) == 3


async def test_export_is_written_when_every_run_ends(live_app, tmp_path):
    target = tmp_path / "final.json"
    app = live_app(export=target, epochs=30, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: target.exists(), timeout=10)
        await pilot.pause()
        assert "ALL RUNS ENDED" in screen_text(app)
        assert [r.status for r in app.session.runs] == ["finished"] * 3
        assert "30/30" in screen_text(app)


async def test_q_exits_zero_with_every_worker_stopped(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        await press(pilot, "p")  # paused workers must stop too
        await press(pilot, "q")
        await pilot.pause()
    assert app.return_code == 0
    assert all(not r._thread.is_alive() for r in app.session.runs)


async def test_g_switches_between_overlay_and_grid(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        assert "overlay" in screen_text(app)
        await press(pilot, "g")
        await pilot.pause()
        assert app.monitor.settings.grid
        text = screen_text(app)
        assert "grid" in text
        # one small plot per width, each titled with its width
        assert text.count("w=1000") >= 2  # legend + subplot title
        await press(pilot, "g")
        assert not app.monitor.settings.grid


async def test_pause_is_exact_under_unthrottled_load(live_app):
    """Toggling fast at full speed: every pause freezes every run, every resume restarts it."""
    app = live_app(speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 50)
        for _ in range(5):
            await press(pilot, "p")
            await sleep(pilot, 0.05)
            frozen = epochs(app)
            await sleep(pilot, 0.1)
            assert epochs(app) == frozen
            await press(pilot, "p")
            await wait_for(pilot, lambda f=frozen: all(a > b for a, b in zip(epochs(app), f)))


async def test_h_writes_the_whole_history(live_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = live_app(speed=0, epochs=50)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.done, timeout=20)
        await press(pilot, "h")
        files = list(tmp_path.glob("mlp-tui-history-*.csv"))
        assert len(files) == 1
        rows = list(csv.DictReader(files[0].open()))
        assert len(rows) == 150
        assert [int(r["epoch"]) for r in rows if r["width"] == "1000"] == list(range(1, 51))
        assert files[0].name in notifications(app)


async def test_every_key_is_in_the_command_palette(live_app):
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        titles = " ".join(c.title for c in app.get_system_commands(app.screen))
        for label in ("Pause all", "Restart run", "Grid", "Metric", "Log y", "Smooth", "Export"):
            assert label in titles
        await pilot.pause()
