"""Pause, resume, restart, stop and speed: thread-safe and exact."""

from __future__ import annotations

import threading
import time

from engine_reference import assert_close, plain_loop, wait_until

FOREVER = 10**6


def _counts(exp) -> list[int]:
    return [len(r.history) for r in exp.runs]


def _threads_dead(exp) -> bool:
    return all(r.join(0) for r in exp.runs)


# --- pause ------------------------------------------------------------------------------------


def test_pause_really_freezes_and_resume_continues(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.pause()
    time.sleep(0.2)
    frozen = _counts(exp)
    time.sleep(0.3)
    assert _counts(exp) == frozen
    assert [r.status for r in exp.runs] == ["paused"] * 3
    assert exp.paused and not exp.done
    exp.resume()
    assert wait_until(lambda: all(n > f + 5 for n, f in zip(_counts(exp), frozen)), 10)
    assert [r.status for r in exp.runs] == ["running"] * 3
    # The pause is not counted as training time.
    for run, f in zip(exp.runs, frozen):
        elapsed = run.history.read(f - 1, f + 1).elapsed
        assert elapsed[1] - elapsed[0] < 0.25
    assert exp.stop()


def test_pause_one_run_leaves_the_others_running(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5, 100))
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.pause(0)
    time.sleep(0.2)
    frozen = _counts(exp)
    time.sleep(0.2)
    after = _counts(exp)
    assert after[0] == frozen[0] and after[1] > frozen[1]
    assert [r.status for r in exp.runs] == ["paused", "running"]
    assert not exp.paused
    exp.toggle()  # one run is still going: pause all
    assert exp.paused
    exp.toggle()  # all paused: resume all
    assert wait_until(lambda: _counts(exp)[0] > frozen[0] + 5)
    assert [r.status for r in exp.runs] == ["running", "running"]


# --- restart ----------------------------------------------------------------------------------


def test_restart_hammering_never_leaks_an_old_epoch(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,), keep_retired=True)
    (run,) = exp.runs
    first = run.history
    exp.start()
    assert wait_until(lambda: len(run.history) >= 5)
    lives = []  # (seed, history) of every life the hammer started, in order
    problems: list[str] = []

    def hammer() -> None:
        try:
            for i in range(200):
                before = run.seed
                run.restart()
                history, seed = run.history, run.seed
                if seed != before + 1:
                    problems.append(f"restart {i}: seed {before} -> {seed}")
                cols = history.read()
                epochs = [cols.record(j).epoch for j in range(len(cols))]
                if epochs != list(range(1, len(cols) + 1)):
                    problems.append(f"restart {i}: epochs {epochs[:10]}")
                lives.append((seed, history))
                if i % 10 == 9:  # let this life train a little: the next restart lands mid-epoch
                    if not wait_until(lambda h=history: len(h) >= 2, 10):
                        problems.append(f"restart {i}: the new life never trained")
                else:  # 0..1.5 ms: restarts that land while the model is being built
                    time.sleep(0.0005 * (i % 4))
        except Exception as exc:  # reported by the assertion below
            problems.append(repr(exc))

    thread = threading.Thread(target=hammer)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert problems == []
    assert run.seed == 200
    assert [s for s, _ in lives] == list(range(1, 201))

    final = run.history
    assert final is lives[-1][1]
    assert wait_until(lambda: len(final) >= 40)
    assert exp.stop()
    assert run.status == "stopped"
    n = min(len(final), 80)
    assert_close(final.read(0, n).train_loss, plain_loop(5, 200, n)[0])

    # Every ended life is closed and holds epochs 1..n of its own seed, and only those.
    ended = [(0, first), *lives[:-1]]
    for seed, history in ended:
        assert history.closed
        cols = history.read()
        epochs = [cols.record(j).epoch for j in range(len(cols))]
        assert epochs == list(range(1, len(cols) + 1))
        assert_close(cols.train_loss, plain_loop(5, seed, len(cols))[0])
    assert len(first) >= 5
    # The retired lives kept for the history recorder: the non-empty ones, in order.
    assert list(run.retired) == [(s, h) for s, h in ended if len(h)]
    assert len(run.retired) >= 20  # the first life and every tenth restart's life


