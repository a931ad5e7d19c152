"""`--early-stop` and `--save-models`: a run stops when its validation loss has not improved
for PATIENCE epochs, and each life's best and last weights load into a plain `nn.Sequential`
that gives back the losses recorded for them, exactly."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import WAIT_S, wait_until

from mlp_tui.core.config import ConfigError, ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.engine.early_stop import EarlyStop
from mlp_tui.runner import Outputs, Runner
from mlp_tui.session.live import LiveSession


def _run(tmp_path, **fields):
    session = LiveSession(validate(ExperimentConfig(speed=0, **fields)))
    runner = Runner(session, Outputs(models=tmp_path / "m"))
    runner.start()
    assert wait_until(lambda: session.ended, WAIT_S)
    assert runner.finish() == 0, runner.errors
    return session


def _plain_model(state, width, dropout=0.0):
    from torch import nn

    hidden = [nn.Linear(4, width), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    model = nn.Sequential(*hidden, nn.Linear(width, 3))
    model.load_state_dict(state)
    return model.eval()


def test_patience_counts_epochs_without_a_big_enough_fall():
    stop = EarlyStop(patience=3, min_delta=0.1)
    assert stop.stop_at([1.0, 0.95, 0.85]) is None  # 0.95 is not 0.1 below 1.0; 0.85 is
    assert (stop.best, stop.best_epoch, stop.since) == (0.85, 3, 0)
    assert stop.stop_at([0.8, float("nan"), 0.9, 0.1]) == 2  # the third epoch without one


def test_an_early_stopped_run_saves_weights_that_give_back_its_recorded_losses(tmp_path):
    from mlp_tui.engine.data import load_dataset

    session = _run(tmp_path, widths=(5, 100), val_split=0.3, epochs=2000, early_stop=15,
                   dropout=(0.0, 0.2))
    cfg = session.config
    data = load_dataset(cfg)
    files = sorted((tmp_path / "m").glob("*.pt"))
    assert len(files) == 8  # best and last of 4 runs
    for run in session.runs:
        assert run.status is Status.EARLY_STOPPED and len(run.history) < 2000
        best, at = run.history.best("val_loss")
        assert len(run.history) - at >= 15  # stopped after its patience ran out
    for pt in files:
        note = json.loads(pt.with_suffix(".json").read_text())
        meta = note["settings"]
        model = _plain_model(torch.load(pt), meta["width"], meta["dropout"])
        with torch.no_grad():
            train = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train).item()
            val = torch.nn.functional.cross_entropy(model(data.x_val), data.y_val).item()
        if meta["dropout"] == 0 and note["train_loss_of_these_weights"] is not None:
            assert train == note["train_loss_of_these_weights"]  # exact: the same forward
        assert abs(val - note["recorded"]["val_loss"]) < 1e-6  # the same weights' loss
        if pt.name.endswith("_best.pt"):
            assert note["recorded"]["val_loss"] == min(
                r.history.best("val_loss")[0] for r in session.runs
                if r.seed == meta["seed"] and r.width == meta["width"]
                and r.meta["dropout"] == meta["dropout"])


def test_early_stopping_needs_a_validation_set():
    with pytest.raises(ConfigError, match=r"^--early-stop: needs --val-split"):
        validate(ExperimentConfig(early_stop=10))


def test_the_python_api_saves_and_lists_the_models(tmp_path):
    pytest.importorskip("pandas")
    import mlp_tui

    result = mlp_tui.train(widths=[5], epochs=20, val_split=0.2, progress=False,
                           save_models=str(tmp_path / "api"))
    assert [p.name.rsplit("_", 1)[1] for p in result.models] == ["best.pt", "last.pt"]
    assert all(p.exists() and p.with_suffix(".json").exists() for p in result.models)
