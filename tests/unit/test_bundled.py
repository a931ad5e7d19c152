"""The bundled datasets read without scikit-learn are scikit-learn's own arrays, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mlp_tui.engine.bundled import FILES, read_bundled


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_bundled_dataset_is_sklearns_own(name):
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")()
    x, y = read_bundled(name)
    assert x.dtype == bunch.data.dtype and y.dtype == bunch.target.dtype
    assert np.array_equal(x, bunch.data) and np.array_equal(y, bunch.target)


def test_the_default_dataset_loads_without_importing_sklearn():
    code = (
        "import sys; from mlp_tui.core.config import ExperimentConfig, validate;"
        "from mlp_tui.engine.data import prepare; a = prepare(validate(ExperimentConfig()));"
        "print(a.x.shape, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["(150,", "4)", "False"], out.stderr
