"""Regression, end to end: the task's numbers are a plain PyTorch loop's, its metrics are
scikit-learn's, and every layer (files, replay, health, the table's words) follows the task."""

from __future__ import annotations

import csv
import math
import threading

import numpy as np
import pytest
import torch
from helpers import ENGINE_THREADS, WAIT_S, wait_until

from mlp_tui.core.config import ConfigError, ExperimentConfig, validate
from mlp_tui.core.schema import Health, Status
from mlp_tui.core.task import CLASSIFICATION, REGRESSION, task_of_columns


def _write_csv(path, n=60, targets=1, seed=3, whole=False):
    """Features and continuous targets (a noisy linear map): the last `targets` columns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * 3 + 1
    y = x @ rng.normal(size=(4, targets)) + rng.normal(scale=0.3, size=(n, targets))
    if whole:
        y = np.round(y)
    names = [f"f{i}" for i in range(4)] + [f"t{j}" for j in range(targets)]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for row in np.hstack([x, y]):
            w.writerow([repr(float(v)) for v in row])
    return str(path), x, y


def _plain_mse_loop(x, y, width, seed, epochs, lr):
    """The notebook's loop with MSE: `torch.manual_seed`, `Sequential(Linear, ReLU, Linear)`,
    `F.mse_loss`, `torch.optim.SGD`, one thread (in a thread of its own, like a worker)."""
    from torch import nn
    from torch.nn import functional as F

    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).reshape(len(y), -1)
    losses: list[float] = []

    def loop():
        torch.set_num_threads(ENGINE_THREADS)
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(xt.shape[1], width), nn.ReLU(),
                              nn.Linear(width, yt.shape[1]))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(epochs):
            opt.zero_grad()
            loss = F.mse_loss(model(xt), yt)
            loss.backward()
            opt.step()
            losses.append(loss.item())

    t = threading.Thread(target=loop)
    t.start()
    t.join()
    return losses


@pytest.mark.numerics
@pytest.mark.parametrize("targets", [1, 3])
def test_a_regression_history_is_the_plain_loops_bit_for_bit(tmp_path, make_experiment, targets):
    path, x, y = _write_csv(tmp_path / "d.csv", targets=targets)
    target = ",".join(f"t{j}" for j in range(targets))
    exp = make_experiment(dataset=path, target=target, widths=(5, 64), epochs=40, lr=0.01,
                          speed=0)
    exp.start()
    assert exp.wait(30)
    for run in exp.runs:
        assert run.history.task is REGRESSION and run.status is Status.FINISHED
        got = run.history.read()["train_loss"]
        assert got == _plain_mse_loop(x, y, run.width, 0, 40, 0.01)  # exact, not close


def test_the_metrics_are_scikit_learns(tmp_path, make_experiment):
    """MAE and R² of the recorded epochs against scikit-learn on the same predictions: R² per
    target averaged (`r2_score`'s default), on each split's own mean."""
    from sklearn.metrics import mean_absolute_error, r2_score

    from mlp_tui.engine.tasks import objective

    rng = np.random.default_rng(0)
    y = torch.tensor(rng.normal(size=(30, 3)), dtype=torch.float32)
    outs = torch.tensor(rng.normal(size=(4, 30, 3)), dtype=torch.float32)
    got = objective(REGRESSION).metrics(outs, y)
    for i in range(4):
        assert math.isclose(got["r2"][i].item(), r2_score(y, outs[i]), rel_tol=1e-5)
        assert math.isclose(got["mae"][i].item(), mean_absolute_error(y, outs[i]),
                            rel_tol=1e-5)
    loss = objective(REGRESSION).row_losses(outs, y)
    assert math.isclose(loss[0].item(), torch.nn.functional.mse_loss(outs[0], y).item(),
                        rel_tol=1e-6)


def test_the_task_follows_the_target_unless_told(tmp_path):
    cont, _, _ = _write_csv(tmp_path / "c.csv")
    whole, _, _ = _write_csv(tmp_path / "w.csv", whole=True)
    assert validate(ExperimentConfig(dataset=cont)).kind is REGRESSION
    assert validate(ExperimentConfig(dataset=whole)).kind is CLASSIFICATION
    assert validate(ExperimentConfig(dataset=whole, task="regression")).kind is REGRESSION
    assert validate(ExperimentConfig(dataset="diabetes")).kind is REGRESSION
    assert validate(ExperimentConfig(dataset="linnerud")).n_outputs == 3
    with pytest.raises(ConfigError, match=r"^--task: iris is a classification dataset$"):
        validate(ExperimentConfig(task="regression"))
    with pytest.raises(ConfigError, match=r"^--task: unknown task 'ranking'"):
        validate(ExperimentConfig(task="ranking"))


def test_the_split_is_shuffled_and_targets_standardized_by_the_training_split():
    from sklearn.model_selection import train_test_split

    from mlp_tui.engine.bundled import read_bundled
    from mlp_tui.engine.data import prepare

    cfg = validate(ExperimentConfig(dataset="diabetes", val_split=0.2, seed=4))
    x, y = read_bundled("diabetes")
    want = train_test_split(x, y, test_size=0.2, random_state=4)
    got = prepare(cfg)
    assert np.array_equal(got.x, want[0]) and np.array_equal(got.x_val, want[1])
    assert np.array_equal(got.y, want[2]) and np.array_equal(got.y_val, want[3])
    scaled = prepare(cfg.with_changes(standardize=True))
    assert abs(scaled.y.mean()) < 1e-9 and abs(scaled.y.std() - 1) < 1e-9
    assert np.allclose(scaled.y_val, (want[3] - want[2].mean()) / want[2].std())


def test_diabetes_exports_mse_mae_r2_and_width_8_generalizes(tmp_path, make_runner):
    runner = make_runner(dataset="diabetes", standardize=True, val_split=0.2, epochs=100,
                         widths=(8, 64), speed=0, export=tmp_path / "r.csv")
    runner.start()
    assert wait_until(lambda: runner.session.ended, WAIT_S)
    runner.finish()
    with open(tmp_path / "r.csv") as f:
        rows = list(csv.DictReader(f))
    for split in ("train", "val"):
        for metric in ("loss", "mae", "r2"):
            assert f"final_{split}_{metric}" in rows[0]
    assert "final_train_acc" not in rows[0]
    w8 = next(r for r in rows if r["width"] == "8")
    assert float(w8["final_val_r2"]) >= 0.2
    assert float(w8["best_val_r2"]) >= float(w8["final_val_r2"])  # best R² is the highest


def test_a_regression_history_replays_to_the_same_export(tmp_path, make_runner):
    from mlp_tui.persist.table import read_table, write_table
    from mlp_tui.session.replay import ReplaySession

    runner = make_runner(dataset="linnerud", standardize=True, val_split=0.25, epochs=30,
                         widths=(4,), repeats=2, speed=0, history=tmp_path / "h.csv",
                         export=tmp_path / "r.csv")
    runner.start()
    assert wait_until(lambda: runner.session.ended, WAIT_S)
    runner.finish()
    replay = ReplaySession(tmp_path / "h.csv")
    replay.start()
    assert wait_until(lambda: replay.ended, WAIT_S)
    assert replay.task is REGRESSION
    from mlp_tui.report.summary import summarize

    write_table(tmp_path / "r2.csv", [summarize(r) for r in replay.runs])
    assert read_table(tmp_path / "r2.csv") == read_table(tmp_path / "r.csv")
    replay.stop()
    assert {r["final_val_r2"] is not None for r in read_table(tmp_path / "r.csv")} == {True}


def test_no_better_than_the_mean_is_its_own_health():
    from mlp_tui.engine.health import HealthTracker
    from mlp_tui.engine.tasks import objective

    y = np.random.default_rng(1).normal(size=(50, 2))
    baseline = objective(REGRESSION).baseline(y, 2)
    assert math.isclose(baseline.prior_loss, float(np.var(y, axis=0).mean()))
    tracker = HealthTracker(baseline)
    losses = [baseline.prior_loss * (1 + 0.5 * (i % 2)) for i in range(60)]  # not flat
    codes = tracker.update(losses, [-0.01] * 60)  # R² never above 0
    assert tracker.health is Health.BASELINE and codes[-1] != codes[0]
    healthy = HealthTracker(baseline)
    healthy.update([1.0 / (i + 1) for i in range(60)], [0.5] * 60)
    assert healthy.health is Health.OK


def test_summary_and_file_columns_tell_the_task():
    assert task_of_columns(REGRESSION.history_columns) is REGRESSION
    assert task_of_columns(REGRESSION.table_columns) is REGRESSION
    assert task_of_columns(CLASSIFICATION.table_columns) is CLASSIFICATION
    assert task_of_columns(["run", "train_loss"]) is CLASSIFICATION
