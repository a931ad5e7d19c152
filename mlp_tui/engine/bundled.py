"""scikit-learn's bundled datasets (classification, and the regression sets diabetes and
linnerud), read straight from its data files: the same arrays as `sklearn.datasets.load_*` with
their defaults (tests/unit/test_bundled.py; diabetes' features come mean-centred and scaled, as
`load_diabetes()` gives them), without importing scikit-learn, a second of start-up in the app
and in every test or worker process."""

from __future__ import annotations

import csv
import gzip
import importlib.util
from pathlib import Path

import numpy as np

# name -> its file in sklearn/datasets/data (as the sklearn loaders name them)
FILES = {
    "iris": "iris.csv",
    "wine": "wine_data.csv",
    "breast_cancer": "breast_cancer.csv",
    "digits": "digits.csv.gz",
    "diabetes": "diabetes_data_raw.csv.gz",
    "linnerud": "linnerud_exercise.csv",
}
TARGET_FILES = {"diabetes": "diabetes_target.csv.gz", "linnerud": "linnerud_physiological.csv"}


def _data_dir() -> Path | None:
    """sklearn/datasets/data, located without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def read_bundled(name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(features float64, labels int) of a bundled dataset, or None where its file is not where
    this scikit-learn keeps it (the caller then asks scikit-learn itself)."""
    folder = _data_dir()
    if folder is None or name not in FILES or not (folder / FILES[name]).is_file():
        return None
    path = folder / FILES[name]
    if name in TARGET_FILES:
        return _regression(name, folder)
    if path.suffix == ".gz":  # as load_digits: one table, the label in the last column
        with gzip.open(path, mode="rt", encoding="utf-8") as text:
            data = np.loadtxt(text, delimiter=",")
        return data[:, :-1], data[:, -1].astype(int, copy=False)
    with path.open("r", encoding="utf-8") as text:  # as load_csv_data: "n,k,names..." first
        rows = csv.reader(text)
        head = next(rows)
        n, k = int(head[0]), int(head[1])
        x = np.empty((n, k))
        y = np.empty((n,), dtype=int)
        for i, row in enumerate(rows):
            x[i] = np.asarray(row[:-1], dtype=np.float64)
            y[i] = np.asarray(row[-1], dtype=int)
    return x, y


def _regression(name: str, folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(features, targets float64 with one column a target) as load_diabetes / load_linnerud."""
    target = folder / TARGET_FILES[name]
    if not target.is_file():
        return None
    skip = 1 if name == "linnerud" else 0  # its first line names the columns
    x = np.loadtxt(folder / FILES[name], skiprows=skip)
    y = np.loadtxt(target, skiprows=skip)
    if name == "diabetes":  # load_diabetes(): sklearn.preprocessing.scale, then / sqrt(n)
        _scale(x)
        x /= x.shape[0] ** 0.5
    return x, y


def _scale(x: np.ndarray) -> None:
    """`sklearn.preprocessing.scale(x, copy=False)` step for step (its statistics taken before
    centring, and its corrections), so the arrays are equal to the bit."""
    mean, std = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    x -= mean
    mean_1 = np.nanmean(x, axis=0)
    if not np.allclose(mean_1, 0):
        x -= mean_1
    x /= np.where(std < 10 * np.finfo(std.dtype).eps, 1.0, std)
    mean_2 = np.nanmean(x, axis=0)
    if not np.allclose(mean_2, 0):
        x -= mean_2
