"""A CSV with string labels and an .npz file train end to end, headless, in a child process."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from helpers import cli_command
from sklearn.datasets import load_iris

from mlp_tui.persist.table import read_table

NAMES = np.array(["setosa", "versicolor", "virginica"])


def _iris_files(folder):
    bunch = load_iris()
    csv = folder / "flowers.csv"
    lines = ["sepal_l,sepal_w,species,petal_l,petal_w"]  # the target is not the last column
    for x, y in zip(bunch.data, bunch.target):
        lines.append(f"{x[0]},{x[1]},{NAMES[y]},{x[2]},{x[3]}")
    csv.write_text("\n".join(lines) + "\n")
    npz = folder / "flowers.npz"
    np.savez(npz, X=bunch.data, y=NAMES[bunch.target])
    return {"csv": (csv, ["--target", "species"]), "npz": (npz, [])}


@pytest.mark.parametrize("kind", ["csv", "npz"])
def test_user_data_trains_headless(kind, tmp_path):
    path, flags = _iris_files(tmp_path)[kind]
    export = tmp_path / "r.csv"
    cmd = [*cli_command(), "--dataset", str(path), *flags, "--widths", "100", "--epochs", "150",
           "--lr", "0.05", "--val-split", "0.2", "--speed", "0", "--headless",
           "--export", str(export)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (row,) = read_table(export)
    assert row["dataset"] == str(path) and row["status"] == "finished"
    assert row["epochs_done"] == 150
    assert row["final_train_acc"] > 0.6  # three classes: chance is 1/3, the labels were mapped
