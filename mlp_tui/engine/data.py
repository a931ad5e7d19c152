"""Bundled scikit-learn datasets (or the user's data file) as tensors, with an optional
stratified hold-out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

from mlp_tui.core.config import ExperimentConfig

_LOADERS = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
}


@dataclass(frozen=True)
class Dataset:
    """Training (and optional validation) tensors, already on the run device."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor | None
    y_val: torch.Tensor | None
    n_features: int
    n_classes: int
    class_counts: tuple[int, ...]  # training samples per class (chance levels for health)

    @property
    def has_val(self) -> bool:
        return self.x_val is not None


def load_arrays(name: str, target: str = ""):
    """Features and labels as numpy arrays, straight from scikit-learn's bundled files or from
    the user's data file (already checked by config.validate)."""
    if name not in _LOADERS:
        from mlp_tui.core.userdata import read_data

        data = read_data(name, target)
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
    """Raw features by default (as the notebook trains); standardization uses train statistics."""
    import numpy as np

    x, y = load_arrays(cfg.dataset, cfg.target)
    x_val = y_val = None
    if cfg.val_split > 0:
        from mlp_tui.engine.split import stratified_split

        x, x_val, y, y_val = stratified_split(x, y, cfg.val_split, cfg.seed % 2**32)
    if cfg.standardize:
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x = (x - mean) / std
        if x_val is not None:
            x_val = (x_val - mean) / std
    return Arrays(x, y, x_val, y_val)


def load_dataset(
    cfg: ExperimentConfig, device: str = "cpu", arrays: Arrays | None = None
) -> Dataset:
    """The configuration's data as tensors on `device` (from `arrays` when given)."""
    import numpy as np
    import torch

    a = prepare(cfg) if arrays is None else arrays

    def tensors(x, y):
        return (
            torch.tensor(x, dtype=torch.float32, device=device),
            torch.tensor(y, dtype=torch.long, device=device),
        )

    xt, yt = tensors(a.x, a.y)
    xv = yv = None
    if a.x_val is not None:
        xv, yv = tensors(a.x_val, a.y_val)
    counts = tuple(int(c) for c in np.bincount(a.y, minlength=cfg.n_classes))
    return Dataset(xt, yt, xv, yv, xt.shape[1], int(cfg.n_classes), counts)
