"""Pause, resume, restart, stop and speed: thread-safe and exact."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import STOP_S, WAIT_S, acted_on, assert_close, plain_loop, wait_until

from mlp_tui.core.schema import Status

FOREVER = 10**6


def _counts(exp) -> list[int]:
    return [len(r.history) for r in exp.runs]


def _statuses(exp) -> list[Status]:
    return [r.status for r in exp.runs]


def _threads_dead(exp) -> bool:
    return all(r.join(0) for r in exp.runs)


def _measured(run) -> bool:
    rate = run.epochs_per_s
    return rate is not None and rate > 0


# --- pause ------------------------------------------------------------------------------------


def test_pause_really_freezes_and_resume_continues(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.toggle()  # every run is going: pause all
    t_pause = time.monotonic()
    assert _statuses(exp) == [Status.PAUSED] * 3
    assert wait_until(lambda: acted_on(exp.runs))  # the epochs in flight landed
    frozen = _counts(exp)
    time.sleep(0.6)
    assert _counts(exp) == frozen
    assert _statuses(exp) == [Status.PAUSED] * 3
    assert not exp.done and all(r.active for r in exp.runs)
    exp.toggle()  # all paused: resume all
    pause_s = time.monotonic() - t_pause  # over 0.6 s
    assert wait_until(lambda: all(n > f + 5 for n, f in zip(_counts(exp), frozen)))
    assert _statuses(exp) == [Status.RUNNING] * 3
    assert exp.stop()  # what follows reads the histories: no need to train on meanwhile
    # The pause is not counted as training time (counted, the gap would exceed it).
    for run, f in zip(exp.runs, frozen):
        elapsed = run.history.read(f - 1, f + 1)["elapsed_s"]
        assert elapsed[1] - elapsed[0] < pause_s / 2
    # Nothing was lost or doubled across the pause: the losses are the plain loop's.
    for run, f in zip(exp.runs, frozen):
        n = f + 5
        assert_close(run.history.read(0, n)["train_loss"], plain_loop(run.width, 0, n)[0])


def test_pause_one_width_leaves_the_others_running(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5, 100))
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.toggle(5)
    assert wait_until(lambda: acted_on(exp.runs))
    frozen = _counts(exp)
    assert wait_until(lambda: _counts(exp)[1] > frozen[1] + 5)
    assert _counts(exp)[0] == frozen[0]
    assert _statuses(exp) == [Status.PAUSED, Status.RUNNING]
    exp.toggle()  # one run is still going: pause all
    assert _statuses(exp) == [Status.PAUSED, Status.PAUSED]
    exp.toggle()  # all paused: resume all
    assert wait_until(lambda: _counts(exp)[0] > frozen[0] + 5)
    assert _statuses(exp) == [Status.RUNNING, Status.RUNNING]


# --- restart ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "restarts", [40, pytest.param(200, marks=pytest.mark.e2e, id="storm-200")]
)
def test_restart_hammering_never_leaks_an_old_epoch(make_experiment, restarts):
    """Restarts as fast as a thread can call them, some landing mid-epoch or while a model is
    built; the 200-restart storm runs with the e2e tests."""
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,))
    (run,) = exp.runs
    first = run.history
    exp.start()
    assert wait_until(lambda: len(run.history) >= 5)
    lives = []  # (seed, history) of every life the hammer started, in order
    problems: list[str] = []

    def hammer() -> None:
        try:
            for i in range(restarts):
                before = run.seed
                run.restart()
                history, seed = run.history, run.seed
                if seed != before + 1:
                    problems.append(f"restart {i}: seed {before} -> {seed}")
                cols = history.read()
                epochs = [cols.record(j)["epoch"] for j in range(len(cols))]
                if epochs != list(range(1, len(cols) + 1)):
                    problems.append(f"restart {i}: epochs {epochs[:10]}")
                lives.append((seed, history))
                if i % 10 == 9:  # let this life train a little: the next restart lands mid-epoch
                    if not wait_until(lambda h=history: len(h) >= 2):
                        problems.append(f"restart {i}: the new life never trained")
                else:  # 0..1.5 ms: restarts that land while the model is being built
                    time.sleep(0.0005 * (i % 4))
        except Exception as exc:  # reported by the assertion below
            problems.append(repr(exc))

    thread = threading.Thread(target=hammer)
    thread.start()
    thread.join(2 * WAIT_S)
    assert not thread.is_alive(), "the hammer never finished"
    assert problems == []
    assert run.seed == restarts
    assert [s for s, _ in lives] == list(range(1, restarts + 1))

    final = run.history
    assert final is lives[-1][1]
    assert wait_until(lambda: len(final) >= 40)
    assert run.error is None
    assert exp.stop()
    assert run.status is Status.STOPPED
    n = min(len(final), 80)
    assert_close(final.read(0, n)["train_loss"], plain_loop(5, restarts, n)[0])

    # Every ended life is closed and holds epochs 1..n of its own seed, and only those.
    ended = [(0, first), *lives[:-1]]
    for seed, history in ended:
        assert history.closed
        cols = history.read()
        epochs = [cols.record(j)["epoch"] for j in range(len(cols))]
        assert epochs == list(range(1, len(cols) + 1))
        assert_close(cols["train_loss"], plain_loop(5, seed, len(cols))[0])
    assert len(first) >= 5
    # The retired lives: every ended life that has epochs, in order, each with its own seed.
    assert [(life.seed, life.history) for life in run.retired] == [
        (s, h) for s, h in ended if len(h)
    ]
    assert len(run.retired) >= restarts // 10  # the first life and every tenth restart's
    assert final not in [life.history for life in run.retired]
    retired, life, status = run.snapshot()
    assert [r.seed for r in retired] == [r.seed for r in run.retired]
    assert life.history is final and status is Status.STOPPED


def test_restart_with_repeats_steps_the_seed_by_repeats(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,), repeats=3, seed=10)
    exp.start()
    assert [r.seed for r in exp.runs] == [10, 11, 12]
    exp.runs[1].restart()
    assert [r.seed for r in exp.runs] == [10, 14, 12]
    exp.restart()
    assert [r.seed for r in exp.runs] == [13, 17, 15]


def test_restart_of_one_width_leaves_the_others_alone(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5, 100), repeats=2, seed=3)
    exp.start()
    assert [(r.width, r.seed) for r in exp.runs] == [(5, 3), (5, 4), (100, 3), (100, 4)]
    histories = [r.history for r in exp.runs]
    exp.restart(100)
    assert [r.seed for r in exp.runs] == [3, 4, 5, 6]
    assert [r.history is h for r, h in zip(exp.runs, histories)] == [True, True, False, False]
    assert [h.closed for h in histories] == [False, False, True, True]


def test_restart_after_finish_trains_a_new_life(make_experiment):
    exp = make_experiment(speed=0, epochs=10, widths=(5,))
    (run,) = exp.runs
    exp.start()
    assert exp.wait(WAIT_S)
    assert run.status is Status.FINISHED and len(run.history) == 10
    old = run.history
    run.restart()
    assert run.status is Status.RUNNING and run.seed == 1
    assert exp.wait(WAIT_S)
    assert run.status is Status.FINISHED
    assert old.closed and len(old) == 10
    assert [(life.seed, life.history) for life in run.retired] == [(0, old)]
    assert_close(run.history.read()["train_loss"], plain_loop(5, 1, 10)[0])


def test_restart_of_a_paused_run_trains_again(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,))
    (run,) = exp.runs
    exp.start()
    assert wait_until(lambda: len(run.history) >= 3)
    run.pause()
    run.restart()
    assert not run.paused and run.status is Status.RUNNING
    assert wait_until(lambda: len(run.history) >= 10)
    assert run.seed == 1
    assert exp.stop()
    assert_close(run.history.read(0, 10)["train_loss"], plain_loop(5, 1, 10)[0])


def test_a_pause_right_after_a_restart_holds(make_experiment):
    """Restart then pause, faster than the worker looks: the new life must start paused."""
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,))
    exp.start()
    (run,) = exp.runs
    for _ in range(10):
        assert wait_until(lambda: len(run.history) > 3)
        run.restart()
        run.pause()
        assert wait_until(lambda: acted_on([run]))
        frozen = len(run.history)
        time.sleep(0.05)  # unpaused, a width-5 life would train dozens of epochs meanwhile
        assert len(run.history) == frozen
        assert run.status is Status.PAUSED
        run.resume()


# --- stop -------------------------------------------------------------------------------------


def _timed_stop(exp) -> float:
    t0 = time.monotonic()
    assert exp.stop() is True
    took = time.monotonic() - t0
    assert took < STOP_S
    assert _threads_dead(exp)
    return took


def test_stop_from_running_joins_at_once(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    _timed_stop(exp)
    assert _statuses(exp) == [Status.STOPPED] * 3
    assert all(r.status.ended for r in exp.runs)
    assert exp.done
    counts = _counts(exp)
    time.sleep(0.05)
    assert _counts(exp) == counts
    seeds = [r.seed for r in exp.runs]
    exp.restart()  # a stopped experiment stays stopped
    assert [r.seed for r in exp.runs] == seeds and exp.done
    assert _statuses(exp) == [Status.STOPPED] * 3


def test_stop_from_paused_joins_at_once(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.toggle()
    assert wait_until(lambda: acted_on(exp.runs))
    counts = _counts(exp)
    _timed_stop(exp)
    assert _counts(exp) == counts  # stopping a paused run computes nothing more
    assert _statuses(exp) == [Status.STOPPED] * 3


def test_stop_during_a_slow_pace_and_after_finish(make_experiment):
    slow = make_experiment(speed=0.5, epochs=FOREVER, widths=(5,))  # one epoch every 2 s
    slow.start()
    assert wait_until(lambda: len(slow.runs[0].history) >= 1)
    time.sleep(0.05)
    _timed_stop(slow)
    assert slow.runs[0].status is Status.STOPPED

    done = make_experiment(speed=0, epochs=5, widths=(5,))
    done.start()
    assert done.wait(WAIT_S)
    _timed_stop(done)
    assert done.runs[0].status is Status.FINISHED  # stop keeps how a finished run ended


# --- pace and rate ----------------------------------------------------------------------------


def _epochs_in(run, seconds: float) -> tuple[int, float]:
    """Epochs recorded over about `seconds`, and the seconds actually measured."""
    t0, n0 = time.perf_counter(), len(run.history)
    time.sleep(seconds)
    return len(run.history) - n0, time.perf_counter() - t0


@pytest.mark.e2e  # seconds of timing on the real clock; the pace's arithmetic: test_pacer.py
def test_speed_caps_the_pace_and_set_speed_changes_it(make_experiment):
    """Only upper bounds on the pace (a loaded machine may be slower, never faster): an
    unthrottled width 5 runs thousands of epochs a second, so every bound can fail."""
    exp = make_experiment(speed=20, epochs=FOREVER, widths=(5,))
    (run,) = exp.runs
    exp.start()
    assert wait_until(lambda: len(run.history) >= 1)
    n, dt = _epochs_in(run, 0.5)
    assert n <= 20 * dt + 8  # at most a quarter second of pace debt, caught up
    exp.set_speed(0)  # unthrottled: the run gets well ahead of the old pace
    assert exp.speed == 0
    t0, n0 = time.perf_counter(), len(run.history)
    assert wait_until(lambda: len(run.history) - n0 > 20 * (time.perf_counter() - t0) + 200)
    exp.set_speed(2)  # slowing down takes effect at once
    assert exp.speed == 2
    time.sleep(0.1)
    n, dt = _epochs_in(run, 0.5)
    assert n <= 2 * dt + 2
    exp.set_speed(100)
    time.sleep(0.1)
    n, dt = _epochs_in(run, 0.5)
    assert n <= 100 * dt + 30


def test_rate_is_unknown_while_paused_and_after_a_restart(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,))
    (run,) = exp.runs
    assert run.epochs_per_s is None  # not started
    exp.start()
    assert wait_until(lambda: _measured(run))

    run.pause()
    assert run.epochs_per_s is None
    time.sleep(0.3)
    assert run.epochs_per_s is None
    run.resume()
    assert run.epochs_per_s is None  # measured afresh: the pause is not averaged in
    assert wait_until(lambda: _measured(run))

    run.restart()
    assert run.epochs_per_s is None
    assert run.status is Status.RUNNING
    seen: list[float] = []

    def measured_again() -> bool:
        rate = run.epochs_per_s
        if rate is not None:
            seen.append(rate)
        return len(seen) >= 5

    assert wait_until(measured_again)
    assert min(seen) > 0, seen  # never a rate that mixes the old life's epochs in
    assert exp.stop()
    assert run.epochs_per_s is None  # an ended run has no rate


def test_a_finished_run_has_no_rate(make_experiment):
    exp = make_experiment(speed=0, epochs=20, widths=(5,))
    exp.start()
    assert exp.wait(WAIT_S)
    (run,) = exp.runs
    assert run.status is Status.FINISHED and run.epochs_per_s is None
