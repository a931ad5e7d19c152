"""`--stack` on the thread backend: every seed of a stack is still a run of its own, with exact
pause, restart, stop and speed (its update masked, its slice re-seeded), and every life's numbers
exactly those of its slot in an uninterrupted stack (`helpers.stacked_loop`): a slot's numbers
depend only on its seed and the stack's shape, so the comparison is exact on any machine. How far
stacked numbers are from separate runs (other kernels) is tests/unit/test_stack.py's question."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import STOP_S, acted_on, stacked_loop, wait_until

from mlp_tui.core.schema import Status

FOREVER = 10**6
SEEDS = (0, 1, 2)  # a stack of --repeats 3 from seed 0


def slot(width: int, index: int, seed: int, n: int) -> list[float]:
    """The train losses of `seed` trained `n` epochs in slot `index` of a 3-seed stack."""
    seeds = tuple(seed if i == index else s for i, s in enumerate(SEEDS))
    horizon = max(1, -(-n // 50)) * 50  # one cached reference serves the prefixes near it
    return list(stacked_loop(width, seeds, horizon)[index][:n])


def _stack(make_experiment, **fields):
    fields = {"stack": True, "speed": 0, "epochs": FOREVER, "widths": (5,), "repeats": 3,
              **fields}
    return make_experiment(**fields)


def _counts(exp) -> list[int]:
    return [len(r.history) for r in exp.runs]


def test_one_stack_per_width_trains_every_seed_as_its_own_run(make_experiment):
    exp = _stack(make_experiment, epochs=200, widths=(5, 100))
    assert [len(unit.runs) for unit in exp.units] == [3, 3]
    exp.start()
    assert exp.wait(60)
    assert [r.status for r in exp.runs] == [Status.FINISHED] * 6
    for run in exp.runs:
        cols = run.history.read()
        assert len(cols) == 200 and cols.status[-1] is Status.FINISHED
        assert list(cols["train_loss"]) == slot(run.width, run.repeat, run.seed, 200)
    assert exp.stop() and not any(r.alive for r in exp.runs)


def test_a_diverging_seed_ends_alone_like_its_unstacked_run(make_experiment):
    fields = {"widths": (100,), "lr": 30.0, "depth": 3, "repeats": 6, "epochs": 300, "speed": 0}
    ends = []
    for stack in (False, True):
        exp = make_experiment(stack=stack, **fields)
        exp.start()
        assert exp.wait(60)
        ends.append([(r.status, len(r.history)) for r in exp.runs])
    assert ends[0] == ends[1]
    assert {s for s, _ in ends[1]} == {Status.DIVERGED, Status.FINISHED}  # both kinds occur


def test_pausing_one_seed_freezes_it_exactly_and_the_others_train(make_experiment):
    exp = _stack(make_experiment)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    paused = exp.runs[1]
    paused.pause()
    t_pause = time.monotonic()
    assert paused.status is Status.PAUSED
    assert wait_until(lambda: acted_on(exp.runs))  # the stack's worker took the pause
    frozen = _counts(exp)
    assert wait_until(lambda: min(_counts(exp)[0], _counts(exp)[2]) > max(frozen) + 20)
    time.sleep(0.3)
    assert len(paused.history) == frozen[1]
    assert [r.status for r in exp.runs] == [Status.RUNNING, Status.PAUSED, Status.RUNNING]
    paused.resume()
    pause_s = time.monotonic() - t_pause  # over 0.3 s
    assert wait_until(lambda: len(paused.history) > frozen[1] + 10)
    assert exp.stop()
    # Its weights did not move while paused: its epochs go on exactly as an uninterrupted slot's,
    # and the pause is not counted as training time.
    f = frozen[1]
    losses = list(paused.history.read(0, min(len(paused.history), f + 50))["train_loss"])
    assert losses == slot(5, 1, 1, len(losses))
    elapsed = paused.history.read(f - 1, f + 1)["elapsed_s"]
    assert elapsed[1] - elapsed[0] < pause_s / 2  # counted, the gap would exceed the pause


def test_pausing_every_seed_computes_nothing(make_experiment):
    exp = _stack(make_experiment)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    exp.toggle()
    assert [r.status for r in exp.runs] == [Status.PAUSED] * 3
    assert wait_until(lambda: acted_on(exp.runs))
    frozen = _counts(exp)
    time.sleep(0.5)
    assert _counts(exp) == frozen and all(r.alive for r in exp.runs)
    exp.toggle()
    assert wait_until(lambda: all(n > f + 5 for n, f in zip(_counts(exp), frozen)))
    assert [r.status for r in exp.runs] == [Status.RUNNING] * 3


def test_restarting_one_seed_never_leaks_an_old_epoch_into_any_life(make_experiment):
    exp = _stack(make_experiment)
    exp.start()
    target, other = exp.runs[1], exp.runs[2]
    assert wait_until(lambda: len(target.history) >= 5)
    lives = [(target.seed, target.history)]
    problems: list[str] = []

    def hammer() -> None:
        for i in range(40):
            target.restart()
            lives.append((target.seed, target.history))
            if i % 5 == 4 and not wait_until(lambda: len(target.history) >= 3):
                problems.append(f"restart {i}: the new life never trained")
            time.sleep(0.0005 * (i % 4))

    thread = threading.Thread(target=hammer)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and problems == []
    assert [s for s, _ in lives] == [1 + 3 * i for i in range(41)]  # seeds step by repeats
    assert wait_until(lambda: len(target.history) >= 30)
    assert exp.stop()
    for seed, history in lives:
        cols = history.read()
        assert [cols.record(j)["epoch"] for j in range(len(cols))] == list(range(1, len(cols) + 1))
        n = min(len(cols), 200)
        assert list(cols["train_loss"][:n]) == slot(5, 1, seed, n), seed
    # The seeds beside it trained on, one life each, untouched.
    assert other.retired == [] and other.seed == 2
    n = min(len(other.history), 200)
    assert list(other.history.read(0, n)["train_loss"]) == slot(5, 2, 2, n)


def test_restart_after_the_stack_finished_trains_that_seed_alone(make_experiment):
    exp = _stack(make_experiment, epochs=10)
    exp.start()
    assert exp.wait(30)
    assert not wait_until(lambda: any(r.alive for r in exp.runs), 0.2)
    exp.runs[2].restart()
    assert exp.runs[2].status is Status.RUNNING and exp.runs[2].seed == 5
    assert exp.wait(30)
    assert [r.status for r in exp.runs] == [Status.FINISHED] * 3
    assert [len(r.retired) for r in exp.runs] == [0, 0, 1]
    assert list(exp.runs[2].history.read()["train_loss"]) == slot(5, 2, 5, 10)
    assert exp.stop()


def test_a_pause_right_after_a_restart_holds(make_experiment):
    exp = _stack(make_experiment)
    exp.start()
    run = exp.runs[0]
    for _ in range(5):
        assert wait_until(lambda: len(run.history) > 3)
        run.restart()
        run.pause()
        assert wait_until(lambda: acted_on([run]))
        frozen = len(run.history)
        time.sleep(0.15)
        assert len(run.history) == frozen and run.status is Status.PAUSED
        run.resume()


@pytest.mark.parametrize("paused", [False, True])
def test_stop_ends_every_seed_at_once(make_experiment, paused):
    exp = _stack(make_experiment, widths=(5, 100))
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 3)
    if paused:
        exp.toggle()
    t0 = time.monotonic()
    assert exp.stop()
    assert time.monotonic() - t0 < STOP_S
    assert [r.status for r in exp.runs] == [Status.STOPPED] * 6


def test_speed_paces_every_seed_of_a_stack(make_experiment):
    exp = _stack(make_experiment, speed=40)
    exp.start()
    assert wait_until(lambda: min(_counts(exp)) >= 2)
    before, t0 = _counts(exp), time.monotonic()
    time.sleep(1.0)
    took = time.monotonic() - t0
    gained = [n - b for n, b in zip(_counts(exp), before)]
    assert all(g <= 40 * took + 3 for g in gained), gained  # never faster than the pace
    exp.set_speed(0)
    assert wait_until(lambda: min(_counts(exp)) > max(before) + 200)