def test_restart_with_repeats_steps_the_seed_by_repeats(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,), repeats=3, seed=10)
    exp.start()
    assert [r.seed for r in exp.runs] == [10, 11, 12]
    exp.restart(1)
    assert [r.seed for r in exp.runs] == [10, 14, 12]
    exp.restart()
    assert [r.seed for r in exp.runs] == [13, 17, 15]


def test_restart_after_finish_trains_a_new_life(make_experiment):
    exp = make_experiment(speed=0, epochs=10, widths=(5,))
    (run,) = exp.runs
    exp.start()
    assert exp.wait(10)
    assert run.status == "finished" and len(run.history) == 10
    old = run.history
    run.restart()
    assert run.status == "running" and run.seed == 1
    assert exp.wait(10)
    assert run.status == "finished"
    assert old.closed and len(old) == 10
    assert_close(run.history.read().train_loss, plain_loop(5, 1, 10)[0])


def test_restart_of_a_paused_run_trains_again(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER, widths=(5,))
    (run,) = exp.runs
    exp.start()
    assert wait_until(lambda: len(run.history) >= 3)
    run.pause()
    run.restart()
    assert not run.paused
    assert wait_until(lambda: len(run.history) >= 10)
    assert run.seed == 1


# --- stop -------------------------------------------------------------------------------------


def _timed_stop(exp) -> float:
    t0 = time.monotonic()
    assert exp.stop() is True
    took = time.monotonic() - t0
    assert took < 1.0
    assert _threads_dead(exp)
    return took


def test_stop_from_running_joins_within_a_second(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    _timed_stop(exp)
    assert [r.status for r in exp.runs] == ["stopped"] * 3
    assert exp.done
    counts = _counts(exp)
    time.sleep(0.05)
    assert _counts(exp) == counts
    seeds = [r.seed for r in exp.runs]
    exp.restart()  # a stopped experiment stays stopped
    assert [r.seed for r in exp.runs] == seeds and exp.done


def test_stop_from_paused_joins_within_a_second(make_experiment):
    exp = make_experiment(speed=0, epochs=FOREVER)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.pause()
    time.sleep(0.1)
    counts = _counts(exp)
    _timed_stop(exp)
    assert _counts(exp) == counts  # stopping a paused run computes nothing more
    assert [r.status for r in exp.runs] == ["stopped"] * 3


def test_stop_during_a_slow_pace_and_after_finish(make_experiment):
    slow = make_experiment(speed=0.5, epochs=FOREVER, widths=(5,))  # one epoch every 2 s
    slow.start()
    assert wait_until(lambda: len(slow.runs[0].history) >= 1)
    time.sleep(0.05)
    _timed_stop(slow)

    done = make_experiment(speed=0, epochs=5, widths=(5,))
    done.start()
    assert done.wait(10)
    _timed_stop(done)
    assert done.runs[0].status == "finished"  # stop keeps how a finished run ended


# --- pace -------------------------------------------------------------------------------------


def _rate(run, seconds: float) -> float:
    t0, n0 = time.perf_counter(), len(run.history)
    time.sleep(seconds)
    return (len(run.history) - n0) / (time.perf_counter() - t0)


def test_speed_paces_epochs_and_set_speed_changes_the_pace(make_experiment):
    exp = make_experiment(speed=50, epochs=FOREVER, widths=(5,))
    (run,) = exp.runs
    exp.start()
    assert wait_until(lambda: len(run.history) >= 1)
    assert 40 <= _rate(run, 1.0) <= 60
    exp.set_speed(200)
    assert exp.speed == 200
    time.sleep(0.02)
    assert 160 <= _rate(run, 0.5) <= 240
    exp.set_speed(0)  # unthrottled: well past the old cap
    time.sleep(0.02)
    assert _rate(run, 0.3) > 250
    exp.set_speed(2)  # slowing down takes effect at once
    time.sleep(0.1)
    assert _rate(run, 0.6) <= 4


def test_a_pause_right_after_a_restart_holds(make_experiment):
    """Restart then pause, faster than the worker looks: the new life must start paused."""
    exp = make_experiment(speed=0, epochs=10**6, widths=(5,))
    exp.start()
    (run,) = exp.runs
    for _ in range(10):
        assert wait_until(lambda: len(run.history) > 3)
        run.restart()
        run.pause()
        time.sleep(0.05)
        frozen = len(run.history)
        time.sleep(0.15)
        assert len(run.history) == frozen
        assert run.status == "paused"
        run.resume()
