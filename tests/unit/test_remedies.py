"""The remedies for overfitting (`--dropout`, `--label-noise`, `--momentum`; `--weight-decay`
in test_weight_decay.py): each a grid axis and a run column, and each bit-identical to the plain
PyTorch loop that does the same thing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from helpers import ENGINE_THREADS, WAIT_S, wait_until

from mlp_tui.core.config import ConfigError, ExperimentConfig, validate
from mlp_tui.persist.table import read_table


def _iris_split(val_split: float, seed: int = 0):
    from mlp_tui.engine.data import prepare

    a = prepare(validate(ExperimentConfig(val_split=val_split, seed=seed)))
    return (torch.tensor(a.x, dtype=torch.float32), torch.tensor(a.y),
            torch.tensor(a.x_val, dtype=torch.float32), torch.tensor(a.y_val))


def _noised(y: torch.Tensor, fraction: float, seed: int, k: int = 3) -> torch.Tensor:
    """Written apart from the engine: round(f * n) distinct labels, each shifted to another
    class, from numpy.random.RandomState(seed)."""
    rng = np.random.RandomState(seed)
    labels = y.numpy().copy()
    idx = rng.choice(len(labels), int(round(fraction * len(labels))), replace=False)
    labels[idx] = (labels[idx] + rng.randint(1, k, size=len(idx))) % k
    return torch.tensor(labels)


class _Dropout(torch.nn.Module):
    """Dropout drawing its masks from a generator of its own (as the engine's runs do)."""

    def __init__(self, p, gen):
        super().__init__()
        self.p, self.gen = p, gen

    def forward(self, x):
        if not self.training:
            return x
        return x * torch.empty_like(x).bernoulli_(1 - self.p, generator=self.gen) / (1 - self.p)


def _plain(width, epochs, seed=0, lr=0.1, dropout=0.0, noise=0.0, momentum=0.0, val=0.2):
    """(train losses, val losses) of the plain loop: seed, build, SGD, cross-entropy; the
    validation loss in eval mode after each step's forward."""
    from torch import nn
    from torch.nn import functional as F

    x, y, xv, yv = _iris_split(val, seed)
    if noise:
        y = _noised(y, noise, seed)
    out: dict[str, list] = {"train": [], "val": []}

    def loop():
        torch.set_num_threads(ENGINE_THREADS)
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        layers = [nn.Linear(4, width), nn.ReLU()]
        layers += [_Dropout(dropout, gen)] if dropout else []
        model = nn.Sequential(*layers, nn.Linear(width, 3))
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        for _ in range(epochs):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            out["train"].append(loss.item())
            model.eval()
            with torch.no_grad():
                out["val"].append(F.cross_entropy(model(xv), yv).item())
            model.train()

    t = threading.Thread(target=loop)
    t.start()
    t.join()
    return out["train"], out["val"]


@pytest.mark.numerics
@pytest.mark.parametrize("remedy", [{"dropout": 0.3}, {"label_noise": 0.2}, {"momentum": 0.9}])
def test_each_remedy_is_the_plain_loop_bit_for_bit(make_experiment, remedy):
    exp = make_experiment(widths=(16, 100), epochs=40, val_split=0.2, speed=0, seed=2, **remedy)
    exp.start()
    assert exp.wait(30)
    for run in exp.runs:
        cols = run.history.read()
        train, val = _plain(run.width, 40, seed=2, dropout=remedy.get("dropout", 0.0),
                            noise=remedy.get("label_noise", 0.0),
                            momentum=remedy.get("momentum", 0.0))
        assert cols["train_loss"] == train
        assert max(abs(a - b) for a, b in zip(cols["val_loss"], val)) < 1e-6


def test_the_noised_labels_are_the_recorded_seeds_and_all_wrong():
    from mlp_tui.core.task import CLASSIFICATION
    from mlp_tui.engine.tasks import objective

    y = torch.tensor([0, 1, 2] * 40)
    noised = objective(CLASSIFICATION).noised(y, 0.25, 7, 3)
    assert torch.equal(noised, _noised(y, 0.25, 7))
    changed = noised != y
    assert int(changed.sum()) == 30  # every chosen label moved to another class
    assert not torch.equal(noised, objective(CLASSIFICATION).noised(y, 0.25, 8, 3))


def test_a_grid_of_remedies_exports_one_row_per_combination(tmp_path, make_runner):
    runner = make_runner(val_split=0.2, epochs=30, widths=(16,), weight_decay=(0.0, 1e-3),
                         dropout=(0.0, 0.2), label_noise=(0.0, 0.2), speed=0,
                         export=tmp_path / "g.csv")
    runner.start()
    assert wait_until(lambda: runner.session.ended, WAIT_S)
    runner.finish()
    rows = read_table(tmp_path / "g.csv")
    combos = {(r["weight_decay"], r["dropout"], r["label_noise"]) for r in rows}
    assert len(rows) == 8 and len(combos) == 8
    assert all(r["status"] == "finished" for r in rows)


def test_the_remedies_refuse_what_they_cannot_do():
    with pytest.raises(ConfigError, match=r"^--dropout: must be in \[0, 1\), got 1$"):
        validate(ExperimentConfig(dropout=1.0))
    with pytest.raises(ConfigError, match=r"^--momentum: applies to --optimizer sgd"):
        validate(ExperimentConfig(momentum=0.9, optimizer="adam"))
    with pytest.raises(ConfigError, match=r"^--stack: trains without --dropout"):
        validate(ExperimentConfig(stack=True, repeats=2, dropout=0.1))
