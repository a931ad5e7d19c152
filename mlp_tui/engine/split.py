"""The validation splits, index for index the ones scikit-learn's
`train_test_split(x, y, test_size=f, stratify=y, random_state=seed)` returns
(tests/unit/test_split.py), without importing scikit-learn: importing its model_selection
costs about a second of every start with --val-split, most of it scipy.

The steps are `StratifiedShuffleSplit._iter_indices` (scikit-learn 1.x): the validation count
is ceil(f * n) (`core.userdata.val_count`, which the checks before a run use too); each class's
share of the train and validation counts is the approximate mode of the multivariate
hypergeometric (ties broken by the generator); each class's samples are drawn by one
permutation; the two index lists are permuted once more. Same generator
(`numpy.random.RandomState(seed)`), same draws in the same order.
"""

from __future__ import annotations

import numpy as np

from mlp_tui.core.userdata import val_count


def stratified_split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int):
    """(x_train, x_val, y_train, y_val), as scikit-learn's stratified train_test_split."""
    n = len(y)
    n_test = val_count(n, test_size)
    n_train = n - n_test
    classes, y_indices, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2 or n_train < len(classes) or n_test < len(classes):
        raise ValueError(
            f"a stratified split of {n} samples with {len(classes)} classes (the smallest "
            f"has {counts.min()}) into {n_train} and {n_test} is not possible")
    class_indices = np.split(np.argsort(y_indices.ravel(), kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train: list = []
    test: list = []
    for i in range(len(classes)):
        drawn = class_indices[i].take(rng.permutation(counts[i]), mode="clip")
        train.extend(drawn[: n_i[i]])
        test.extend(drawn[n_i[i] : n_i[i] + t_i[i]])
    train_idx, test_idx = rng.permutation(train), rng.permutation(test)
    return x[train_idx], x[test_idx], y[train_idx], y[test_idx]


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState):
    """Draws per class, summing to n_draws: the floors of the proportional shares, then one
    more for the largest remainders (ties drawn at random), as scikit-learn's."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need -= add_now
            if need == 0:
                break
    return floored.astype(int)


def shuffled_split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int):
    """(x_train, x_val, y_train, y_val), as scikit-learn's `train_test_split` without
    `stratify` (`ShuffleSplit._iter_indices`): one permutation, the validation rows first."""
    n = len(y)
    n_test = val_count(n, test_size)
    perm = np.random.RandomState(seed).permutation(n)
    test_idx, train_idx = perm[:n_test], perm[n_test:n]
    return x[train_idx], x[test_idx], y[train_idx], y[test_idx]
