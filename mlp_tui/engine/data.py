"""Bundled scikit-learn datasets (or the user's data file) as tensors, with an optional
hold-out (stratified for classes, shuffled for regression: the task says)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from mlp_tui.engine.health import Baseline

from mlp_tui.core.config import ExperimentConfig
from mlp_tui.engine.tasks import Objective, objective

_LOADERS = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "diabetes": "load_diabetes",
    "linnerud": "load_linnerud",
}


@dataclass(frozen=True)
class Dataset:
    """Training (and optional validation) tensors, already on the run device, and the task's
    arithmetic (`objective`) the kernels use on them."""

    x_train: torch.Tensor
    y_train: torch.Tensor  # class indices, or (samples, targets) floats
    x_val: torch.Tensor | None
    y_val: torch.Tensor | None
    n_features: int
    n_outputs: int  # classes, or regression targets
    baseline: Baseline  # what a constant predictor scores on the training targets (health)
    objective: Objective

    @property
    def has_val(self) -> bool:
        return self.x_val is not None

    @property
    def n_train(self) -> int:
        return self.y_train.shape[0]

    @property
    def n_val(self) -> int:
        return 0 if self.y_val is None else self.y_val.shape[0]


def load_arrays(name: str, target: str = "", task: str = ""):
    """Features and labels (or targets) as numpy arrays, straight from scikit-learn's bundled
    files or from the user's data file (already checked by config.validate)."""
    if name not in _LOADERS:
        from mlp_tui.core.userdata import read_data

        data = read_data(name, target, task=task)
        return data.x, data.y
    from mlp_tui.engine.bundled import read_bundled

    arrays = read_bundled(name)
    if arrays is not None:
        return arrays
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, _LOADERS[name])()
    return bunch.data, bunch.target


@dataclass(frozen=True)
class Arrays:
    """A configuration's data as numpy arrays, split and scaled: what a worker process is sent,
    so that it never imports scikit-learn (a second of its start-up)."""

    x: object
    y: object
    x_val: object | None
    y_val: object | None


def prepare(cfg: ExperimentConfig) -> Arrays:
    """Raw features by default (as the notebook trains); `--standardize` scales the features,
    and a regression's targets too, by the training split's statistics (its losses are then in
    standard deviations of the targets, squared)."""
    x, y = load_arrays(cfg.dataset, cfg.target, cfg.task)
    x_val = y_val = None
    if cfg.val_split > 0:
        from mlp_tui.engine.split import shuffled_split, stratified_split

        split = stratified_split if cfg.kind.split == "stratified" else shuffled_split
        x, x_val, y, y_val = split(x, y, cfg.val_split, cfg.seed % 2**32)
    if cfg.standardize:
        x, x_val = _standardized(x, x_val)
        if cfg.kind.outputs == "targets":
            y, y_val = _standardized(y, y_val)
    return Arrays(x, y, x_val, y_val)


def _standardized(train, val):
    """Both arrays scaled by the training array's mean and standard deviation (a constant
    column is only centred)."""
    import numpy as np

    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, None if val is None else (val - mean) / std


def load_dataset(
    cfg: ExperimentConfig, device: str = "cpu", arrays: Arrays | None = None
) -> Dataset:
    """The configuration's data as tensors on `device` (from `arrays` when given)."""
    import torch

    a = prepare(cfg) if arrays is None else arrays
    task = objective(cfg.kind)

    def tensors(x, y):
        return torch.tensor(x, dtype=torch.float32, device=device), task.target(y, device)

    xt, yt = tensors(a.x, a.y)
    xv = yv = None
    if a.x_val is not None:
        xv, yv = tensors(a.x_val, a.y_val)
    base = task.baseline(a.y, cfg.n_outputs)
    return Dataset(xt, yt, xv, yv, xt.shape[1], int(cfg.n_outputs), base, task)
