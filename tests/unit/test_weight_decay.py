"""`--weight-decay`: the setting added through its declaration alone (core/settings.py) plus its
effect in the engine. It trains exactly what torch.optim.SGD(weight_decay=...) and Adam train,
stacks, makes a grid axis, and every consumer of the declarations shows it."""

from __future__ import annotations

import math

import pytest
import tomllib
import torch
from torch import nn

from mlp_tui.cli.args import parse_args
from mlp_tui.core.config import ConfigError, ExperimentConfig, run_meta, validate
from mlp_tui.core.config_file import effective_toml
from mlp_tui.core.grid import group_name
from mlp_tui.core.task import CLASSIFICATION
from mlp_tui.engine.optim import PlainSGD
from mlp_tui.engine.stack_step import StackedTrainer
from mlp_tui.engine.step import Trainer
from mlp_tui.persist.tensorboard import life_folder

HISTORY_COLUMNS, TABLE_COLUMNS = CLASSIFICATION.history_columns, CLASSIFICATION.table_columns

WD = 0.01


class _Never:
    interrupt = False


def _trained(cfg: ExperimentConfig, width: int, epochs: int) -> tuple[list[float], Trainer]:
    """The engine's trainer after `epochs` epochs, one intra-op thread; its losses."""
    from mlp_tui.engine.data import load_dataset

    trainer = Trainer(cfg, load_dataset(cfg, "cpu"), width, cfg.seed)
    losses: list[float] = []
    while len(losses) < epochs:
        trainer.compute(min(trainer.rows, epochs - len(losses)), math.inf, _Never())
        losses += trainer.take()[0][0]["train_loss"]
    return losses, trainer


def _plain(x, y, width: int, seed: int, epochs: int, make_opt) -> list[torch.Tensor]:
    """The plain PyTorch loop's weights after `epochs` full-batch epochs."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], width), nn.ReLU(), nn.Linear(width, 3))
    opt = make_opt(model.parameters())
    for _ in range(epochs):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach() for p in model.parameters()]


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.numerics
@pytest.mark.parametrize("width", [5, 100])
def test_sgd_with_weight_decay_is_bit_identical_to_torch_sgd(width, one_thread):
    cfg = validate(ExperimentConfig(widths=(width,), weight_decay=WD, seed=2))
    _, trainer = _trained(cfg, width, 80)
    data = trainer.data
    torchs = _plain(data.x_train, data.y_train, width, 2, 80,
                    lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=WD))
    assert all(torch.equal(a.detach(), b) for a, b in zip(trainer.model.parameters(), torchs))
    without = _plain(data.x_train, data.y_train, width, 2, 80,
                     lambda ps: torch.optim.SGD(ps, lr=0.1))
    assert not torch.equal(torchs[0], without[0])  # the decay did something


@pytest.mark.numerics
def test_plain_sgd_decays_minibatches_as_torch_sgd_does(one_thread):
    torch.manual_seed(7)
    x, y = torch.randn(150, 4) * 3, torch.randint(0, 3, (150,))
    ours = _plain(x, y, 100, 1, 40, lambda ps: PlainSGD(ps, lr=0.1, weight_decay=0.05))
    torchs = _plain(x, y, 100, 1, 40, lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.05))
    assert all(torch.equal(a, b) for a, b in zip(ours, torchs))


def test_adam_gets_the_decay_and_zero_changes_nothing():
    from mlp_tui.engine.data import load_dataset
    from mlp_tui.engine.step import build

    cfg = validate(ExperimentConfig(optimizer="adam", weight_decay=WD))
    opt = build(cfg, load_dataset(cfg, "cpu"), 5, 0)[1]
    assert isinstance(opt, torch.optim.Adam) and opt.param_groups[0]["weight_decay"] == WD
    plain = build(validate(ExperimentConfig()), load_dataset(cfg, "cpu"), 5, 0)[1]
    assert isinstance(plain, PlainSGD) and plain.weight_decay == 0


@pytest.mark.numerics
def test_stacked_seeds_decay_like_separate_runs(one_thread):
    from mlp_tui.engine.data import load_dataset

    cfg = validate(ExperimentConfig(widths=(5,), weight_decay=0.05, stack=True, repeats=4))
    data = load_dataset(cfg, "cpu")
    stack = StackedTrainer(cfg, data, 5, [0, 1, 2, 3])
    rows = [stack.epoch()[0].tolist() for _ in range(10)]
    bare = StackedTrainer(validate(ExperimentConfig(widths=(5,))), data, 5, [0, 1, 2, 3])
    bare_rows = [bare.epoch()[0].tolist() for _ in range(10)]
    assert rows[-1] != bare_rows[-1]
    for seed in range(4):
        alone, _ = _trained(validate(ExperimentConfig(widths=(5,), weight_decay=0.05,
                                                      seed=seed)), 5, 10)
        for a, b in zip(alone, (r[seed] for r in rows)):
            assert abs(a - b) <= 1e-5 * max(alone), (seed, a, b)


def test_the_flag_makes_a_grid_axis_named_wd():
    cfg = parse_args(["--weight-decay", "0,0.01", "--widths", "5"]).config
    assert cfg.weight_decay == (0.0, 0.01) and cfg.grid_axes() == ("weight_decay",)
    assert [p.weight_decay for p in cfg.points()] == [0.0, 0.01] and cfg.n_runs == 2
    assert group_name(5, {"weight_decay": 0.01}) == "w=5 wd=0.01"
    assert "weight decay 0,0.01" in cfg.describe() and "2 runs" in cfg.describe()
    assert parse_args([]).config.weight_decay == 0.0


@pytest.mark.parametrize("argv, line", [
    (["--weight-decay", "-0.1"], "--weight-decay: must be 0 or more, got -0.1"),
    (["--weight-decay", "x"], "--weight-decay: expected a number, got 'x'"),
    (["--weight-decay", "0.1,0.1"], "--weight-decay: 0.1 is listed twice"),
])
def test_bad_values_are_one_line(argv, line):
    with pytest.raises(ConfigError) as err:
        parse_args(argv)
    assert str(err.value) == line


def test_runs_record_it_and_the_files_keep_their_columns_first(tmp_path):
    cfg = validate(ExperimentConfig(weight_decay=WD))
    meta = run_meta(cfg, 0, 5, 0, 0, "cpu")
    assert meta["weight_decay"] == WD
    assert HISTORY_COLUMNS.index("weight_decay") == HISTORY_COLUMNS.index("device") + 1
    assert TABLE_COLUMNS.index("weight_decay") == TABLE_COLUMNS.index("device") + 1
    assert life_folder(meta) == "run0_iris_w5_d1_sgd_lr0.1_bs0_wd0.01_seed0"
    assert "wd" not in life_folder(run_meta(validate(ExperimentConfig()), 0, 5, 0, 0, "cpu"))
    assert tomllib.loads(effective_toml(cfg))["weight-decay"] == WD
    path = tmp_path / "c.toml"
    path.write_text(effective_toml(cfg))
    assert parse_args(["--config", str(path)]).config == cfg
