"""One kernel protocol, one worker (#32 item 4): every way of computing epochs reads back the
same shape (per-slot columns and the epochs' stamps), a reseeded slot is exactly a fresh life,
the one place that chooses a kernel picks the right one, and the worker drives a stand-in kernel
that knows nothing of torch: a new kernel needs nothing else."""

from __future__ import annotations

import math
import time

import pytest
from helpers import wait_until

from mlp_tui.core.config import ExperimentConfig, validate
from mlp_tui.core.schema import Status
from mlp_tui.engine.kernels import kernel_for, model_kernel
from mlp_tui.engine.minibatch import MinibatchTrainer
from mlp_tui.engine.stack_step import StackedTrainer
from mlp_tui.engine.step import Trainer


class _Never:
    interrupt = False


def _cfg(**fields) -> ExperimentConfig:
    return validate(ExperimentConfig(**{"widths": (5,), "val_split": 0.2, **fields}))


def _data(cfg):
    from mlp_tui.engine.data import load_dataset

    return load_dataset(cfg, "cpu")


@pytest.mark.parametrize(("fields", "seeds", "kind"), [
    ({}, [0], Trainer),
    ({"dropout": 0.2}, [0], Trainer),
    ({"batch_size": 32}, [0], MinibatchTrainer),
    ({"stack": True, "repeats": 3}, [0, 1, 2], StackedTrainer),
], ids=["full-batch", "dropout", "minibatch", "stack"])
def test_every_kernel_reads_back_per_slot_columns_and_the_epochs_stamps(fields, seeds, kind):
    cfg = _cfg(**fields)
    kernel = kernel_for(cfg, _data(cfg), 5, seeds)
    assert type(kernel) is kind and kernel.slots == len(seeds)
    kernel.compute(7, math.inf, _Never())
    assert kernel.buffered == 7
    per_slot, stamps = kernel.take()
    assert kernel.buffered == 0 and len(per_slot) == len(seeds) and len(stamps) == 7
    assert stamps == sorted(stamps)
    for cols in per_slot:
        assert {"train_loss", "val_loss", "train_acc", "val_acc", "grad_norm"} <= set(cols)
        assert all(len(col) == 7 for col in cols.values())
        assert all(isinstance(c, int) for c in cols["train_acc"])  # ratios as counts
        assert "elapsed_s" not in cols  # the worker's: active seconds of each slot's own life


def _losses(kernel, epochs: int) -> list[list[float]]:
    kernel.compute(epochs, math.inf, _Never())
    return [cols["train_loss"] for cols in kernel.take()[0]]


@pytest.mark.parametrize("fields", [{}, {"batch_size": 32}, {"dropout": 0.3, "label_noise": 0.2}],
                         ids=["full-batch", "minibatch", "dropout+noise"])
def test_a_reseeded_model_kernel_is_exactly_a_fresh_life(fields):
    """A restart reseeds the unit's kernel: its epochs must be those of a kernel built for the new
    seed (weights, optimizer state, targets, masks, order), bit for bit."""
    cfg = _cfg(**fields)
    data = _data(cfg)
    used = model_kernel(cfg, data, 100, 0)
    _losses(used, 15)
    used.reseed(0, 3)
    assert _losses(used, 12) == _losses(model_kernel(cfg, data, 100, 3), 12)


def test_only_a_stack_trains_several_runs_in_one_kernel():
    cfg = _cfg()
    with pytest.raises(ValueError, match="only a stack"):
        kernel_for(cfg, _data(cfg), 5, [0, 1])


class _CountingKernel:
    """A kernel of arithmetic only: slot i's loss at its epoch e is seed + e / 1000. What the
    worker shows of it is what the protocol promises, whatever computes the numbers."""

    slots = 1
    rows = 8

    def __init__(self, cfg, data, width, seeds):
        self.buffered, self.stamps, self.computed = 0, [], 0
        self.reseed(0, seeds[0])

    def reseed(self, slot, seed):
        self.seed, self.age = seed, 0

    def set_active(self, slot, active):
        pass

    def compute(self, room, until, ctl):
        while True:
            self.buffered += 1
            self.computed += 1
            now = time.perf_counter()
            self.stamps.append(now)
            if self.buffered >= room or now >= until or ctl.interrupt:
                return now

    def take(self):
        m, self.buffered = self.buffered, 0
        epochs = range(self.age + 1, self.age + m + 1)
        self.age += m
        cols = {"train_loss": [self.seed + e / 1000 for e in epochs], "train_acc": [0] * m}
        stamps, self.stamps = self.stamps[:m], self.stamps[m:]
        return [cols], stamps


def test_the_worker_drives_any_kernel_through_pause_and_restart(make_experiment, monkeypatch):
    made: list[_CountingKernel] = []

    def fake(*args):
        made.append(_CountingKernel(*args))
        return made[-1]

    monkeypatch.setattr("mlp_tui.engine.worker.kernel_for", fake)
    exp = make_experiment(widths=(5,), epochs=10**6, speed=0)
    run = exp.runs[0]
    exp.start()
    assert wait_until(lambda: len(run.history) > 50, 10)
    run.pause()
    run.settle(1.0)
    paused_at, computed = len(run.history), made[0].computed
    time.sleep(0.2)
    assert run.status is Status.PAUSED
    assert (len(run.history), made[0].computed) == (paused_at, computed)  # computes nothing
    run.restart()  # reseeds the slot: the new life starts at its epoch 1 with its own seed
    assert wait_until(lambda: len(run.history) > 20, 10)
    losses = list(run.history.read()["train_loss"][:20])
    assert losses == pytest.approx([run.seed + e / 1000 for e in range(1, 21)], abs=1e-6)
    assert len(made) == 1 and run.seed != 0  # one kernel for the unit, reseeded
    assert exp.stop()
