"""Which kernel (engine/kernel.py) computes a configuration's epochs: the one place a kernel is
chosen, so a new kernel (a fused sweep) is a class and a line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlp_tui.core.config import ExperimentConfig

if TYPE_CHECKING:
    from mlp_tui.engine.data import Dataset
    from mlp_tui.engine.kernel import Kernel
    from mlp_tui.engine.step import Trainer


def model_kernel(cfg: ExperimentConfig, data: Dataset, width: int, seed: int) -> Trainer:
    """One model's kernel: full batch (with or without dropout) or shuffled minibatches."""
    if 0 < cfg.batch_size < data.n_train:
        from mlp_tui.engine.minibatch import MinibatchTrainer

        return MinibatchTrainer(cfg, data, width, seed)
    from mlp_tui.engine.step import Trainer

    return Trainer(cfg, data, width, seed)


def kernel_for(cfg: ExperimentConfig, data: Dataset, width: int, seeds: list[int]) -> Kernel:
    """The kernel of one unit of work: `--stack`'s seeds as one batched model, else one model
    (a unit of one run)."""
    if cfg.stack:
        from mlp_tui.engine.stack_step import StackedTrainer

        return StackedTrainer(cfg, data, width, seeds)
    if len(seeds) != 1:
        raise ValueError("only a stack trains more than one run in one kernel")
    return model_kernel(cfg, data, width, seeds[0])
