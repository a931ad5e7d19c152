"""SVG snapshots of deterministic screens: a replayed, finished run of the notebook's setup.

Update after an intended change with `pytest tests/ui/test_snapshots.py --snapshot-update`, and
look at the SVGs before committing them."""

from __future__ import annotations

from ui_helpers import DATA

from mlp_tui.app import MlpTuiApp
from mlp_tui.replay import ReplaySession


def finished_app() -> MlpTuiApp:
    return MlpTuiApp(ReplaySession(DATA / "iris_seed0.jsonl"))


def test_finished_run_160x45(snap_compare):
    assert snap_compare(finished_app(), terminal_size=(160, 45))


def test_finished_run_80x24(snap_compare):
    assert snap_compare(finished_app(), terminal_size=(80, 24))


def test_terminal_too_small(snap_compare):
    assert snap_compare(finished_app(), terminal_size=(50, 12))


def test_grid_of_small_plots(snap_compare):
    assert snap_compare(finished_app(), press=["g"], terminal_size=(160, 45))


def test_log_scale(snap_compare):
    assert snap_compare(finished_app(), press=["l"], terminal_size=(160, 45))


def test_smoothing_ema_09(snap_compare):
    assert snap_compare(finished_app(), press=["s", "s"], terminal_size=(160, 45))


def test_outlier_robust_range(snap_compare):
    assert snap_compare(finished_app(), press=["o"], terminal_size=(160, 45))


def test_diverged_run(snap_compare):
    app = MlpTuiApp(ReplaySession(DATA / "diverged.jsonl"))
    assert snap_compare(app, terminal_size=(160, 45))
