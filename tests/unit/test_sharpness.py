"""#34: the instruments (gradient norm, weight norm, sharpness) are recorded as epoch fields, the
sharpness equals the exact top Hessian eigenvalue, and measuring changes no training number."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import WAIT_S, wait_until

from mlp_tui.cli.main import main
from mlp_tui.core.config import ExperimentConfig
from mlp_tui.engine.curvature import exact_top, model_loss, sharpness, stacked_loss
from mlp_tui.engine.data import load_dataset
from mlp_tui.engine.stack_step import StackedTrainer
from mlp_tui.engine.step import Trainer, build
from mlp_tui.persist.table import read_table
from mlp_tui.session.replay import ReplaySession
from mlp_tui.view.sharpness import latest

CLASSIFY = {}
REGRESS = {"dataset": "diabetes", "standardize": True, "lr": 0.01}


def _exact(cfg: ExperimentConfig, width: int, seed: int = 0) -> float:
    data = load_dataset(cfg)
    model, _ = build(cfg, data, width, seed)
    return exact_top(model_loss(model, data.objective.loss, data.x_train, data.y_train),
                     list(model.parameters()))


@pytest.mark.parametrize("settings", [CLASSIFY, REGRESS], ids=["classification", "regression"])
@pytest.mark.parametrize("width", [5, 100])
def test_a_reading_at_init_is_the_exact_top_eigenvalue(settings, width):
    cfg = ExperimentConfig(**settings)
    data = load_dataset(cfg)
    model, _ = build(cfg, data, width, 0)
    loss_of = model_loss(model, data.objective.loss, data.x_train, data.y_train)
    reading = sharpness(loss_of, list(model.parameters()))
    exact = _exact(cfg, width)
    assert reading.value == pytest.approx(exact, rel=0.01)
    again = sharpness(loss_of, list(model.parameters()), start=reading.vector)  # warm start
    assert again.value == pytest.approx(exact, rel=0.01)
    assert again.products <= reading.products


@pytest.mark.parametrize("settings", [CLASSIFY, REGRESS], ids=["classification", "regression"])
def test_headless_history_records_the_instruments(tmp_path, settings, capsys):
    """The issue's acceptance: `--sharpness 1 --history h.csv` records grad_norm and sharpness;
    at epoch 1 widths 5 and 100 read the exact eigenvalue; width 1000 starts above 2/lr."""
    path = tmp_path / "h.csv"
    argv = ["--headless", "--speed", "0", "--epochs", "30", "--sharpness", "1",
            "--history", str(path)]
    for key, value in settings.items():
        argv += [f"--{key}"] if value is True else [f"--{key}", str(value)]
    assert main(argv) == 0
    rows = [r for r in read_table(path) if r["train_loss"] is not None]
    first = {r["width"]: r for r in rows if r["epoch"] == 1}
    cfg = ExperimentConfig(**settings)
    for width in (5, 100):
        assert first[width]["sharpness"] == pytest.approx(_exact(cfg, width), rel=0.01)
    assert all(r["grad_norm"] > 0 and r["weight_norm"] > 0 for r in rows)
    assert all(math.isfinite(r["sharpness"]) for r in rows)  # every epoch read
    if not settings:  # the catapult: 2/lr = 20 at the default lr
        assert first[1000]["sharpness"] > 20


def _losses(cfg: ExperimentConfig, width: int, epochs: int) -> tuple[list, dict]:
    data = load_dataset(cfg)
    trainer = Trainer(cfg, data, width, 0)

    class Never:
        interrupt = False

    cols: dict[str, list] = {}
    while sum(map(len, cols.get("train_loss", [[]]))) < epochs:
        trainer.compute(min(trainer.rows, 7), math.inf, Never())
        for k, v in trainer.take()[0][0].items():
            cols.setdefault(k, []).append(v)
    flat = {k: [x for part in v for x in part][:epochs] for k, v in cols.items()}
    weights = [p.detach().clone() for p in trainer.model.parameters()]
    return weights, flat


@pytest.mark.parametrize("width", [5, 100])
def test_readings_leave_every_training_number_bit_identical(width):
    on, off = ExperimentConfig(sharpness=3), ExperimentConfig()
    w_on, c_on = _losses(on, width, 21)
    w_off, c_off = _losses(off, width, 21)
    assert c_on["train_loss"] == c_off["train_loss"]
    assert c_on["train_acc"] == c_off["train_acc"]
    assert all(torch.equal(a, b) for a, b in zip(w_on, w_off))
    read = [i for i, v in enumerate(c_on["sharpness"]) if math.isfinite(v)]
    assert read == list(range(0, 21, 3))  # epochs 1, 4, 7...: the rest empty, not filled in
    assert all(math.isnan(v) for v in c_off["sharpness"])
    assert c_on["grad_norm"] == c_off["grad_norm"]  # always measured


def test_a_stack_reads_each_seeds_own_sharpness():
    cfg = ExperimentConfig(sharpness=1, repeats=3, stack=True)
    data = load_dataset(cfg)
    stack = StackedTrainer(cfg, data, 100, [0, 1, 2])
    stack.compute(2, math.inf, type("Never", (), {"interrupt": False})())
    per_seed, _ = stack.take()
    for seed, cols in enumerate(per_seed):
        assert cols["sharpness"][0] == pytest.approx(_exact(cfg, 100, seed), rel=0.01)
        assert cols["grad_norm"][0] > 0 and math.isfinite(cols["sharpness"][1])
    params = [p[0] for p in stack.params]  # the stack's own loss of one seed agrees too
    loss_of = stacked_loss(data.objective.loss, data.x_train, data.y_train)
    assert sharpness(loss_of, params).value == pytest.approx(exact_top(loss_of, params), rel=0.01)


@pytest.mark.e2e  # starts worker processes (5 s each): the whole suite's, not the fast core's
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_stacked_seeds_in_worker_processes_record_readings_a_replay_shows(tmp_path, suffix):
    """`--stack --backend process --sharpness 5`: every seed's readings cross the process
    boundary into the history file; a replay shows them at the same epochs, empty between."""
    path = tmp_path / f"h{suffix}"
    argv = ["--headless", "--speed", "0", "--epochs", "12", "--sharpness", "5", "--widths",
            "5,100", "--repeats", "2", "--stack", "--backend", "process", "--history", str(path)]
    assert main(argv) == 0
    session = ReplaySession(path)
    assert wait_until(lambda: session.ended, WAIT_S)
    cfg = ExperimentConfig()
    for run in session.runs:
        column = run.history.column("sharpness")
        assert [i for i, v in enumerate(column) if math.isfinite(v)] == [0, 5, 10]
        assert column[0] == pytest.approx(_exact(cfg, run.width, run.seed), rel=0.01)
        assert (run.history.column("grad_norm") > 0).all()
        assert latest(run.history) == pytest.approx(column[10])
