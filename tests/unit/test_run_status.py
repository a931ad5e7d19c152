"""The per-epoch status and health a real run records, however its epochs are read back.

A paced run reads its epochs back one at a time; an unthrottled one in batches. Either way the
status column is the lifecycle (every epoch `running`, the last `finished`, or `diverged` at the
first non-finite loss with nothing after it), and the health column is what a `HealthTracker`
fed the same epochs one at a time says.
"""

from __future__ import annotations

import math
import time

import pytest

from mlp_tui.core.schema import HEALTH_CODE, Health, Status
from mlp_tui.engine.health import HealthTracker

PACED = 500  # epochs a second: fast enough for a short test, slow enough to read back each epoch
SPEEDS = pytest.mark.parametrize("speed", [0, PACED], ids=["batched", "paced"])


def _run(make_experiment, **fields):
    """Train to the end, recording the size of every read-back into each run's history."""
    exp = make_experiment(**fields)
    batches: dict[int, list[int]] = {}
    for run in exp.runs:
        history, sizes = run.history, batches.setdefault(run.index, [])

        def extend(cols, status, health, _real=history.extend, _sizes=sizes):
            _sizes.append(len(status))
            return _real(cols, status, health)

        history.extend = extend  # the run writes through its life's history
    exp.start()
    assert exp.wait(60), "runs did not end"
    for run in exp.runs:
        assert run.error is None
        assert sum(batches[run.index]) == len(run.history)
    return exp, batches


def _check_batching(speed: int, batches: dict[int, list[int]]) -> None:
    """The two read-back regimes really were exercised."""
    sizes = [m for run_sizes in batches.values() for m in run_sizes]
    if speed:
        assert min(sizes) == 1, sizes
    else:
        assert max(sizes) > 1, sizes


def _expected_health(run) -> list[Health]:
    """A tracker fed the recorded epochs one at a time."""
    cols = run.history.read()
    tracker = HealthTracker(run.data.baseline)
    codes = []
    for loss, acc in zip(cols["train_loss"], cols["train_acc"]):
        codes += tracker.update([loss], [acc])
    health_of = {code: h for h, code in HEALTH_CODE.items()}
    assert health_of[codes[-1]] is tracker.health
    return [health_of[c] for c in codes]


def _check_finished(run, epochs: int) -> None:
    cols = run.history.read()
    assert run.status is Status.FINISHED
    assert len(cols) == epochs
    assert cols.status == [Status.RUNNING] * (epochs - 1) + [Status.FINISHED]
    assert all(math.isfinite(v) for v in cols["train_loss"])
    assert [cols.record(i)["epoch"] for i in range(len(cols))] == list(range(1, epochs + 1))


@SPEEDS
@pytest.mark.parametrize(
    ("fields", "health"),
    [
        ({}, Health.OK),  # the iris defaults, every width
        ({"widths": (5, 100), "batch_size": 32, "epochs": 60}, Health.OK),
        ({"widths": (5,), "lr": 1.0, "epochs": 300}, Health.CHANCE),  # flat at ln 3
        ({"widths": (5,), "lr": 1000.0, "epochs": 200}, Health.DIVERGING),
    ],
    ids=["defaults", "minibatch", "lr1", "lr1000"],
)
def test_a_run_that_ends_finishes_on_its_last_epoch(make_experiment, speed, fields, health):
    exp, batches = _run(make_experiment, speed=speed, **fields)
    _check_batching(speed, batches)
    for run in exp.runs:
        _check_finished(run, exp.cfg.epochs)
        recorded = run.history.read().health
        assert recorded == _expected_health(run)
        assert recorded[-1] is health and run.health is health
        if health is not Health.OK:
            assert recorded[0] is Health.OK  # a health is a judgement over a window: not at once


def test_the_iris_defaults_end_finished_and_ok_for_every_width(make_experiment):
    exp, _ = _run(make_experiment, speed=0)
    assert [r.width for r in exp.runs] == [5, 100, 1000] and exp.cfg.epochs == 100
    assert [(r.status, r.health) for r in exp.runs] == [(Status.FINISHED, Health.OK)] * 3
    for run in exp.runs:
        assert set(run.history.read().health) == {Health.OK}


def test_lr_1000_finishes_with_a_diverging_health(make_experiment):
    exp, _ = _run(make_experiment, speed=0, widths=(5,), lr=1000.0, epochs=200)
    (run,) = exp.runs
    assert (run.status, run.health) == (Status.FINISHED, Health.DIVERGING)
    cols = run.history.read()
    assert cols.status[-1] is Status.FINISHED  # the lifecycle is not the health
    assert cols["train_loss"][-1] > 10 * cols["train_loss"][0]


@SPEEDS
@pytest.mark.parametrize(
    "fields",
    [
        {"widths": (5,), "lr": 1e4, "depth": 4},
        {"widths": (100,), "lr": 100.0, "depth": 3},
    ],
    ids=["w5-lr1e4-d4", "w100-lr100-d3"],
)
def test_a_non_finite_loss_ends_the_life_as_diverged(make_experiment, speed, fields):
    # These runs diverge within a few epochs: paced slowly enough that a loaded machine still
    # reads some of them back one at a time (at 500 ep/s, six epochs fit in one stall).
    speed = speed and 50
    exp, batches = _run(make_experiment, speed=speed, epochs=500, **fields)
    _check_batching(speed, batches)
    (run,) = exp.runs
    assert run.status is Status.DIVERGED
    cols = run.history.read()
    losses = cols["train_loss"]
    n = len(losses)
    assert 1 <= n < 500
    # The last recorded epoch is the first non-finite one: nothing computed after it is kept.
    assert not math.isfinite(losses[-1])
    assert all(math.isfinite(v) for v in losses[:-1])
    assert cols.status == [Status.RUNNING] * (n - 1) + [Status.DIVERGED]
    assert cols.health == _expected_health(run)
    # A diverged life stays over: nothing more lands in its history.
    time.sleep(0.2)
    assert run.status is Status.DIVERGED and len(run.history) == n
