"""Regression through every path a classification takes: worker processes give the thread
backend's numbers bit for bit, stacked seeds train it, the TensorBoard log and the history file
read back as a regression, and the config sidecar reproduces it."""

from __future__ import annotations

import subprocess

import pytest
from helpers import cli_command

from mlp_tui.persist.table import read_table

pytestmark = pytest.mark.e2e

ARGS = ["--headless", "--speed", "0", "--dataset", "diabetes", "--standardize", "--val-split",
        "0.2", "--epochs", "40", "--widths", "8,64"]


def _run(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run([*cli_command(), *ARGS, *extra], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def _history(path) -> list[tuple]:
    """Every row's numbers, by run and epoch: the order runs' rows interleave in the file is the
    recorder's timing, not a number."""
    import csv

    with open(path) as f:
        rows = [(r["run"], r["epoch"], r["train_loss"], r["val_r2"]) for r in csv.DictReader(f)]
    return sorted(rows, key=lambda r: (int(r[0]), int(r[1])))


def test_process_backend_and_sidecar_reproduce_the_thread_backend(tmp_path):
    _run(tmp_path, "--history", "t.csv", "--export", "t_table.csv")
    _run(tmp_path, "--backend", "process", "--workers", "2", "--history", "p.csv")
    assert _history(tmp_path / "t.csv") == _history(tmp_path / "p.csv")  # bit for bit
    again = subprocess.run([*cli_command(), "--config", "t_table.config.toml", "--headless",
                            "--history", "c.csv"], cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
    assert _history(tmp_path / "t.csv") == _history(tmp_path / "c.csv")


def test_stacked_seeds_and_tensorboard_read_back_as_a_regression(tmp_path):
    _run(tmp_path, "--stack", "--repeats", "3", "--tensorboard", "tb", "--export", "s.csv")
    rows = read_table(tmp_path / "s.csv")
    assert len(rows) == 6 and all(r["status"] == "finished" for r in rows)
    assert all(r["final_val_r2"] is not None and r["final_train_mae"] > 0 for r in rows)
    replay = subprocess.run([*cli_command(), "replay", "tb", "--headless"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert replay.returncode == 0, replay.stderr
    head = replay.stdout.splitlines()[0].split()
    assert {"train_r2", "val_r2", "train_mae", "val_mae"} <= set(head)
