"""Key storms against the live app: restarts, pauses and quits faster than anyone types. After
the storm nothing leaked (threads, memory), every run's history is made of whole lives (epochs
1, 2, 3, ... each under one seed, the losses of that seed), and `q` still exits cleanly."""

from __future__ import annotations

import asyncio
import random
import sys
import threading
from collections import defaultdict
from pathlib import Path

import pytest
from textual import events
from ui_helpers import epochs, press, wait_for

from mlp_tui.export import iter_history

sys.path.insert(0, str(Path(__file__).parent.parent / "unit"))
from engine_reference import assert_close, plain_loop  # noqa: E402

SIZE = (160, 45)
CHARS = {"space": " "}
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
    app = pilot.app
    for key in keys:
        app._driver.send_message(events.Key(key, CHARS.get(key, key)))
        await asyncio.sleep(gap)
    await pilot.pause(0.05)


def storm_keys(rnd: random.Random) -> list[str]:
    keys = ["r"] * 60 + ["p"] * 8 + ["R"] * 6 + ["space"] * 6 + ["down"] * 3 + ["up"] * 3
    rnd.shuffle(keys)
    return keys


def _worker_threads(app) -> list[threading.Thread]:
    threads = [r._thread for r in app.session.runs]
    if app.session.recorder is not None:
        threads.append(app.session.recorder._thread)
    return threads


def check_history_file(path: Path, runs, sample: int = 25) -> None:
    """Per run, in file order: lives with strictly increasing seeds, each life epochs 1..k with
    the losses of its own seed (no epoch of an old life in a new one); the last life written is
    the run's current one, complete (unless that one has no epoch yet)."""
    by_run: dict[int, list[dict]] = defaultdict(list)
    for row in iter_history(path):
        by_run[row["run"]].append(row)
    assert sorted(by_run) == [r.index for r in runs]
    for run in runs:
        lives: list[tuple[int, list[dict]]] = []
        for row in by_run[run.index]:
            if not lives or lives[-1][0] != row["seed"]:
                lives.append((row["seed"], []))
            lives[-1][1].append(row)
        seeds = [seed for seed, _ in lives]
        assert seeds == sorted(set(seeds)), f"run {run.index}: a seed came back: {seeds}"
        assert all(s % run.cfg.repeats == run.repeat for s in seeds)
        for seed, rows in lives:
            assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1)), (run.index, seed)
            assert {r["width"] for r in rows} == {run.width}
        # The losses of a sample of lives (the reference loop costs a model build per life).
        checked = random.Random(run.index).sample(lives[:-1], min(sample, len(lives) - 1))
        for seed, rows in [*checked, lives[-1]]:
            k = min(len(rows), CHECKED_EPOCHS)
            losses, _ = plain_loop(run.width, seed, k, run.cfg.lr)
            assert_close([r["train_loss"] for r in rows[:k]], losses)
        if len(run.history):  # the current life, complete
            assert seeds[-1] == run.seed
            assert len(lives[-1][1]) == len(run.history)
        else:  # restarted just before the end: the new life computed nothing yet
            assert seeds[-1] < run.seed


async def test_restart_storm_leaks_nothing_and_keeps_every_life_whole(live_app, tmp_path):
    history = tmp_path / "storm.csv"
    app = live_app(history=history, speed=200)
    rnd = random.Random(7)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 3, timeout=20)
        steady = set(threading.enumerate())
        rss = []
        for _ in range(3):
            await storm(pilot, storm_keys(rnd))
            app.session.experiment.resume()  # the storm may have left some runs paused
            await wait_for(pilot, lambda: min(epochs(app)) >= 5, timeout=20)
            assert app.is_running
            # No new thread (a restart reuses its run's thread), and every worker still alive.
            assert set(threading.enumerate()) <= steady
            assert threading.active_count() == len(steady)
            assert all(t.is_alive() for t in _worker_threads(app))
            rss.append(_rss())
        # Textual's render caches fill during the first storms; after that, no growth to speak of.
        assert rss[-1] - rss[0] < 20 * 2**20, [f"{v / 2**20:.1f} MB" for v in rss]
        assert all(r.seed >= 3 * 60 for r in app.session.runs)  # every `r` reached every run
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(t.is_alive() for t in _worker_threads(app))
    check_history_file(history, app.session.runs)


@pytest.mark.parametrize("last", ["r", "space"])
async def test_q_right_after_a_control_exits_zero_with_every_worker_stopped(
    live_app, tmp_path, last
):
    history = tmp_path / "h.jsonl"
    app = live_app(history=history, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 20, timeout=20)
        await storm(pilot, ["r", "p", "p", "R", last, "q"], gap=0.0)
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(t.is_alive() for t in _worker_threads(app))
    check_history_file(history, app.session.runs)


async def test_quit_while_paused_mid_storm(live_app, tmp_path):
    history = tmp_path / "h.csv"
    app = live_app(history=history, speed=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: min(epochs(app)) >= 5, timeout=20)
        await storm(pilot, ["r"] * 10 + ["p"], gap=0.005)
        await wait_for(pilot, lambda: all(r.paused for r in app.session.runs))
        await pilot.pause(0.1)  # epochs computed before the pause still land
        frozen = epochs(app)
        await pilot.pause(0.2)
        assert epochs(app) == frozen
        await press(pilot, "q")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0
    assert not any(t.is_alive() for t in _worker_threads(app))
    assert [r.status for r in app.session.runs] == ["stopped"] * 3
    check_history_file(history, app.session.runs)
