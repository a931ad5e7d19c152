"""The engine trains exactly what the reference notebook's plain PyTorch loop trains."""

from __future__ import annotations

import math

from helpers import assert_close, plain_loop

from mlp_tui.core.schema import Status


def _train(make_experiment, **fields):
    exp = make_experiment(speed=0, **fields)
    exp.start()
    assert exp.wait(30), "runs did not finish"
    return exp


def test_widths_5_100_1000_seed_0_match_the_plain_loop(make_experiment):
    exp = _train(make_experiment, epochs=100)
    assert [r.width for r in exp.runs] == [5, 100, 1000]
    for run in exp.runs:
        assert run.seed == 0
        assert run.status is Status.FINISHED
        cols = run.history.read()
        assert len(cols) == 100
        losses, accs = plain_loop(run.width, 0, 100)
        assert_close(cols["train_loss"], losses)
        assert_close(cols["train_acc"], accs)
        assert [cols.record(i)["epoch"] for i in range(len(cols))] == list(range(1, 101))
        assert cols.status == [Status.RUNNING] * 99 + [Status.FINISHED]
        assert cols["val_loss"] == [None] * 100 and cols["val_acc"] == [None] * 100


def test_seed_3_matches_the_plain_loop(make_experiment):
    exp = _train(make_experiment, epochs=100, widths=(100,), seed=3)
    (run,) = exp.runs
    assert run.seed == 3
    losses, _ = plain_loop(100, 3, 100)
    assert_close(run.history.read()["train_loss"], losses)
    # A different seed really is a different run.
    assert run.history.read()["train_loss"][0] != plain_loop(100, 0, 1)[0][0]


def test_repeats_take_consecutive_seeds(make_experiment):
    exp = _train(make_experiment, epochs=20, widths=(5,), seed=7, repeats=2)
    assert [(r.width, r.repeat, r.seed) for r in exp.runs] == [(5, 0, 7), (5, 1, 8)]
    for run in exp.runs:
        assert_close(run.history.read()["train_loss"], plain_loop(5, run.seed, 20)[0])


def test_validation_split_records_val_metrics_every_epoch(make_experiment):
    exp = _train(make_experiment, epochs=30, widths=(5, 100), val_split=0.2)
    assert exp.data.y_train.shape == (120,) and exp.data.y_val.shape == (30,)
    for run in exp.runs:
        history = run.history
        assert history.has_val
        cols = history.read()
        assert len(cols) == 30
        assert len(cols["val_loss"]) == len(cols["val_acc"]) == 30
        for loss, acc, train_acc in zip(cols["val_loss"], cols["val_acc"], cols["train_acc"]):
            assert math.isfinite(loss) and loss >= 0
            assert 0.0 <= acc <= 1.0
            assert 0.0 <= train_acc <= 1.0
            assert abs(acc * 30 - round(acc * 30)) < 1e-9  # an exact ratio of 30 samples
            assert abs(train_acc * 120 - round(train_acc * 120)) < 1e-9
        assert history.best("val_loss")[0] == min(cols["val_loss"])
        last = history.last()
        assert last["epoch"] == 30
        assert last["val_loss"] == cols["val_loss"][-1]
        assert last["val_acc"] == cols["val_acc"][-1]


def test_validation_split_is_stratified_and_seeded():
    from mlp_tui.core.config import ExperimentConfig
    from mlp_tui.engine.data import load_dataset

    a = load_dataset(ExperimentConfig(val_split=0.2, seed=1))
    b = load_dataset(ExperimentConfig(val_split=0.2, seed=1))
    assert a.has_val
    assert a.x_train.shape == (120, 4) and a.x_val.shape == (30, 4)
    assert a.y_val.bincount().tolist() == [10, 10, 10]
    assert bool((a.x_val == b.x_val).all())
    plain = load_dataset(ExperimentConfig())
    assert not plain.has_val and plain.x_train.shape == (150, 4)
