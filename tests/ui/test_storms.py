"""Key storms against the live app: restarts, pauses and quits faster than anyone types. After
the storm nothing leaked (threads, memory), every run's history is made of whole lives (epochs
1, 2, 3, ... each under one seed, the losses of that seed), and `q` still exits cleanly."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
from helpers import acted_on, assert_close, check_history_file, plain_loop
from ui_helpers import epochs, press, send, wait_for

from mlp_tui.core.schema import Status

pytestmark = pytest.mark.e2e  # seconds of key storms: outside the fast core
SIZE = (160, 45)
CHECKED_EPOCHS = 12  # each life's first epochs are compared with the plain loop of its seed


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def storm(pilot, keys: list[str], gap: float = 0.003) -> None:
    """Send keys `gap` seconds apart (the app takes a few ms for each): 86 keys in a second or
    two."""
    await send(pilot, *keys, gap=gap)
    await pilot.pause(0.05)


def storm_keys(rnd: random.Random) -> list[str]:
    keys = ["r"] * 60 + ["p"] * 8 + ["R"] * 6 + ["space"] * 6 + ["down"] * 3 + ["up"] * 3
    rnd.shuffle(keys)
    return keys


def _worker_threads(app) -> list[threading.Thread]:
    threads = [r._thread for r in app.session.runs]
    if app.runner.recorder is not None:
        threads.append(app.runner.recorder._thread)
    return threads


def check_lives(path: Path, runs, sample: int = 25) -> None:
    """On top of the file's structure (check_history_file), per run in file order: lives with
    strictly increasing seeds, each with the losses of its own seed (no epoch of an old life in
    a new one); the last life written is the run's current one, complete."""
    lives = check_history_file(path)
    assert sorted({run for run, _seed in lives}) == [r.index for r in runs]
    for run in runs:
        mine = [(seed, rows) for (index, seed), rows in lives.items() if index == run.index]
        seeds = [seed for seed, _rows in mine]
        assert seeds == sorted(set(seeds)), f"run {run.index}: a seed came back: {seeds}"
        assert all(s % run.cfg.repeats == run.repeat for s in seeds)
        assert all(r["width"] == run.width for _seed, rows in mine for r in rows)
        # The losses of a sample of lives (the reference loop costs a model build per life).
        checked = random.Random(run.index).sample(mine[:-1], min(sample, len(mine) - 1))
        for seed, rows in [*checked, mine[-1]]:
            k = min(len(rows), CHECKED_EPOCHS)
            losses, _ = plain_loop(run.width, seed, k, run.cfg.lr)
            assert_close([r["train_loss"] for r in rows[:k]], losses)
        if len(run.history):  # the current life, complete
            assert seeds[-1] == run.seed
            assert len(mine[-1][1]) == len(run.history)
        else:  # restarted just before the end: the new life computed nothing yet
            assert seeds[-1] <= run.seed


async def test_restart_storm_leaks_nothing_and_keeps_every_life_whole(live_app, tmp_path):
    history = tmp_path / "storm.csv"
    app = live_app(history=history, speed=200)
    rnd = random.Random(7)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3)
        steady = set(threading.enumerate())
        for _ in range(3):
            await storm(pilot, storm_keys(rnd))
            for run in app.session.runs:  # the storm may have left some runs paused
                run.resume()
            await wait_for(pilot, lambda: min(epochs(app)) >= 5)
            assert app.is_running
            # No new thread (a restart reuses its run's thread), and every worker still alive.
            assert set(threading.enumerate()) <= steady
            assert threading.active_count() == len(steady)
            assert all(t.is_alive() for t in _worker_threads(app))
        assert all(r.seed >= 3 * 60 for r in app.session.runs)  # every `r` reached every run
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(t.is_alive() for t in _worker_threads(app))
    check_lives(history, app.session.runs)


async def test_restarts_do_not_grow_memory(live_app):
    """A restart keeps the old life's epochs (for the history export), not its model and
    buffers: 40 restarts of 3 runs, each life with epochs, stay within a few MB."""
    app = live_app(speed=200)
    async with app.run_test(size=SIZE) as pilot:

        async def restarts(n: int) -> None:
            for _ in range(n):
                seeds = [r.seed for r in app.session.runs]
                await press(pilot, "r")
                await wait_for(pilot, lambda s=seeds: all(
                    r.seed > old and len(r.history) >= 2 for r, old in zip(app.session.runs, s)
                ))

        await restarts(10)  # Textual's and torch's caches fill first
        before = _rss()
        await restarts(40)
        grown = _rss() - before
    lives = sum(len(r.retired) for r in app.session.runs)
    assert lives >= 3 * 40
    assert grown < 40 * 2**20, f"{grown / 2**20:.0f} MB more after 120 restarted lives"


@pytest.mark.parametrize("last", ["r", "space"])
async def test_q_right_after_a_control_exits_zero_with_every_worker_stopped(
    live_app, tmp_path, last
):
    history = tmp_path / "h.jsonl"
    app = live_app(history=history, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 20)
        await storm(pilot, ["r", "p", "p", "R", last, "q"], gap=0.0)
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(t.is_alive() for t in _worker_threads(app))
    check_lives(history, app.session.runs)


async def test_quit_while_paused_mid_storm(live_app, tmp_path):
    history = tmp_path / "h.csv"
    app = live_app(history=history, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 5)
        await storm(pilot, ["r"] * 10 + ["p"], gap=0.005)
        await wait_for(pilot, lambda: all(r.paused for r in app.session.runs))
        await wait_for(pilot, lambda: acted_on(app.session.runs))  # epochs in flight landed
        frozen = epochs(app)
        await pilot.pause(0.2)
        assert epochs(app) == frozen
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(t.is_alive() for t in _worker_threads(app))
    assert [r.status for r in app.session.runs] == [Status.STOPPED] * 3
    check_lives(history, app.session.runs)
