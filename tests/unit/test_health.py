"""The stall detector: a run that stopped learning far from a solution is flagged."""

from __future__ import annotations

import math

from mlp_tui.engine.health import STALL_TOLERANCE, STALL_WINDOW, is_stalled, stall_floor


def test_flat_series_above_the_floor_is_stalled():
    assert is_stalled([1.2029] * STALL_WINDOW, 3)
    assert is_stalled([5.0] * 10 + [1.2029] * STALL_WINDOW, 3)  # only the last window counts


def test_slowly_decreasing_series_is_not_stalled():
    slow = [1.2029 - 1e-5 * i for i in range(STALL_WINDOW)]  # still learning, slowly
    assert not is_stalled(slow, 3)
    wiggle = [1.2029 + (2 * STALL_TOLERANCE if i % 2 else 0.0) for i in range(STALL_WINDOW)]
    assert not is_stalled(wiggle, 3)


def test_converged_short_or_nonfinite_series_are_not_stalled():
    assert stall_floor(3) == 0.5 * math.log(3)
    assert not is_stalled([0.05] * STALL_WINDOW, 3)  # flat, but at a solution
    assert not is_stalled([1.2029] * (STALL_WINDOW - 1), 3)  # too short to tell
    assert not is_stalled([1.2029] * (STALL_WINDOW - 1) + [math.nan], 3)
    # The floor scales with the number of classes: 0.6 is high for 2 classes, low for 10.
    assert is_stalled([0.6] * STALL_WINDOW, 2)
    assert not is_stalled([0.6] * STALL_WINDOW, 10)


def test_lr_1_width_5_is_flagged_stalled(make_experiment):
    exp = make_experiment(speed=0, epochs=300, widths=(5,), lr=1.0)
    exp.start()
    assert exp.wait(30)
    (run,) = exp.runs
    assert run.stalled
    assert run.status == "stalled"
    cols = run.history.read()
    assert len(cols) == 300
    assert cols.status[-1] == "stalled"
    assert cols.status[0] == "running"


def test_defaults_for_300_epochs_are_not_stalled(make_experiment):
    exp = make_experiment(speed=0, epochs=300)
    exp.start()
    assert exp.wait(30)
    for run in exp.runs:
        assert not run.stalled, run.width
        assert run.status == "finished"
        cols = run.history.read()
        assert "stalled" not in cols.status
        assert cols.status[-1] == "finished"
