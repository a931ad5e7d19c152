"""The arithmetic of each task (`core/task.py` declares what it measures): one module a task,
each the only place its loss and metrics are computed. `objective(task)` is how the kernels and
the data loader reach it; nothing else asks which task it holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import torch

    from mlp_tui.core.task import Task
    from mlp_tui.engine.health import Baseline


class Objective(Protocol):
    """What a kernel asks of a task. `outs` are model outputs of several rows (epochs, or the
    seeds of a stack) at once: (rows, samples, outputs)."""

    task: Task

    def target(self, y: np.ndarray, device: str) -> torch.Tensor:
        """The targets as the loss takes them (class indices; float rows of targets)."""

    @property
    def loss(self):
        """The mean loss of one model's outputs, `loss(out, y)`: torch's own function (the hot
        loop calls it as a notebook would, bit for bit)."""

    def row_losses(self, outs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The mean loss of each row of `outs`, (rows,) (differentiable: a stack's loss)."""

    def grad_target(self, y: torch.Tensor, n_outputs: int) -> torch.Tensor:
        """The targets as `row_loss_grads` takes them, feature-major (outputs, samples): made
        once by a kernel, not every epoch."""

    def row_loss_grads(self, outs_t: torch.Tensor, target_t: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's mean loss, (rows,), and its gradient with respect to the row's outputs,
        written out (no autograd): what a fused kernel backpropagates by hand. Feature-major:
        `outs_t` and the gradient are (rows, outputs, samples), as the fused kernel computes;
        `target_t` is `grad_target(y)`."""

    def metrics(self, outs: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every metric but the loss, (rows,) each, keyed by `Metric.key` (ratios as counts)."""

    def running(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Additive statistics of one minibatch's outputs (a minibatch epoch sums them)."""

    def finish(self, sums: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every metric but the loss from an epoch's summed `running` statistics."""

    def baseline(self, y: np.ndarray, n_outputs: int) -> Baseline:
        """What a constant predictor scores on these training targets (health)."""

    def noised(self, y: torch.Tensor, fraction: float, seed: int, n_outputs: int) -> torch.Tensor:
        """A copy of the training targets with `--label-noise fraction` applied, drawn from
        `numpy.random.RandomState(seed)` (the run's seed: recorded with every row)."""


def columns(task: Task, values: dict[str, torch.Tensor]) -> dict[str, list]:
    """Epoch fields (`train_loss`, `val_acc`...) as lists, read back with one host sync: the
    tensors, (rows,) each, stacked; ratios become the counts a history stores."""
    import torch

    names = list(values)
    with torch.no_grad():
        rows = torch.stack([values[n].float() for n in names]).tolist()
    counts = {f.name for f in task.metric_fields if f.per}
    return {n: [int(c) for c in r] if n in counts else r for n, r in zip(names, rows)}


def split_metrics(obj: Objective, split: str, outs: torch.Tensor, y: torch.Tensor,
                  loss: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Every metric of one split from its outputs, keyed by epoch field (`val_loss`, `val_r2`);
    `loss`: the loss already known (the hot loop's, before the step)."""
    loss = obj.row_losses(outs, y) if loss is None else loss
    return {f"{split}_loss": loss, **{f"{split}_{k}": v for k, v in obj.metrics(outs, y).items()}}


def objective(task: Task) -> Objective:
    if task.name == "regression":
        from mlp_tui.engine.tasks.regression import Regression

        return Regression()
    from mlp_tui.engine.tasks.classification import Classification

    return Classification()
