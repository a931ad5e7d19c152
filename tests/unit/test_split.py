"""engine/split.py draws the same validation split as scikit-learn's stratified
train_test_split, index for index, so that dropping the scikit-learn import changed no run."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from mlp_tui.engine.split import stratified_split


def _labels(counts: tuple[int, ...], seed: int) -> np.ndarray:
    y = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(seed).permutation(y)


CASES = [  # class counts: iris, wine, breast cancer, digits, uneven, two-member classes
    (50, 50, 50), (59, 71, 48), (212, 357), (178, 182, 177, 183, 181, 182, 181, 179, 174, 180),
    (7, 3, 11, 2, 5), (2, 2, 2, 2, 2, 2, 2, 2),
]


@pytest.mark.parametrize("counts", CASES, ids=[f"{len(c)}classes-{sum(c)}" for c in CASES])
@pytest.mark.parametrize("test_size", [0.1, 0.2, 0.25, 1 / 3, 0.5])
def test_the_split_is_scikit_learns(counts, test_size):
    for seed in (0, 1, 7, 42, 2**32 - 1):
        y = _labels(counts, seed)
        x = np.arange(len(y) * 2, dtype=np.float64).reshape(len(y), 2)
        n_test = int(np.ceil(test_size * len(y)))
        if n_test < len(counts) or len(y) - n_test < len(counts):
            with pytest.raises(ValueError):
                stratified_split(x, y, test_size, seed)
            continue
        ours = stratified_split(x, y, test_size, seed)
        theirs = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
        for a, b in zip(ours, theirs, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_class_of_one_sample_is_refused():
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="smallest has 1"):
        stratified_split(np.zeros((7, 1)), y, 0.5, 0)
