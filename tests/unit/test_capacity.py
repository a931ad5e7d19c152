"""The capacity curve: loss against width, from the recorded histories, at an epoch or at each
run's best validation epoch; the table written from it."""

from __future__ import annotations

import json
import math

import pytest
from helpers import DATA

from mlp_tui.persist.table import read_table, write_capacity
from mlp_tui.report.capacity import CAPACITY_COLUMNS, capacity_points, capacity_rows, varying
from mlp_tui.session.replay import ReplaySession

WIDTHS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]


@pytest.fixture(scope="module")
def cap_runs():
    return ReplaySession(DATA / "cap.csv").runs


@pytest.fixture(scope="module")
def rep_runs():
    return ReplaySession(DATA / "rep5.csv").runs


def value_at(run, metric: str, epoch: int) -> float:
    return run.history.read(epoch - 1, epoch).record(0)[metric]


@pytest.mark.parametrize("epoch", [1, 37, 300, None])
def test_points_are_each_runs_values_at_the_epoch(cap_runs, epoch):
    points = capacity_points(cap_runs, "epoch", epoch)
    assert [p.width for p in points] == WIDTHS
    for p, run in zip(points, sorted(cap_runs, key=lambda r: r.width)):
        at = epoch or len(run.history)
        assert p.epochs == (at,) and p.runs == 1
        for m in ("train_loss", "val_loss", "train_acc", "val_acc"):
            assert p.values[m].mean == value_at(run, m, at)
            assert p.values[m].std == 0.0


def test_best_basis_reads_each_run_at_its_best_validation_epoch(cap_runs):
    points = capacity_points(cap_runs, "best")
    for p, run in zip(points, sorted(cap_runs, key=lambda r: r.width)):
        best, at = run.history.best("val_loss")
        assert p.epochs == (at,) and p.values["val_loss"].mean == best


def test_best_width_is_the_lowest_mean_validation_loss(cap_runs):
    points = capacity_points(cap_runs, "epoch", 300)
    best = [p for p in points if p.best]
    assert len(best) == 1
    assert best[0].values["val_loss"].mean == min(p.values["val_loss"].mean for p in points)


def test_an_epoch_not_reached_leaves_the_run_out(cap_runs):
    points = capacity_points(cap_runs, "epoch", 301)
    assert all(p.runs == 0 and p.values["train_loss"] is None for p in points)
    assert not any(p.best for p in points)


def test_seeds_pool_as_mean_std_min_max(rep_runs):
    points = capacity_points(rep_runs, "epoch", 120)
    assert [(p.width, p.runs) for p in points] == [(5, 5), (100, 5), (1000, 5)]
    for p in points:
        vals = [value_at(r, "train_loss", 120) for r in rep_runs if r.width == p.width]
        st = p.values["train_loss"]
        assert st.mean == pytest.approx(sum(vals) / 5, rel=1e-12)
        assert st.lo == min(vals) and st.hi == max(vals)
        mean = sum(vals) / 5
        # the sample std (n - 1), as pandas and most readers compute it (#23)
        assert st.std == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in vals) / 4))


def test_one_line_per_depth(cap_runs):
    class Deeper:  # the same run, claiming another depth
        def __init__(self, run):
            self._run, self.history, self.width = run, run.history, run.width
            self.meta = {**run.meta, "depth": 3}

    runs = [*cap_runs, *(Deeper(r) for r in cap_runs[:3])]
    points = capacity_points(runs, "epoch", 10)
    assert varying(points) == ("depth",)
    assert [(dict(p.line)["depth"], p.width) for p in points][-3:] == [(3, 2), (3, 4), (3, 8)]
    assert sum(p.best for p in points) == 2  # one best width per line


@pytest.mark.parametrize("suffix", [".csv", ".json", ".md"])
def test_capacity_table_round_trips(tmp_path, cap_runs, suffix):
    rows = capacity_rows(capacity_points(cap_runs, "epoch", 300), "epoch")
    path = write_capacity(tmp_path / f"cap{suffix}", rows)
    back = read_table(path)
    assert [r["width"] for r in back] == WIDTHS
    assert list(back[0]) == list(CAPACITY_COLUMNS)
    digits = 4 if suffix == ".md" else 15
    for row, mine in zip(back, rows):
        assert float(row["train_loss_mean"]) == pytest.approx(mine["train_loss_mean"],
                                                               rel=10 ** -digits * 5)
    assert sum(r["best_by_val_loss"] in (True, "true") for r in back) == 1
    if suffix == ".json":
        assert json.loads(path.read_text())[0]["at"] == "epoch"
